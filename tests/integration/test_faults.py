"""Issue 5 fault tests, bounded in time. A few thousand messages per scenario go
through gateway → dev-kafka → deliverer → an HTTP "Fachverfahren" run by this test,
which counts deliveries per Idempotency-Key. Scenarios: kill -9 of the gateway, kill -9
of the deliverer, Kafka brokers down and up, the target answering 500 and timing out
(then dead letters and a replay). After each: every acknowledged message (202, or 200
for a resend) is delivered exactly once as the target sees it (by Idempotency-Key),
nothing is lost, no message is POSTed twice except in the one window a kill -9 of the
deliverer explains, and a one-line summary is printed."""
import json
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import (run_with_processes, XOEVGATE, TESTDATA, free_port, post_xml, start_dev_kafka, wait_ready,
                     wait_until, with_new_uuid, write_config)

SAMPLE = (TESTDATA / "xwasser/tests/quality_report_minimal.xml").read_bytes()
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"
PER_SCENARIO = 2000


class Target:
    """The Fachverfahren: records every POST it accepts per Idempotency-Key (body and the
    deliverer's X-Xoev-Attempt); can fail or hang on demand."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = {}
        self.attempts = {}
        self.mode = "ok"
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                attempt = self.headers.get("X-Xoev-Attempt", "")
                mode = target.mode
                if mode == "hang":
                    time.sleep(3)
                if mode in ("fail", "hang"):
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with target.lock:
                    target.posts.setdefault(key, []).append(body)
                    target.attempts.setdefault(key, []).append(attempt)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        with self.lock:
            return {k: len(v) for k, v in self.posts.items()}

    def redeliveries(self, keys):
        """Repeats of a key that began a fresh handling of the record (attempt 1 again):
        the deliverer forgot it had delivered. A repeat with a higher attempt is the
        same handling retrying after it lost the 2xx (a timeout) and is no redelivery."""
        with self.lock:
            return {k: self.attempts[k][1:].count("1") for k in keys if self.attempts.get(k, [])[1:].count("1")}


class Load:
    """Senders like real clients: on 503 or a broken connection, send the same message again."""

    def __init__(self, port, count, threads=8):
        self.port, self.count = port, count
        self.sent = 0
        self.acked = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]
        self.per_thread = count // threads

    def run(self, _):
        for _ in range(self.per_thread):
            body, mid = with_new_uuid(SAMPLE, SAMPLE_ID)
            with self.lock:
                self.sent += 1
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    status, answer, _ = post_xml(self.port, body)
                except OSError:
                    time.sleep(0.2)
                    continue
                if status in (200, 202):
                    with self.lock:
                        self.acked.add(mid)
                    break
                time.sleep(0.2)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join()


def summary(name, load, target, check, explained_redeliveries=0):
    """One line per scenario, and the exactly-once checks. `duplicates` counts POSTs the
    target got more than once for the same Idempotency-Key; all of them carry that key,
    so the target drops them and sees each message once. Of those, a `redelivery` starts
    a new handling (X-Xoev-Attempt 1 again). The deliverer handles one record at a time
    and makes its ledger entry durable before it commits the offset, so the only window
    for a redelivery is a kill -9 between the target's 2xx and the ledger's fsync: at most
    one message per kill of the deliverer. Any other redelivery means the ledger or the
    commit order is broken."""
    delivered = target.delivered()
    acked = load.acked
    mine = {m: delivered[m] for m in acked if m in delivered}
    lost = [m for m in acked if m not in delivered]
    duplicates = sum(n - 1 for n in mine.values())
    redelivered = target.redeliveries(mine)
    redeliveries = sum(redelivered.values())
    print(f"scenario {name}: sent {load.sent}, acknowledged {len(acked)}, delivered {len(mine)}, "
          f"duplicates {duplicates} (redeliveries {redeliveries}), lost {len(lost)}", flush=True)
    check(not lost, f"{name}: no acknowledged message lost ({len(lost)} lost)")
    check(len(acked) == load.sent, f"{name}: every message eventually acknowledged ({len(acked)}/{load.sent})")
    check(redeliveries <= explained_redeliveries,
          f"{name}: each message delivered exactly once ({redeliveries} redeliveries, {explained_redeliveries} "
          f"explained by a kill -9 of the deliverer; keys {sorted(redelivered)[:5]})")
    return redeliveries


def main():
    run_with_processes("xoev-faults-", run, ("gateway", "deliver"))


def run(work, procs, check):
    kafka, bootstrap = start_dev_kafka(procs, control=True)

    def kafka_cmd(cmd):
        kafka.stdin.write((cmd + "\n").encode())
        kafka.stdin.flush()
        return kafka.stdout.readline().decode().strip()

    target = Target()
    port = free_port()
    adapter = (f"      type: http\n      url: http://127.0.0.1:{target.port}/inbox\n      timeout: 2s\n"
               "      max_attempts: 6\n      initial_backoff: 200ms\n      max_backoff: 1s\n")
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}", [("fv", adapter)], [("all", {"standard": "XWasser"}, "fv")],
                       extra_kafka="  backlog_bytes_per_partition: 3145728")
    start_gateway = lambda: procs.start("gateway", "serve", "--config", str(cfg))
    start_deliver = lambda: procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "fv")
    gw, dl = start_gateway(), start_deliver()
    if not check(wait_ready(port), "gateway ready"):
        return
    all_acked = set()

    def settle(load, name, deliverer_kills=0):
        ok = wait_until(lambda: all(m in target.delivered() for m in load.acked), 180, f"{name}: deliveries")
        check(ok, f"{name}: all acknowledged messages reach the target")
        all_acked.update(load.acked)
        return summary(name, load, target, check, explained_redeliveries=deliverer_kills)

    # 1. kill -9 the gateway mid-load, start it again.
    load = Load(port, PER_SCENARIO).start()
    wait_until(lambda: len(load.acked) > PER_SCENARIO // 3, 120, "load under way")
    gw.send_signal(signal.SIGKILL)
    gw.wait()
    time.sleep(1)
    gw = start_gateway()
    check(wait_ready(port), "gateway ready again after kill -9")
    load.join()
    settle(load, "kill-gateway")

    # 2. kill -9 the deliverer mid-load, start it again (the ledger suppresses repeats).
    load = Load(port, PER_SCENARIO).start()
    wait_until(lambda: len(target.delivered()) > len(all_acked) + PER_SCENARIO // 3, 120, "deliveries under way")
    dl.send_signal(signal.SIGKILL)
    dl.wait()
    dl = start_deliver()
    load.join()
    settle(load, "kill-deliverer", deliverer_kills=1)

    # 3. Kafka brokers down and up while traffic flows.
    load = Load(port, PER_SCENARIO).start()
    wait_until(lambda: len(load.acked) > PER_SCENARIO // 4, 120, "load under way")
    check(kafka_cmd("down 2").startswith("ok"), "broker 2 down")
    check(kafka_cmd("down 3").startswith("ok"), "broker 3 down")
    time.sleep(4)
    check(kafka_cmd("up 2").startswith("ok"), "broker 2 up")
    check(kafka_cmd("up 3").startswith("ok"), "broker 3 up")
    load.join()
    settle(load, "brokers-down-up")

    # 4. The target fails (500) and hangs (timeouts) for a while; what exceeds the
    # retry budget is dead-lettered and a replay delivers it.
    target.mode = "fail"
    load = Load(port, PER_SCENARIO // 2).start()
    time.sleep(4)
    target.mode = "hang"
    time.sleep(6)
    target.mode = "ok"
    load.join()
    wait_until(lambda: json_lines(cfg) is not None, 5, "dlq readable")
    # Retried ones arrive; the others are in the DLQ once their 6 attempts are spent.
    def settled():
        pending = [m for m in load.acked if m not in target.delivered()]
        return len(pending) <= len(dead_letter_ids(cfg))
    wait_until(settled, 180, "target outage settled", interval=2)
    dead = dead_letter_ids(cfg)
    print(f"target outage: {len(dead)} dead letters", flush=True)
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--config", str(cfg), "--destination", "fv"], capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0, f"dlq replay works ({r.stdout} {r.stderr})")
    settle(load, "target-500-and-timeouts")

    # Exactly once as the target sees it: deduplicated by Idempotency-Key, every
    # acknowledged message once and nothing else; every repeat of a key is the same
    # message (same bytes), so dropping it by key loses nothing; and across the whole
    # run no more redeliveries than the one kill -9 of the deliverer explains.
    delivered = target.delivered()
    check(set(delivered) == all_acked, f"the target got exactly the acknowledged messages "
                                       f"({len(set(delivered) - all_acked)} unexpected, {len(all_acked - set(delivered))} missing)")
    bodies_ok = all(len(set(v)) == 1 for v in target.posts.values())
    check(bodies_ok, "every repeat of a key carried the same bytes")
    redeliveries = sum(target.redeliveries(delivered).values())
    check(redeliveries <= 1, f"whole run: at most one redelivery, from the deliverer's kill -9 ({redeliveries})")


def json_lines(cfg):
    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", "fv"], capture_output=True,
                       text=True, timeout=300)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()] if r.returncode == 0 else None


def dead_letter_ids(cfg):
    return {d["messageId"] for d in (json_lines(cfg) or []) if d["pending"]}


if __name__ == "__main__":
    main()
