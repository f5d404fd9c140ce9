"""Issue 12: 50 reloads while messages flow. Two configs move reader xyz:0002 between
destinations `links` and `rechts`; every fifth reload is followed by an invalid config
that must change nothing (422 / refused SIGHUP, version unchanged). Half the reloads go
through POST /admin/reload, half through SIGHUP. Afterwards every accepted message is
delivered exactly once, into the inbox of the destination its 202 named, and that
destination is the one the table named by its receipt's routingVersion routes to;
nothing accepted is lost.

The issue's 10,000 messages take about 85 s on two shared cores, so that is the default;
XOEV_RELOAD_MESSAGES sets another count (senders go on until all 50 reloads are done)."""
import os
import signal
import threading
import time
import uuid
from pathlib import Path

from harness import TESTDATA, free_port, post_xml, request, run_with_processes, wait_until, write_config

SAMPLE = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"  # leser xyz:0002
SAMPLE_ID = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb"
MESSAGES = int(os.environ.get("XOEV_RELOAD_MESSAGES", "10000"))
RELOADS = 50
SENDERS = 4


def write_atomically(path, text):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run(work, procs, check):
    port = free_port()
    file_adapter = lambda d: f"      type: file\n      directory: inbox/{d}\n      in_process: true\n"
    cfg = write_config(work, "embedded", f"127.0.0.1:{port}",
                       destinations=[("links", file_adapter("links")), ("rechts", file_adapter("rechts"))],
                       routes=[("leser-zwei", {"reader": "xyz:0002"}, "links"),
                               ("rest", {"standard": "XBeteiligung"}, "rechts")],
                       extra_kafka="  partitions: 2\n")
    config = {"links": cfg.read_text()}
    config["rechts"] = config["links"].replace("destination: links\n", "destination: rechts\n", 1)
    invalid = config["links"].replace("destination: links\n", "destination: nirgendwo\n", 1)
    check(config["rechts"] != config["links"], "the two configs differ")
    gateway = procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_until(lambda: request(port, "GET", "/readyz", timeout=3)[0] == 200, 90, "ready"), "gateway ready"):
        return

    def live_version():
        return request(port, "GET", "/admin/routes")[1]["version"]

    fingerprint_to_destination = {live_version().split("-")[1]: "links"}

    accepted, refused, lock = {}, [], threading.Lock()  # id -> destination from the 202
    sent = [0]
    reloads_done = threading.Event()

    def sender():
        body = SAMPLE.read_bytes()
        while True:
            with lock:
                if (sent[0] >= MESSAGES and reloads_done.is_set()) or sent[0] >= 3 * MESSAGES:
                    return
                sent[0] += 1
            mid = str(uuid.uuid4())
            message = body.replace(SAMPLE_ID.encode(), mid.encode())
            deadline = time.time() + 120
            while True:
                try:
                    status, answer, _ = post_xml(port, message)
                except OSError as e:
                    status, answer = 0, str(e)
                if status == 503 and time.time() < deadline:
                    time.sleep(0.2)  # back-pressure: like a well-behaved client
                    continue
                break
            with lock:
                if status == 202:
                    accepted[mid] = answer["destination"]
                else:
                    refused.append((mid, status, answer))

    def reloader():
        try:
            for i in range(RELOADS):
                target = "rechts" if i % 2 == 0 else "links"
                write_atomically(cfg, config[target])
                before = live_version()
                if i % 2 == 0:
                    s, p, _ = request(port, "POST", "/admin/reload", timeout=60)
                    check(s == 200, f"reload {i} by POST accepted ({s} {p})")
                    version = p.get("version", "")
                else:
                    gateway.send_signal(signal.SIGHUP)
                    wait_until(lambda: live_version() != before, 60, f"SIGHUP reload {i}")
                    version = live_version()
                check(version.startswith(f"{i + 2}-"), f"reload {i} gives version {i + 2} ({version})")
                fingerprint_to_destination.setdefault(version.split("-")[1], target)
                check(fingerprint_to_destination[version.split("-")[1]] == target,
                      f"one fingerprint per table ({version} for {target})")
                if i % 5 == 4:  # an invalid config in between: nothing changes
                    write_atomically(cfg, invalid)
                    s, p, _ = request(port, "POST", "/admin/reload", timeout=60)
                    check(s == 422 and p.get("version") == version, f"invalid reload refused, version stays ({s} {p})")
                    check(live_version() == version, "after the invalid reload the same table is live")
                time.sleep(0.05)
        finally:
            reloads_done.set()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)] + [threading.Thread(target=reloader)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{sent[0]} messages and {RELOADS} reloads in {time.time() - started:.1f}s", flush=True)
    check(not refused, f"every message accepted ({len(refused)} refused, first {refused[:3]})")
    check(len(set(fingerprint_to_destination.values())) == 2 and len(fingerprint_to_destination) == 2,
          f"two tables, two fingerprints ({fingerprint_to_destination})")
    check(set(accepted.values()) == {"links", "rechts"}, "messages went to both destinations while reloading")

    inbox = {d: work / "inbox" / d for d in ("links", "rechts")}
    files = lambda d: {p.stem for p in inbox[d].glob("*.xml")} if inbox[d].exists() else set()
    check(wait_until(lambda: len(files("links")) + len(files("rechts")) >= len(accepted), 180, "all deliveries"),
          f"all {len(accepted)} accepted messages delivered")
    landed = {d: files(d) for d in inbox}
    misplaced = [m for m, d in accepted.items() if m not in landed[d]]
    check(not misplaced, f"each message in the inbox its 202 named ({len(misplaced)} not, e.g. {misplaced[:3]})")
    check(not (landed["links"] & landed["rechts"]), "no message in both inboxes")
    check(landed["links"] | landed["rechts"] == set(accepted), "nothing delivered that was not accepted")

    wrong_version, twice = [], []
    for mid, dest in accepted.items():
        s, st, _ = request(port, "GET", f"/v1/messages/{mid}")
        version = st.get("routingVersion", "") if s == 200 else ""
        if fingerprint_to_destination.get(version.split("-")[-1]) != dest:
            wrong_version.append((mid, dest, version))
        if [h["status"] for h in st.get("history", [])].count("delivered") != 1:
            twice.append((mid, st.get("history")))
    check(not wrong_version, f"each destination is the one its receipt's routingVersion routes to "
                             f"({len(wrong_version)} not, e.g. {wrong_version[:3]})")
    check(not twice, f"each message delivered exactly once ({len(twice)} not, e.g. {twice[:2]})")
    metrics = request(port, "GET", "/metrics")[1].decode()
    check(f"xoevgate_config_reloads_total {RELOADS}" in metrics and
          f"xoevgate_config_reload_failures_total {RELOADS // 5}" in metrics,
          "reloads and refused reloads counted")


if __name__ == "__main__":
    run_with_processes("xoev-reload-load-", run)
