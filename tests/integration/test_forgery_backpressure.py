"""No silent loss on the development cluster (issue 15): a gateway pointed at
`xoevgate dev-kafka` WITHOUT kafka.backlog_bytes_per_partition recognises librdkafka's
mock cluster by its cluster id and applies the embedded back-pressure; a target that
rejects everything (max_attempts 1, the inbox is a file) fills the dead-letter topic,
and the deliverer holds further dead letters (they stay in the destination topic)
instead of letting the mock cluster drop old ones. In the end the gateway answers
503 backlog-full, and every accepted message is still visible: in the DLQ or in the
destination topic, with nothing dropped from either (log start offsets stay 0)."""
import subprocess
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

from harness import (TESTDATA, XOEVGATE, free_port, post_xml, run_with_processes, start_dev_kafka, wait_ready,
                     wait_until, with_new_uuid, write_config)

SAMPLE = TESTDATA / "xwasser/tests/administration_receipt.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aaf"
# Bytes of comment per message: a few fill a 3 MiB partition budget, and each stays one
# record (below kafka.chunk_bytes; a chunked message waits for room instead of 503).
PADDING = 240_000


def padded_sample():
    text = SAMPLE.read_bytes()
    decl_end = text.index(b"?>") + 2
    return text[:decl_end] + b"\n<!--" + b"x" * PADDING + b"-->" + text[decl_end:]


def topic_records(bootstrap, topic, group=None):
    """({partition: (low watermark, start)}, keys of the records from start on), where start
    is `group`'s committed offset (the low watermark without a group or commit)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group or "test-" + str(uuid.uuid4()),
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        partitions = list(c.list_topics(topic, timeout=10).topics[topic].partitions)
        starts = {}
        committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, p) for p in partitions], 10)}
        for p in partitions:
            low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            starts[p] = (committed[p] if group and committed[p] >= 0 else low, high, low)
        c.assign([TopicPartition(topic, p, start) for p, (start, high, _) in starts.items() if start < high])
        remaining = sum(max(0, high - start) for start, high, _ in starts.values())
        keys = []
        while remaining > 0:
            m = c.poll(5)
            if m is None:
                break
            if not m.error():
                keys.append(m.key().decode())
                remaining -= 1
        return {p: (low, start) for p, (start, _, low) in starts.items()}, keys
    finally:
        c.close()


def main():
    run_with_processes("xoev-forgery-bp-", run, ("gateway", "deliver"))


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs)
    port = free_port()
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       [("dead", "      type: file\n      directory: inbox/dead\n      max_attempts: 1\n")],
                       [("all", {"standard": "XWasser"}, "dead")])
    (work / "inbox").mkdir()
    (work / "inbox/dead").write_text("a file where the inbox directory should be: every delivery fails")
    check("backlog_bytes_per_partition" not in cfg.read_text(), "the config sets no back-pressure by hand")
    procs.start("gateway", "serve", "--config", str(cfg))
    procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "dead")
    if not check(wait_ready(port), "gateway ready"):
        return
    check(wait_until(lambda: "mockCluster" in procs.log("gateway"), 20, "cluster identified"),
          "the gateway identifies dev-kafka as the mock cluster by its cluster id")

    template = padded_sample()
    accepted, refusal = [], None
    for _ in range(80):
        body, mid = with_new_uuid(template, SAMPLE_ID)
        status, answer, _ = post_xml(port, body)
        if status == 202:
            accepted.append(mid)
            continue
        refusal = (status, answer)
        if status == 503 and "backlog-full" in str(answer.get("type", "")):
            # The deliverer may free room by dead-lettering; stop once the DLQ holds too.
            if "near the cluster's per-partition limit" in procs.log("deliver"):
                break
            time.sleep(1)
            continue
        break
    check(len(accepted) > 0, f"messages of ~{PADDING // 1000} KB are accepted at first ({len(accepted)})")
    check(refusal is not None and refusal[0] == 503 and "backlog-full" in str(refusal[1].get("type", "")),
          f"then 503 backlog-full, before the cluster would drop anything ({refusal and refusal[0]})")
    check("near the cluster's per-partition limit" in procs.log("deliver"),
          "the deliverer holds dead letters while the DLQ is near the limit")

    dlq, dlq_keys = topic_records(bootstrap, "xoev.dlq.dead")
    dest, undelivered = topic_records(bootstrap, "xoev.test.dead", group="xoevgate.dead")
    # The mock may trim what was dead-lettered already (it is in the DLQ), never what was not.
    check(all(low == 0 for low, _ in dlq.values()) and all(low <= start for low, start in dest.values()),
          f"nothing dropped from the DLQ ({dlq}) nor undelivered from the destination topic ({dest})")
    missing = set(accepted) - set(dlq_keys) - set(undelivered)
    check(not missing, f"every accepted message is visible: {len(dlq_keys)} dead letters, {len(undelivered)} "
                       f"waiting, {len(missing)} missing of {len(accepted)}")
    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", "dead"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and len(r.stdout.splitlines()) == len(dlq_keys),
          f"dlq list shows every dead letter ({len(r.stdout.splitlines())})")


if __name__ == "__main__":
    main()
