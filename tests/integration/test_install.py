"""`make install` (cmake --install) into a DESTDIR: the binary, the schemas it finds by
itself, the example configs and the systemd units, whose ExecStart and config paths
point at what was installed. The units pass `systemd-analyze verify` and are hardened
(`systemd-analyze security --offline`)."""
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import SOURCE, TESTDATA, XOEVGATE, Check

BUILD = Path(XOEVGATE).resolve().parent


def cache_value(name):
    m = re.search(rf"^{name}:\w+=(.*)$", (BUILD / "CMakeCache.txt").read_text(), re.MULTILINE)
    return m.group(1) if m else None


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def main():
    check = Check()
    prefix = Path(cache_value("CMAKE_INSTALL_PREFIX") or "/usr/local")
    version = re.search(r"project\(xoevgate VERSION (\S+)", (SOURCE / "CMakeLists.txt").read_text()).group(1)
    with tempfile.TemporaryDirectory(prefix="xoev-install-") as tmp:
        stage = Path(tmp) / "stage"
        r = subprocess.run(["cmake", "--install", str(BUILD)], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "DESTDIR": str(stage)})
        check(r.returncode == 0, f"cmake --install with DESTDIR works: {r.stderr}")
        root = stage / prefix.relative_to("/")
        binary = root / "bin/xoevgate"
        r = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
        check(r.returncode == 0 and r.stdout.strip() == f"xoevgate {version}",
              f"installed binary says the project version {version} ({r.stdout!r})")
        r = subprocess.run([str(binary), "version"], capture_output=True, text=True)
        check(r.stdout.startswith(f"xoevgate {version}\n"), f"`xoevgate version` agrees ({r.stdout!r})")
        check((root / "share/xoevgate/schemas/catalog.yaml").is_file(), "schemas installed")
        # validate finds the installed schemas by itself (<bin>/../share/xoevgate/schemas).
        sample = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
        r = subprocess.run([str(binary), "validate", str(sample)], capture_output=True, text=True, cwd=tmp)
        check(r.returncode == 0 and "valid" in r.stdout, f"installed validate finds the installed schemas: {r.stdout}{r.stderr}")
        examples = root / "share/doc/xoevgate/examples"
        check((examples / "gateway.yaml").is_file() and (examples / "compose.yaml").is_file(), "example configs installed")
        unit_text = (root / "lib/systemd/system/xoevgate.service").read_text()
        m = re.search(r"--config (\S+)", unit_text)
        config = stage / (m.group(1).lstrip("/") if m else "missing")
        check(config.is_file(), f"the configuration the units name is installed: {config}")
        if config.is_file():
            catalog = re.search(r"catalog: (\S+)", config.read_text()).group(1)
            check((stage / catalog.lstrip("/")).is_file(), f"its schema catalog is the installed one ({catalog})")

        units = root / "lib/systemd/system"
        for name, command in (("xoevgate.service", "serve"), ("xoevgate-deliver@.service", "deliver")):
            unit = units / name
            if not check(unit.is_file(), f"{name} installed"):
                continue
            text = unit.read_text()
            s = unit_settings(text)
            exec_start = s.get("ExecStart", [""])[0].split()
            check(exec_start[:2] == [str(prefix / "bin/xoevgate"), command], f"{name}: ExecStart runs {command} ({exec_start})")
            cfg = exec_start[exec_start.index("--config") + 1] if "--config" in exec_start else ""
            check((stage / cfg.lstrip("/")).is_file(), f"{name}: its --config {cfg} is installed")
            check(s.get("Type") == ["notify"], f"{name}: Type=notify (readiness)")
            for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                               ("ProtectHome", "yes"), ("User", "xoevgate")):
                check(s.get(key) == [value], f"{name}: {key}={value}")
            check(any("/var/lib/xoevgate" in v for v in s.get("ReadWritePaths", [])), f"{name}: state dir writable")
            check("@" not in text.replace("xoevgate-deliver@", "").replace("@system-service", "")
                  .replace("@privileged", "").replace("@resources", ""), f"{name}: no unreplaced @VARIABLE@")
            if command == "deliver":
                check("--destination %i" in " ".join(exec_start), f"{name}: the instance name is the destination")

            # systemd's own checks, with the unit pointing at the staged binary.
            check_copy = Path(tmp) / name
            check_copy.write_text(text.replace(str(prefix / "bin/xoevgate"), str(binary)))
            if shutil.which("systemd-analyze"):
                instance = check_copy if command == "serve" else check_copy.with_name("xoevgate-deliver@test.service")
                if instance != check_copy:
                    shutil.copy(check_copy, instance)
                r = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True, text=True,
                                   timeout=60)
                problems = [l for l in (r.stdout + r.stderr).splitlines()
                            if l.strip() and "xoevgate" in l and "User" not in l and "Failed to" not in l
                            or "Unknown" in l or "ignoring" in l.lower()]
                check(not problems, f"{name}: systemd-analyze verify is quiet: {problems}")
                r = subprocess.run(["systemd-analyze", "security", "--offline=true", str(instance)],
                                   capture_output=True, text=True, timeout=60)
                m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
                check(m is not None and float(m.group(1)) <= 2.0,
                      f"{name}: systemd-analyze security exposure ≤ 2.0 ({m.group(1) if m else r.stderr[-300:]})")
    make = subprocess.run(["make", "-n", "-C", str(SOURCE), "install", "BUILD=" + str(BUILD)],
                          capture_output=True, text=True, timeout=60)
    check("cmake --install" in make.stdout, "`make install` runs cmake --install")
    check.finish()


if __name__ == "__main__":
    main()
