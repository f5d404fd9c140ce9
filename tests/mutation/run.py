"""Mutation check: plants each mutant of mutants.py, one at a time, in a scratch copy
of the tree, builds only the test binaries the mutant's ctest regex selects, runs
those tests and records whether they caught it. Prints a table and `N/M mutants
caught`. Run from anywhere with Debian's python3:

    /usr/bin/python3 tests/mutation/run.py [--only SUBSTRING] [--list] [--strict]

The scratch copy (build-mutation/src, with its build directory in src/build) is kept
between runs, so only the mutated file recompiles; ccache keeps restores cheap. A
mutant whose original snippet no longer occurs exactly once is reported `stale` and
not counted: someone changed the code and the mutant needs updating, nothing more.
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from mutants import MUTANTS  # noqa: E402

JOBS = os.environ.get("XOEV_MUTATION_JOBS", "2")
TEST_TIMEOUT = os.environ.get("XOEV_MUTATION_TEST_TIMEOUT", "120")


def log(msg):
    print(msg, flush=True)


def run(cmd, cwd, timeout=None, quiet=True):
    return subprocess.run(cmd, cwd=cwd, timeout=timeout, text=True,
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)


def testdata_dir():
    if os.environ.get("XOEV_TESTDATA_DIR"):
        return Path(os.environ["XOEV_TESTDATA_DIR"]).resolve()
    cache = REPO / "build" / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text().splitlines():
            if line.startswith("XOEV_TESTDATA_DIR:"):
                return Path(line.split("=", 1)[1])
    return (REPO.parent / "shared" / "testdata").resolve()


def sync_tree(src_root, dst_root):
    """Copy the working tree (tracked and untracked, not ignored) into the scratch copy,
    touching only files whose bytes differ so make rebuilds only what changed."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=src_root)
    if listed.returncode != 0:
        sys.exit(f"git ls-files failed: {listed.stdout}")
    wanted = set()
    for rel in filter(None, listed.stdout.split("\0")):
        src = src_root / rel
        if not src.is_file():
            continue
        wanted.add(rel)
        dst = dst_root / rel
        if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    manifest = dst_root / ".mutation-files"
    if manifest.exists():  # files deleted since the last run go too (CMake globs would see them)
        for rel in manifest.read_text().split("\0"):
            if rel and rel not in wanted and (dst_root / rel).is_file():
                (dst_root / rel).unlink()
    manifest.write_text("\0".join(sorted(wanted)))


def configure(src, build):
    # Always (cheap when configured): test folders are globbed, so a new one needs it.
    # The flags of the ordinary build: with ccache's base_dir the scratch copy then
    # shares the cache with every checkout, so its first build is mostly cache hits.
    r = run(["cmake", "-S", str(src), "-B", str(build), "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
             "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", f"-DXOEV_TESTDATA_DIR={testdata_dir()}"], cwd=src)
    if r.returncode != 0:
        sys.exit(f"cmake configure failed:\n{r.stdout[-3000:]}")


def build(build_dir, targets):
    r = run(["cmake", "--build", str(build_dir), "-j", JOBS, "--target", *targets], cwd=build_dir)
    return r.returncode == 0, r.stdout


def selected_tests(build_dir, regex):
    """The tests the regex selects and the targets that must be built for them."""
    r = run(["ctest", "-N", "-R", regex, "--show-only=json-v1"], cwd=build_dir)
    if r.returncode != 0:
        return [], set()
    info = json.loads(r.stdout)
    names, targets = [], set()
    for t in info.get("tests", []):
        names.append(t["name"])
        cmd = t.get("command") or []
        exe = Path(cmd[0]).name if cmd else ""
        if exe.startswith("unit_") or exe.startswith("bench_"):
            targets.add(exe)
        elif t["name"].startswith("integration."):
            targets.add("xoevgate")
    return names, targets


def all_unit_targets(src):
    return sorted("unit_" + d.name for d in (src / "tests" / "unit").iterdir()
                  if d.is_dir() and any(d.rglob("*.cpp")))


