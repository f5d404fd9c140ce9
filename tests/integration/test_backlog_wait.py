"""Flow control for single-record messages (kafka.backlog_wait): on `xoevgate dev-kafka`
with a 1 MiB backlog budget and no deliverer running, three ~240 KB messages are
accepted; the fourth does not fit and is neither refused nor produced: its request
waits. Once the deliverer starts and drains the topic, the waiting request gets 202
and all four messages arrive in the inbox, byte-identical."""
import subprocess
import threading
import time

from harness import (TESTDATA, free_port, request, run_with_processes, wait_ready, wait_until,
                     with_new_uuid, write_config)

SAMPLE = TESTDATA / "xwasser/tests/administration_receipt.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aaf"
PADDING = 240_000  # one record each (below kafka.chunk_bytes); ~330 KB sealed: three fit 1 MiB


def padded_sample():
    text = SAMPLE.read_bytes()
    decl_end = text.index(b"?>") + 2
    return text[:decl_end] + b"\n<!--" + b"x" * PADDING + b"-->" + text[decl_end:]


def main():
    run_with_processes("xoev-backlog-wait-", run, logs=("gateway", "deliver"))


def run(work, procs, check):
    # One partition: the budget is per partition, and the four keys must share it.
    dev = procs.start("dev-kafka", "dev-kafka", "--brokers", "1", "--topic", "xoev.test.wait:1", stdout=subprocess.PIPE)
    bootstrap = dev.stdout.readline().decode().strip()
    port = free_port()
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       [("wait", "      type: file\n      directory: inbox\n")],
                       [("all", {"standard": "XWasser"}, "wait")],
                       extra_kafka="  backlog_bytes_per_partition: 1048576\n  backlog_wait: 60s")
    procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_ready(port), "gateway ready"):
        return

    template = padded_sample()
    bodies = [with_new_uuid(template, SAMPLE_ID) for _ in range(4)]
    for body, mid in bodies[:3]:
        status, answer, _ = request(port, "POST", "/v1/messages", body, {"Content-Type": "application/xml"})
        check(status == 202, f"message {mid} fits the budget: 202 ({status} {answer})")

    answered = {}

    def post_fourth():
        body, _ = bodies[3]
        started = time.monotonic()
        answered["status"], answered["answer"], _ = request(port, "POST", "/v1/messages", body,
                                                            {"Content-Type": "application/xml"}, timeout=90)
        answered["after"] = time.monotonic() - started

    waiting = threading.Thread(target=post_fourth)
    waiting.start()
    time.sleep(3)
    check("status" not in answered, f"the fourth message waits for room instead of a 503 ({answered})")

    procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "wait")
    waiting.join(90)
    check(answered.get("status") == 202,
          f"once the deliverer drains the topic the waiting request is accepted: 202 after "
          f"{answered.get('after', 0):.1f} s ({answered.get('status')} {answered.get('answer')})")
    delivered = wait_until(lambda: all((work / "inbox" / f"{mid}.xml").exists() for _, mid in bodies), 60,
                           "four messages delivered")
    check(delivered, "all four messages are delivered")
    if delivered:
        check(all((work / "inbox" / f"{mid}.xml").read_bytes() == body for body, mid in bodies),
              "byte-identical")


if __name__ == "__main__":
    main()
