"""The shipped files work: docker-compose.yml is accepted by docker-compose, the
default and compose configs pass check-config (with keys from dev-keys), config
errors come as FILE:LINE: message, and `route --explain` tells standard, schema,
fields and the matching rule for real samples."""
import json
import shutil
import subprocess
from pathlib import Path

from harness import SOURCE, TESTDATA, XOEVGATE, Check, tempdir


def run(*args, cwd=None):
    return subprocess.run([XOEVGATE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def main():
    check = Check()
    r = subprocess.run(["docker-compose", "-f", str(SOURCE / "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"docker-compose accepts docker-compose.yml: {r.stderr}")
    r = subprocess.run(["docker-compose", "-f", str(SOURCE / "docker-compose.yml"), "config", "--services"],
                       capture_output=True, text=True, timeout=60)
    services = set(r.stdout.split())
    check({"kafka1", "kafka2", "kafka3", "gateway", "topics"} <= services and any(s.startswith("deliverer") for s in services),
          f"compose runs 3 Kafka brokers, a gateway and a deliverer ({services})")

    check("topics" in services, "compose creates the topics with `xoevgate topics` (details: test_compose_properties)")

    with tempdir("xoev-shipped-") as work:
        work = Path(work)
        # Default config, laid out as in the repository (config/ next to schemas/ and var/).
        (work / "config").mkdir()
        shutil.copy(SOURCE / "config/gateway.yaml", work / "config/gateway.yaml")
        (work / "schemas").symlink_to(SOURCE / "schemas")
        r = run("dev-keys", "--config", "config/gateway.yaml", cwd=work)
        check(r.returncode == 0 and "generated" in r.stdout, f"dev-keys creates the demo keys: {r.stdout}{r.stderr}")
        r = run("dev-keys", "--config", "config/gateway.yaml", cwd=work)
        check(r.returncode == 0 and r.stdout == "", "dev-keys is quiet when all keys exist")
        check(oct((work / "var/keys/gateway.jwk").stat().st_mode & 0o777) == "0o600", "private keys are 0600")
        r = run("check-config", "config/gateway.yaml", cwd=work)
        check(r.returncode == 0, f"config/gateway.yaml passes check-config: {r.stderr}")

        # Compose config with its absolute paths moved into the temp dir.
        text = (SOURCE / "config/compose.yaml").read_text()
        text = text.replace("/var/lib/xoevgate", str(work / "data")).replace("/usr/share/xoevgate", str(SOURCE))
        (work / "compose.yaml").write_text(text)
        run("dev-keys", "--config", "compose.yaml", cwd=work)
        r = run("check-config", "compose.yaml", cwd=work)
        check(r.returncode == 0, f"config/compose.yaml passes check-config: {r.stderr}")

        # Errors: every one, as FILE:LINE: message.
        broken = (work / "config/gateway.yaml").read_text()
        broken = broken.replace("listen: 127.0.0.1:8080", "listen: everywhere")
        broken = broken.replace("destination: landesarchiv", "destination: nirgendwo")
        broken += "\nfarbe: blau\n"
        (work / "config/broken.yaml").write_text(broken)
        r = run("check-config", "config/broken.yaml", cwd=work)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(lines) == 3, f"three errors reported: {r.stderr}")
        check(all(l.startswith("config/broken.yaml:") and l.split(":")[1].isdigit() and int(l.split(":")[1]) > 0
                  for l in lines), f"each error is FILE:LINE: message: {lines}")
        check(any("nirgendwo" in l for l in lines) and any("farbe" in l for l in lines)
              and any("HOST:PORT" in l for l in lines), "errors say what is wrong")
        r = run("check-config", "config/none.yaml", cwd=work)
        check(r.returncode == 2 and r.stderr.startswith("config/none.yaml:0: cannot read"),
              f"check-config exits 2 for a file it cannot read: {r.returncode} {r.stderr}")

        # What serve would refuse only once it reads the keys: a destination whose
        # encryption key is not the public half of its adapter's decryption key.
        swapped = (work / "config/gateway.yaml").read_text().replace(
            "encryption_keys: [../var/keys/gesundheitsamt-wasser.pub.jwk]",
            "encryption_keys: [../var/keys/landesarchiv.pub.jwk]", 1)
        check("landesarchiv.pub.jwk]" in swapped and swapped.count("landesarchiv.pub.jwk") >= 2,
              "the test swapped an encryption key")
        (work / "config/swapped.yaml").write_text(swapped)
        r = run("check-config", "config/swapped.yaml", cwd=work)
        check(r.returncode == 1 and "config/swapped.yaml:" in r.stderr and "could not be opened by its adapter" in r.stderr,
              f"check-config refuses an encryption key that is not its adapter's: {r.stderr}")
        r = run("check-config", "--destination", "bauleitplanung-xyz", "config/swapped.yaml", cwd=work)
        check(r.returncode == 0, f"...but not when checking only another destination's deliverer: {r.stderr}")

        r = run("serve", "--config", "config/broken.yaml", cwd=work)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr,
              f"serve refuses a broken config with one clear line: {r.stderr}")

        # route --explain on real samples.
        cases = [
            ("xbeteiligung/tests/res/example402FromCockpit.xml", "XBeteiligung", "xyz:0002", "bauleitplanung-xyz"),
            ("xwasser/tests/quality_report_minimal.xml", "XWasser", "psw:11113110", "gesundheitsamt-wasser"),
            ("xdomea/message_generation/pattern/xdomea_3.0.0/xx_Aussonderung.Anbieteverzeichnis.0501.xml", "xdomea",
             "EmpBehoerdenkennungPraefixCode:LATh", "landesarchiv"),
        ]
        for sample, standard, reader, dest in cases:
            r = run("route", "--config", "config/gateway.yaml", "--explain", str(TESTDATA / sample), "--json", cwd=work)
            j = json.loads(r.stdout) if r.returncode == 0 else {}
            check(j.get("schema", {}).get("standard") == standard and j.get("validated") is True
                  and j.get("fields", {}).get("reader") == reader and j.get("destination") == dest
                  and any(rule["matched"] for rule in j.get("rules", [])),
                  f"route --explain {Path(sample).name}: {standard} → {dest} ({r.stdout[:300]} {r.stderr})")
        r = run("route", "--config", "config/gateway.yaml", "--explain",
                str(TESTDATA / "xwasser/tests/monitoring_plan_minimal.xml"), cwd=work)
        check(r.returncode == 1 and "REFUSED 422" in r.stdout and "schema-invalid" in r.stdout
              and "monitoring_plan_minimal.xml:" in r.stdout,
              f"route --explain shows schema errors with line numbers: {r.stdout[-600:]}")
    check.finish()


if __name__ == "__main__":
    main()
