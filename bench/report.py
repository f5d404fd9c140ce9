#!/usr/bin/python3
"""Issue 13's throughput report, every figure from this one run:

  ceiling      the cores divided by the CPU cost of the stages that must run for a
               message: inspect + route + seal on the accept side, verify + decrypt on
               the delivery side (bench_ingest, BM_InspectRouteSeal/4 + BM_Open/4:
               the 6.7 KB XBeteiligung 0401 sample)
  end to end   bench/loadgen.py --spawn with that sample: HTTP -> embedded Kafka
               (acks=all) -> in-process file deliverer (fsync), as fast as 32
               keep-alive connections go, then paced at half that rate; the gateway
               on both cores and pinned to one; and once with max_group: 1 (one
               message at a time, as before group commit); and with a routing
               directory of 1,000,000 entries (issue 12: throughput within ±5 %); and
               once sent by loadgen.py's Python threads instead of
               build/bench/load_generator, to show what the sender's own CPU costs

  bench/report.py [--binary build/xoevgate] [--messages 6000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared/testdata/xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"
SAMPLE_INDEX = 4  # its index in bench_ingest's samples


def stage_costs(bench_dir):
    """CPU microseconds per message of the accept and the delivery stages."""
    out = subprocess.run([str(bench_dir / "bench_ingest"), f"--benchmark_filter=BM_(InspectRouteSeal|Open)/{SAMPLE_INDEX}$",
                          "--benchmark_format=json", "--benchmark_min_time=1"],
                         check=True, capture_output=True, text=True).stdout
    costs = {}
    for b in json.loads(out)["benchmarks"]:
        scale = {"us": 1, "ms": 1000, "ns": 0.001}[b["time_unit"]]
        costs[b["name"].split("/")[0]] = b["cpu_time"] * scale
    return costs["BM_InspectRouteSeal"], costs["BM_Open"]


def load(binary, messages, port, rate=0, cpus=None, max_group=None, directory_entries=0, driver="native"):
    cmd = [sys.executable, str(ROOT / "bench/loadgen.py"), "--spawn", "--binary", str(binary), "--sample", str(SAMPLE),
           "--messages", str(messages), "--concurrency", "32", "--url", f"http://127.0.0.1:{port}", "--json",
           "--driver", driver, "--keep-work"]
    if rate:
        cmd += ["--rate", str(rate)]
    if cpus:
        cmd += ["--cpus", cpus]
    if max_group:
        cmd += ["--max-group", str(max_group)]
    if directory_entries:
        cmd += ["--directory-entries", str(directory_entries)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        raise SystemExit(f"loadgen failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=str(ROOT / "build/xoevgate"))
    ap.add_argument("--messages", type=int, default=6000)
    args = ap.parse_args()
    binary = Path(args.binary).resolve()
    cores = os.cpu_count() or 1

    accept_us, deliver_us = stage_costs(binary.parent / "bench")
    ceiling = cores * 1e6 / (accept_us + deliver_us)
    print(f"stages (CPU per message, {SAMPLE.name}): inspect+route+seal {accept_us:.0f} µs, "
          f"verify+decrypt {deliver_us:.0f} µs -> ceiling on {cores} cores: {ceiling:.0f} msg/s")

    runs = [("max rate, 2 cores", dict())]
    full = load(binary, args.messages, 18931)
    runs[0] = (runs[0][0], full)
    half_rate = max(1, int(full["accepted_per_s"] / 2))
    runs.append((f"half rate ({half_rate}/s)", load(binary, args.messages // 2, 18932, rate=half_rate)))
    runs.append(("max rate, gateway on 1 core", load(binary, args.messages // 2, 18933, cpus="0")))
    runs.append(("max rate, max_group: 1", load(binary, args.messages // 2, 18934, max_group=1)))
    runs.append(("max rate, 1,000,000 directory entries", load(binary, args.messages, 18935, directory_entries=1000000)))
    runs.append(("max rate, sent by the Python driver", load(binary, args.messages // 2, 18936, driver="python")))

    print()
    print("| run | accepted/s | delivered/s | accepted / ceiling | delivered / ceiling | p50 | p99 | p99.9 | peak RSS "
          "| CPU s per 1,000 delivered: gateway / load generator |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in runs:
        print(f"| {name} | {r['accepted_per_s']:.0f} | {r['delivered_per_s']:.0f} | "
              f"{100 * r['accepted_per_s'] / ceiling:.0f} % | {100 * r['delivered_per_s'] / ceiling:.0f} % | "
              f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['p999_ms']:.1f} ms | {r.get('peak_rss_mib', 0):.0f} MiB | "
              f"{1000 * r.get('gateway_cpu_s', 0) / max(r['accepted'], 1):.2f} / "
              f"{1000 * r['driver_cpu_s'] / max(r['accepted'], 1):.2f} |")
    one, two = runs[2][1], runs[0][1]
    print()
    print(f"scaling 1 -> 2 cores: accepted x{two['accepted_per_s'] / max(one['accepted_per_s'], 1):.2f}, "
          f"delivered x{two['delivered_per_s'] / max(one['delivered_per_s'], 1):.2f}; "
          f"group commit vs one at a time: delivered x{two['delivered_per_s'] / max(runs[3][1]['delivered_per_s'], 1):.2f}; "
          f"1,000,000 directory entries vs none: accepted {100 * runs[4][1]['accepted_per_s'] / two['accepted_per_s'] - 100:+.0f} %; "
          f"native vs Python driver: delivered x{two['delivered_per_s'] / max(runs[5][1]['delivered_per_s'], 1):.2f}")
    print("back-pressure answers (503, retried by the load generator): " +
          ", ".join(f"{name}: {r['backpressure_503']}" for name, r in runs))
    for _, r in runs:  # at the end: deleting thousands of files slows ext4's next creations
        if "work" in r:
            shutil.rmtree(r["work"], ignore_errors=True)


if __name__ == "__main__":
    main()
