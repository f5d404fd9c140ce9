"""The benchmark's load generator measures what it claims (make bench's throughput
figures come from it): bench/loadgen.py --spawn starts `serve` with the shipped config
on embedded Kafka, the native driver (build/bench/load_generator) posts the 0401
sample with a fresh id per request over keep-alive connections, every message is
accepted once and delivered, the result's fields are consistent, pacing holds the
rate, and the Python driver gives the same counts."""
import json
import os
import subprocess
import sys
from pathlib import Path

from harness import SOURCE, TESTDATA, XOEVGATE, free_port, run_with_processes

SAMPLE = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"
GENERATOR = Path(os.environ.get("XOEV_LOAD_GENERATOR", Path(XOEVGATE).resolve().parent / "bench/load_generator"))


def loadgen(*args):
    r = subprocess.run(["/usr/bin/python3", str(SOURCE / "bench/loadgen.py"), "--spawn", "--binary", XOEVGATE,
                        "--sample", str(SAMPLE), "--url", f"http://127.0.0.1:{free_port()}", "--json", *args],
                       capture_output=True, text=True, timeout=300)
    lines = r.stdout.strip().splitlines()
    return r.returncode, (json.loads(lines[-1]) if lines else {}), r.stderr[-2000:]


def run(work, procs, check):
    if not check(GENERATOR.exists(), f"{GENERATOR} is built (cmake --build build --target benchmarks)"):
        return

    rc, full, err = loadgen("--messages", "256", "--concurrency", "16")
    check(rc == 0, f"loadgen exits 0 with the native driver ({rc}): {err}")
    check(full.get("sent") == 256 and full.get("accepted") == 256 and full.get("other") == {},
          f"256 sent, 256 accepted (a repeated id would be answered 200), nothing else: {full}")
    check(full.get("delivered_per_s", 0) > 0, f"every accepted message delivered (status via GET): {full}")
    check(0 < full.get("p50_ms", 0) <= full.get("p99_ms", 0) <= full.get("max_ms", 0),
          f"latency percentiles ordered: {full}")
    check(full.get("driver_cpu_s", 0) > 0 and full.get("gateway_cpu_s", 0) > 0 and full.get("peak_rss_mib", 0) > 0,
          f"the driver's and the gateway's CPU seconds and the gateway's peak RSS reported: {full}")

    # 96 messages at 200/s over 8 connections: each connection sends one every 40 ms,
    # 12 in all, so the run cannot end before 0.48 s (a lower bound only: never flaky).
    rc, paced, err = loadgen("--messages", "96", "--concurrency", "8", "--rate", "200")
    check(rc == 0 and paced.get("accepted") == 96, f"paced run: all 96 accepted ({rc}): {paced} {err}")
    check(paced.get("elapsed_s", 0) >= 0.47, f"pacing holds 200/s: 96 took {paced.get('elapsed_s')} s (≥ 0.48)")

    rc, python, err = loadgen("--messages", "64", "--concurrency", "8", "--driver", "python")
    check(rc == 0 and python.get("accepted") == 64 and python.get("sent") == 64 and python.get("driver_cpu_s", 0) > 0,
          f"the Python driver gives the same fields and counts ({rc}): {python} {err}")

    no_id = work / "no-id.xml"
    no_id.write_bytes(b"<a/>")
    r = subprocess.run([str(GENERATOR), "--port", str(free_port()), "--sample", str(no_id)], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 2 and "no nachrichtenUUID" in r.stderr,
          f"a sample without nachrichtenUUID is refused before sending ({r.returncode}): {r.stderr}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    run_with_processes("xoev-loadgen-", run)
