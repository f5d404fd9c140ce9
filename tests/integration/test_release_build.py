"""The binary `make test` builds and tests is the one the Dockerfile builds. The
Dockerfile's cmake configure command, taken from its build stage as it is, is run in a
fresh directory; then every product object's compile command of that configuration
must equal the one `make test`'s build directory (XOEV_BUILD_DIR) compiled, apart from
the directory and the -Werror that `make test` adds (so a warning in the shipped build
failed `make test` already). Fails too when the Dockerfile's configure needs
GoogleTest, Google Benchmark or libxslt, builds more than the product target, when
the tested binary does not answer --version, or when it does not tune malloc for large
messages (or overrides an operator's GLIBC_TUNABLES).

(Until session 8 this compiled the Dockerfile's build a second time, which took four of
`make test`'s minutes; now `make test` builds that configuration itself.)"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(os.environ.get("XOEV_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("XOEV_BUILD_DIR", SOURCE / "build"))
XOEVGATE = os.environ.get("XOEVGATE", str(BUILD / "xoevgate"))


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


def product_commands(build_dir, compile_commands):
    """Object → (compile command, unity batch contents) for every product source
    (gateway/, adapters/), with the build directory written as <build>."""
    out = {}
    for entry in json.loads(compile_commands.read_text()):
        output = entry.get("output") or re.search(r"-o (\S+)", entry["command"]).group(1)
        where = Path(entry["directory"]) / output
        rel = str(where.relative_to(build_dir)) if where.is_relative_to(build_dir) else str(where)
        if not rel.startswith(("gateway/", "adapters/")):
            continue
        command = entry["command"].replace(str(build_dir), "<build>")
        command = " ".join(a for a in shlex.split(command) if a != "-Werror")
        batch = Path(entry["file"])
        text = batch.read_text() if batch.is_relative_to(build_dir) and batch.exists() else str(batch)
        out[rel] = (command, text.replace(str(build_dir), "<build>"))
    return out


def main():
    configure, build = dockerfile_build_commands((SOURCE / "Dockerfile").read_text())
    failures = []
    print(f"Dockerfile configure: {configure}\nDockerfile build:     {build}", flush=True)
    if "--target xoevgate" not in build:
        failures.append("the Dockerfile builds more than the product target")
    tested = BUILD / "compile_commands.json"
    if not tested.exists():
        failures.append(f"{tested} is missing: make test's build directory exports no compile commands")
    with tempfile.TemporaryDirectory(prefix="xoev-release-") as tmp:
        build_dir = Path(tmp) / "build"
        configure = configure.replace(" /build", f" {shlex.quote(str(build_dir))}")
        env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_CXX_COMPILER_LAUNCHER", "CXXFLAGS")}
        r = subprocess.run(configure, shell=True, cwd=SOURCE, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            failures.append(f"configure failed:\n{(r.stdout + r.stderr)[-4000:]}")
        else:
            cache = (build_dir / "CMakeCache.txt").read_text()
            for unwanted in ("GTEST_INCLUDE_DIR", "GTest_DIR", "benchmark_DIR", "LIBXSLT"):
                if re.search(rf"^{unwanted}\b", cache, re.MULTILINE):
                    failures.append(f"the product configure looked for {unwanted} (tests, benchmarks or libxslt)")
            if tested.exists():
                shipped = product_commands(build_dir, build_dir / "compile_commands.json")
                ours = product_commands(BUILD.resolve(), tested)
                if not shipped:
                    failures.append("the Dockerfile's configuration compiles no product source")
                for obj, (command, batch) in sorted(shipped.items()):
                    if obj not in ours:
                        failures.append(f"make test does not compile {obj}")
                    elif ours[obj][0] != command:
                        failures.append(f"{obj} is compiled differently:\n  Dockerfile: {command}\n  make test: {ours[obj][0]}")
                    elif ours[obj][1] != batch:
                        failures.append(f"{obj} batches other sources than the Dockerfile's build")
                print(f"{len(shipped)} product objects compared", flush=True)
    v = subprocess.run([XOEVGATE, "--version"], capture_output=True, text=True)
    if v.returncode != 0 or not re.fullmatch(r"xoevgate \d+\.\d+\.\d+\n", v.stdout):
        failures.append(f"the tested binary does not answer --version: {v.stdout!r} {v.stderr!r}")
    # The shipped binary tunes glibc's malloc for large messages (gateway/core/
    # allocator_tuning.h), unless the operator's GLIBC_TUNABLES sets malloc itself.
    env = {k: val for k, val in os.environ.items() if k != "GLIBC_TUNABLES"}
    for tunables, expected in ((None, "malloc: tuned for large messages (mmap threshold 4 MiB, trim threshold 32 MiB)"),
                               ("glibc.malloc.trim_threshold=131072", "malloc: as GLIBC_TUNABLES sets it")):
        run_env = dict(env, **({"GLIBC_TUNABLES": tunables} if tunables else {}))
        v = subprocess.run([XOEVGATE, "version"], capture_output=True, text=True, env=run_env)
        if v.returncode != 0 or expected not in v.stdout.splitlines():
            failures.append(f"`xoevgate version` with GLIBC_TUNABLES={tunables} does not say {expected!r}: {v.stdout!r}")
    for f in failures:
        print("FAIL: " + f, flush=True)
    print(f"{0 if failures else 1} passed, {len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
