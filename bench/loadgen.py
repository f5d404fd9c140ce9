#!/usr/bin/python3
"""Load generator: N messages with C concurrent keep-alive connections against a
running gateway, each a real sample with a fresh nachrichtenUUID. Prints throughput
and latency percentiles of the 202 answers (each one waited for the broker's ack),
and waits until every accepted message is delivered (status via GET).

  bench/loadgen.py --url http://127.0.0.1:8080 --messages 5000 --concurrency 16
  bench/loadgen.py --spawn --messages 5000        # starts `serve` on embedded Kafka itself
  bench/loadgen.py --spawn --rate 400 --json      # paced at 400 msg/s, one JSON line
  bench/loadgen.py --spawn --cpus 0               # the gateway pinned to core 0
  bench/loadgen.py --spawn --http-target 8        # HTTP adapters (max_in_flight 8) to bench/http_target.py

The sample's first nachrichtenUUID is replaced by a fresh one per request. The requests
are sent by build/bench/load_generator (C++, one thread; --driver native, the default)
or by this script's threads (--driver python, which spends more CPU per request than
the gateway's validation on the same cores); either reports its own CPU seconds.
"""
import argparse
import atexit
import re
import http.client
import json
import os
import resource
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


def start_http_target():
    """bench/http_target.py as a process of its own (not under this one's GIL): (process, port)."""
    target = subprocess.Popen(["/usr/bin/python3", str(ROOT / "bench/http_target.py")], stdout=subprocess.PIPE, text=True)
    return target, int(target.stdout.readline())


