#!/usr/bin/python3
"""Load generator: N messages with C concurrent keep-alive connections against a
running gateway, each a real sample with a fresh nachrichtenUUID. Prints throughput
and latency percentiles of the 202 answers (each one waited for the broker's ack),
and waits until every accepted message is delivered (status via GET).

  bench/loadgen.py --url http://127.0.0.1:8080 --messages 5000 --concurrency 16
  bench/loadgen.py --spawn --messages 5000        # starts `serve` on embedded Kafka itself
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared/testdata/xwasser/tests/quality_report_minimal.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"


def spawn(binary, port):
    work = Path(tempfile.mkdtemp(prefix="xoev-load-"))
    (work / "config").mkdir()
    shutil.copy(ROOT / "config/gateway.yaml", work / "config/gateway.yaml")
    (work / "schemas").symlink_to(ROOT / "schemas")
    subprocess.run([binary, "dev-keys", "--config", "config/gateway.yaml"], cwd=work, check=True, capture_output=True)
    proc = subprocess.Popen([binary, "serve", "--config", "config/gateway.yaml", "--listen", f"127.0.0.1:{port}"],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "wb"))
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return proc, work
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gateway did not become ready")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:18080")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--spawn", action="store_true", help="start xoevgate serve (embedded Kafka) for the run")
    ap.add_argument("--binary", default=str(ROOT / "build/xoevgate"))
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    proc = None
    if args.spawn:
        proc, work = spawn(str(Path(args.binary).resolve()), u.port)
    template = SAMPLE.read_bytes()
    latencies, accepted, refused, lock = [], [], {}, threading.Lock()
    per = args.messages // args.concurrency

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        for _ in range(per):
            mid = str(uuid.uuid4())
            body = template.replace(SAMPLE_ID.encode(), mid.encode())
            while True:
                t0 = time.perf_counter()
                conn.request("POST", "/v1/messages", body, {"Content-Type": "application/xml"})
                r = conn.getresponse()
                r.read()
                dt = time.perf_counter() - t0
                if r.status == 503:  # back-pressure: the polite client waits
                    with lock:
                        refused[503] = refused.get(503, 0) + 1
                    time.sleep(0.05)
                    continue
                with lock:
                    if r.status == 202:
                        latencies.append(dt)
                        accepted.append(mid)
                    else:
                        refused[r.status] = refused.get(r.status, 0) + 1
                break

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
    print(f"accepted {len(accepted)} of {per * args.concurrency} in {elapsed:.2f} s: {len(accepted) / elapsed:.0f} msg/s "
          f"({len(template) / 1024:.1f} KiB each, {args.concurrency} connections); latency p50 {pct(0.5):.1f} ms, "
          f"p99 {pct(0.99):.1f} ms, max {pct(1.0):.1f} ms; back-pressure answers {refused.get(503, 0)}; other {refused}")
    # Until delivered: the last accepted message's status.
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    deadline = time.time() + 300
    pending = list(accepted)
    while pending and time.time() < deadline:
        conn.request("GET", f"/v1/messages/{pending[-1]}")
        st = json.loads(conn.getresponse().read()).get("status")
        if st == "delivered":
            pending.pop()
        else:
            time.sleep(0.2)
    end_to_end = time.perf_counter() - t0
    print(f"all delivered after {end_to_end:.2f} s: {len(accepted) / end_to_end:.0f} msg/s end to end")
    if proc:
        rss = int(open(f"/proc/{proc.pid}/status").read().split("VmHWM:")[1].split()[0])
        print(f"gateway peak RSS {rss / 1024:.0f} MiB")
        proc.terminate()
        proc.wait(30)
    sys.exit(0 if not pending else 1)


if __name__ == "__main__":
    main()
