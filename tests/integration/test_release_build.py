"""CI builds what the Dockerfile builds: its cmake configure and build commands, taken
from the Dockerfile's build stage as they are, run on a copy-free checkout in a fresh
build directory (no ccache, as in CI), product target only. Fails on any compiler
warning, and when the configure step needs GoogleTest, Google Benchmark or libxslt.

Set XOEV_RELEASE_BUILD_LAUNCHER=ccache to speed up local runs (CI has no cache).
Measured on the project's shared 2-core machine, no cache: 28 minutes wall clock
(10 minutes of CPU) while four other builds ran; give its CTest entry a long timeout."""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(os.environ.get("XOEV_SOURCE_DIR", Path(__file__).resolve().parents[2]))
JOBS = os.environ.get("XOEV_RELEASE_BUILD_JOBS", "2")  # the machine's rule: never more than -j2


def dockerfile_build_commands(text):
    """The configure and build commands of the RUN in the build stage that runs cmake,
    with the Dockerfile's /src checkout and /build directory as they are."""
    instructions, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            instructions.append(current.strip())
            current = ""
    stage = []
    for ins in instructions:
        if ins.upper().startswith("FROM ") and stage:
            break
        stage.append(ins)
    runs = [i[4:].strip() for i in stage if i.upper().startswith("RUN ") and "cmake -S" in i]
    if len(runs) != 1:
        raise RuntimeError(f"expected one RUN with cmake in the Dockerfile's build stage, found {len(runs)}")
    steps = [s.strip() for s in runs[0].split("&&")]
    configure = [s for s in steps if s.startswith("cmake -S")]
    build = [s for s in steps if s.startswith("cmake --build")]
    if len(configure) != 1 or len(build) != 1:
        raise RuntimeError(f"expected one configure and one build step: {steps}")
    return configure[0], build[0]


def main():
    configure, build = dockerfile_build_commands((SOURCE / "Dockerfile").read_text())
    failures = []
    print(f"Dockerfile configure: {configure}\nDockerfile build:     {build}", flush=True)
    if "--target xoevgate" not in build:
        failures.append("the Dockerfile builds more than the product target")
    with tempfile.TemporaryDirectory(prefix="xoev-release-") as tmp:
        build_dir = Path(tmp) / "build"
        # Only the build directory and the job count differ from the Dockerfile.
        configure = configure.replace(" /build", f" {shlex.quote(str(build_dir))}")
        build = build.replace(" /build", f" {shlex.quote(str(build_dir))}")
        build = re.sub(r'-j\s*"?\$\(nproc\)"?', f"-j{JOBS}", build)
        launcher = os.environ.get("XOEV_RELEASE_BUILD_LAUNCHER")
        if launcher:
            configure += f" -DCMAKE_CXX_COMPILER_LAUNCHER={shlex.quote(launcher)}"
        env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_CXX_COMPILER_LAUNCHER", "CXXFLAGS")}
        started = time.time()
        r = subprocess.run(configure, shell=True, cwd=SOURCE, capture_output=True, text=True, env=env)
        output = r.stdout + r.stderr
        if r.returncode != 0:
            failures.append(f"configure failed:\n{output[-4000:]}")
        else:
            cache = (build_dir / "CMakeCache.txt").read_text()
            for unwanted in ("GTEST_INCLUDE_DIR", "GTest_DIR", "benchmark_DIR", "LIBXSLT"):
                if re.search(rf"^{unwanted}\b", cache, re.MULTILINE):
                    failures.append(f"the product configure looked for {unwanted} (tests, benchmarks or libxslt)")
            r = subprocess.run(build, shell=True, cwd=SOURCE, capture_output=True, text=True, env=env)
            output = r.stdout + r.stderr
            if r.returncode != 0:
                failures.append(f"build failed:\n{output[-6000:]}")
            # With the lines that name the project's file (a warning inside a system header
            # says where it was inlined from).
            warnings = [l for l in output.splitlines() if re.search(r"\bwarning\b", l, re.IGNORECASE)
                        or (("inlined from" in l or "In function" in l or "In member function" in l)
                            and str(SOURCE) in l)]
            if warnings:
                failures.append("compiler warnings:\n" + "\n".join(warnings[:40]))
            binary = build_dir / "xoevgate"
            if r.returncode == 0:
                v = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
                if v.returncode != 0 or not re.fullmatch(r"xoevgate \d+\.\d+\.\d+\n", v.stdout):
                    failures.append(f"the Release binary does not answer --version: {v.stdout!r} {v.stderr!r}")
        print(f"Release build of the product target took {time.time() - started:.0f}s", flush=True)
    for f in failures:
        print("FAIL: " + f, flush=True)
    print(f"{0 if failures else 1} passed, {len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