def spawn(binary, port, cpus=None, max_group=None, directory_entries=0, http_target=None):
    work = Path(tempfile.mkdtemp(prefix="xoev-load-"))
    (work / "config").mkdir()
    config = (ROOT / "config/gateway.yaml").read_text()
    if http_target:  # every file adapter becomes an HTTP adapter to the target
        target_port, in_flight = http_target
        config = re.sub(r"type: file\n(\s+)directory: [^\n]+\n(?:\s+file_name: [^\n]+\n)?",
                        lambda m: f"type: http\n{m.group(1)}url: http://127.0.0.1:{target_port}/inbox\n"
                                  f"{m.group(1)}max_in_flight: {in_flight}\n", config)
    if max_group is not None:  # every adapter: block of the shipped config
        config = re.sub(r"^(\s+)adapter:\n", lambda m: f"{m.group(0)}{m.group(1)}  max_group: {max_group}\n",
                        config, flags=re.M)
    if directory_entries:  # a state-sized routing directory beside the shipped routes
        with open(work / "config/directory.csv", "w") as f:
            f.write("reader,destination\n")
            for i in range(directory_entries):
                f.write(f"psw:{i:08d},gesundheitsamt-wasser\n")
        config += "\nrouting:\n  directory: [directory.csv]\n  prefix_codelist: ../schemas/codelists/dvdv.praefix_51.xml\n"
    (work / "config/gateway.yaml").write_text(config)
    (work / "schemas").symlink_to(ROOT / "schemas")
    keys = subprocess.run([binary, "dev-keys", "--config", "config/gateway.yaml"], cwd=work, capture_output=True, text=True)
    if keys.returncode != 0:
        raise SystemExit(f"dev-keys failed: {keys.stderr[-2000:]}")
    pin = ["taskset", "-c", cpus] if cpus else []
    proc = subprocess.Popen(pin + [binary, "serve", "--config", "config/gateway.yaml", "--listen", f"127.0.0.1:{port}"],
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
    raise SystemExit(f"gateway did not become ready: {(work / 'serve.log').read_text()[-2000:]}")


def send_native(args, u, generator):
    """build/bench/load_generator sends; its JSON line is the result, its --ids file the accepted ids."""
    if not generator.exists():
        raise SystemExit(f"{generator} is missing: cmake --build build --target load_generator (or --driver python)")
    with tempfile.NamedTemporaryFile("r", prefix="xoev-ids-", suffix=".txt") as ids:
        cmd = [str(generator), "--host", u.hostname, "--port", str(u.port), "--sample", args.sample,
               "--messages", str(args.messages), "--concurrency", str(args.concurrency), "--rate", str(args.rate),
               "--ids", ids.name]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if not r.stdout.strip():
            raise SystemExit(f"load_generator failed ({r.returncode}): {r.stderr[-2000:]}")
        result = json.loads(r.stdout.strip().splitlines()[-1])
        accepted = ids.read().split()
    result["sample"] = Path(args.sample).name
    return result, accepted


def send_python(args, u, template, sample_id):
    """This script's threads send: the same requests, the same result fields."""
    latencies, accepted, refused, lock = [], [], {}, threading.Lock()
    per = args.messages // args.concurrency
    interval = args.concurrency / args.rate if args.rate > 0 else 0  # per connection

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        next_at = time.perf_counter()
        for _ in range(per):
            if interval:
                next_at += interval
                delay = next_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            mid = str(uuid.uuid4())
            body = template.replace(sample_id, mid.encode(), 1)
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

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
    return {"sample": Path(args.sample).name, "bytes": len(template), "connections": args.concurrency,
            "rate_target": args.rate, "accepted": len(accepted), "sent": per * args.concurrency,
            "elapsed_s": elapsed, "accepted_per_s": len(accepted) / elapsed, "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "p999_ms": pct(0.999), "max_ms": pct(1.0),
            "backpressure_503": refused.get(503, 0), "other": {str(k): v for k, v in refused.items() if k != 503},
            "driver_cpu_s": (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)}, accepted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:18080")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--spawn", action="store_true", help="start xoevgate serve (embedded Kafka) for the run")
    ap.add_argument("--binary", default=str(ROOT / "build/xoevgate"))
    ap.add_argument("--sample", default=str(SAMPLE), help="the XML sent (its first nachrichtenUUID is replaced)")
    ap.add_argument("--rate", type=float, default=0, help="messages/s for all connections together (0: as fast as possible)")
    ap.add_argument("--cpus", help="with --spawn: taskset CPU list for the gateway, e.g. 0 or 0,1")
    ap.add_argument("--max-group", type=int, help="with --spawn: adapter.max_group of every destination")
    ap.add_argument("--directory-entries", type=int, default=0,
                    help="with --spawn: a routing directory of this many psw: readers")
    ap.add_argument("--http-target", type=int, metavar="MAX_IN_FLIGHT",
                    help="with --spawn: deliver over HTTP (adapter max_in_flight) to bench/http_target.py")
    ap.add_argument("--driver", choices=["native", "python"], default="native",
                    help="who sends: build/bench/load_generator (default) or this script's threads")
    ap.add_argument("--keep-work", action="store_true", help="with --spawn: keep the gateway's directory (JSON: work)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    proc, target = None, None
    if args.spawn:
        http_target = None
        if args.http_target:
            target, target_port = start_http_target()
            http_target = (target_port, args.http_target)
        try:
            proc, work = spawn(str(Path(args.binary).resolve()), u.port, args.cpus, args.max_group,
                               args.directory_entries, http_target)
        except BaseException:
            if target:
                target.kill()
            raise
    for child in (proc, target):  # never left running, whatever ends this script
        if child:
            atexit.register(lambda c=child: c.poll() is None and c.kill())
    template = Path(args.sample).read_bytes()
    found = re.search(rb"nachrichtenUUID>([0-9a-fA-F-]{36})<", template)
    if not found:
        raise SystemExit(f"{args.sample}: no nachrichtenUUID to replace")
    sample_id = found.group(1)
    t0 = time.perf_counter()
    if args.driver == "native":
        result, accepted = send_native(args, u, Path(args.binary).resolve().parent / "bench/load_generator")
    else:
        result, accepted = send_python(args, u, template, sample_id)
    if not args.json:
        print(f"accepted {result['accepted']} of {result['sent']} in {result['elapsed_s']:.2f} s: "
              f"{result['accepted_per_s']:.0f} msg/s ({len(template) / 1024:.1f} KiB each, {args.concurrency} "
              f"connections); latency p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
              f"p99.9 {result['p999_ms']:.1f} ms, max {result['max_ms']:.1f} ms; back-pressure answers "
              f"{result['backpressure_503']}; other {result['other']}; {args.driver} driver CPU "
              f"{result['driver_cpu_s']:.2f} s")
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
    result["delivered_per_s"] = len(accepted) / end_to_end if not pending else 0
    if not args.json:
        print(f"all delivered after {end_to_end:.2f} s: {len(accepted) / end_to_end:.0f} msg/s end to end")
    if proc:
        rss = int(open(f"/proc/{proc.pid}/status").read().split("VmHWM:")[1].split()[0])
        result["peak_rss_mib"] = rss / 1024
        stat = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        result["gateway_cpu_s"] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        if not args.json:
            print(f"gateway peak RSS {rss / 1024:.0f} MiB")
        proc.terminate()
        proc.wait(30)
        # A run that did not deliver everything keeps its directory (serve.log, inbox).
        # Deleting thousands of files makes ext4 slow to create files for minutes after
        # (each new inode skips the recently deleted ones): runs back to back keep theirs
        # (--keep-work) and delete them all at the end, as bench/report.py does.
        if pending or args.keep_work:
            result["work"] = str(work)
            if not args.json:
                print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if target:
        target.terminate()
        counts = target.stdout.read().split()  # "requests N keys K most_in_flight M"
        target.wait(10)
        result["target"] = {counts[i]: int(counts[i + 1]) for i in range(0, len(counts) - 1, 2)}
        if not args.json:
            print(f"HTTP target: {result['target']}")
    if args.json:
        print(json.dumps(result))
    sys.exit(0 if not pending else 1)


if __name__ == "__main__":
    main()