def run_tests(build_dir, regex):
    start = time.time()
    r = run(["ctest", "-R", regex, "--timeout", TEST_TIMEOUT, "-j", JOBS, "--output-on-failure"], cwd=build_dir,
            timeout=3600)
    failed = [l.split(" - ", 1)[1].split(" (")[0] for l in r.stdout.splitlines() if " - " in l and
              ("(Failed)" in l or "(Timeout)" in l or "(SEGFAULT)" in l or "(Subprocess aborted)" in l
               or "Not Run" in l or "(Child aborted)" in l or "Exception" in l)]
    no_tests = "No tests were found" in r.stdout
    return r.returncode, failed, no_tests, time.time() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only mutants whose id contains this")
    ap.add_argument("--list", action="store_true", help="list the mutants and whether each still applies")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a mutant survives")
    ap.add_argument("--scratch", default=os.environ.get("XOEV_MUTATION_DIR", str(REPO / "build-mutation")))
    args = ap.parse_args()

    ids = [m["id"] for m in MUTANTS]
    if len(ids) != len(set(ids)):
        sys.exit("mutant ids must be unique")
    mutants = [m for m in MUTANTS if not args.only or args.only in m["id"]]

    def occurrences(m):
        path = REPO / m["file"]
        return path.read_text().count(m["original"]) if path.exists() else 0

    if args.list:
        for m in mutants:
            n = occurrences(m)
            log(f"{m['id']:<34} {'ok' if n == 1 else 'STALE (' + str(n) + ' matches)':<18} {m['file']}  — {m['description']}")
        return 0

    scratch = Path(args.scratch).resolve()
    src = scratch / "src"
    build_dir = src / "build"
    src.mkdir(parents=True, exist_ok=True)
    log(f"scratch copy: {src}")
    sync_tree(REPO, src)
    configure(src, build_dir)

    # Baseline: every unit binary, unmutated (ctest knows a binary's tests only once it
    # is built); each mutant's tests must pass without it first.
    started = time.time()
    log("baseline build (first run builds everything; later runs only what changed) ...")
    ok, out = build(build_dir, all_unit_targets(src))
    if not ok:
        sys.exit(f"baseline build failed:\n{out[-4000:]}")
    baseline = {}

    results = []
    for m in mutants:
        path = src / m["file"]
        original_text = path.read_text() if path.exists() else ""
        count = original_text.count(m["original"])
        if count != 1:
            results.append((m, "stale", f"snippet found {count} times", 0.0))
            log(f"[stale]    {m['id']}: snippet found {count} times in {m['file']}")
            continue
        names, targets = selected_tests(build_dir, m["tests"])
        if not names:
            results.append((m, "stale", f"no test matches /{m['tests']}/", 0.0))
            log(f"[stale]    {m['id']}: no test matches /{m['tests']}/")
            continue
        if m["tests"] not in baseline:
            build(build_dir, sorted(targets))  # the restored tree, not the last mutant's binaries
            rc, failed, _, _ = run_tests(build_dir, m["tests"])
            baseline[m["tests"]] = failed if rc != 0 else []
        if baseline[m["tests"]]:
            results.append((m, "baseline-fail", "fails unmutated: " + ", ".join(baseline[m["tests"]][:3]), 0.0))
            log(f"[baseline] {m['id']}: tests fail without the mutant: {baseline[m['tests']][:3]}")
            continue
        t0 = time.time()
        try:
            path.write_text(original_text.replace(m["original"], m["replacement"], 1))
            ok, out = build(build_dir, sorted(targets))
            if not ok:
                status, detail = "no-build", out.strip().splitlines()[-1][:120] if out.strip() else "build failed"
            else:
                rc, failed, _, _ = run_tests(build_dir, m["tests"])
                if rc != 0:
                    status, detail = "caught", ", ".join(failed[:3]) + (" …" if len(failed) > 3 else "")
                else:
                    status, detail = "survived", f"{len(names)} tests passed"
        finally:
            path.write_text(original_text)  # restore before anything else can happen
        results.append((m, status, detail, time.time() - t0))
        log(f"[{status}] {'':<{max(0, 8 - len(status))}}{m['id']} ({time.time() - t0:.0f} s): {detail}")

    # Leave the scratch build matching the tree, so the next run starts warm.
    build(build_dir, all_unit_targets(src))

    log("")
    log(f"{'mutant':<34} {'result':<14} {'tests':<34} description")
    for m, status, detail, _ in results:
        log(f"{m['id']:<34} {status:<14} {m['tests'][:34]:<34} {m['description']}")
        if status in ("survived", "no-build", "baseline-fail", "stale"):
            log(f"{'':<34} {'':<14} {detail}")
    counted = [r for r in results if r[1] in ("caught", "survived")]
    caught = [r for r in counted if r[1] == "caught"]
    others = {s: sum(1 for r in results if r[1] == s) for s in ("stale", "no-build", "baseline-fail")}
    extra = ", ".join(f"{n} {s}" for s, n in others.items() if n)
    log("")
    log(f"{len(caught)}/{len(counted)} mutants caught" + (f" ({extra}, not counted)" if extra else "") +
        f" in {(time.time() - started) / 60:.1f} min")
    return 1 if args.strict and len(caught) != len(counted) else 0


if __name__ == "__main__":
    sys.exit(main())
