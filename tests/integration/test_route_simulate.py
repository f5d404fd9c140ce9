"""A routing change tried before it goes live: `route --simulate FOLDER --config NEW
--baseline OLD` runs real samples through both tables (no keys, no Kafka), prints each
message whose destination changes and a summary, and exits like diff: 0 unchanged,
1 changed, 2 on errors. The proposed table adds a directory file (checked against the
DVDV prefix code list, errors as FILE:LINE) and narrows a route. `check-config` lists
every bad directory line, and `route --explain` shows the directory entry winning."""
import json
import shutil
import subprocess
from pathlib import Path

from harness import SOURCE, TESTDATA, XOEVGATE, Check, tempdir


def run(*args):
    return subprocess.run([XOEVGATE, *args], capture_output=True, text=True, timeout=120)


def config_text(work: Path, extra: str = "", beteiligung_reader: str = "xyz:*") -> str:
    text = (SOURCE / "config/gateway.yaml").read_text()
    text = text.replace("../schemas/", f"{SOURCE}/schemas/").replace("../var/", f"{work}/var/")
    text = text.replace('reader: "xyz:*"}', f'reader: "{beteiligung_reader}"}}')
    text = text.replace("destinations:\n", """destinations:
  - id: wasser-amt-01
    topic: xoev.wasser.01
    encryption_keys: [var/keys/w.pub.jwk]
    adapter: {type: file, directory: var/inbox/w, decryption_keys: [var/keys/w.jwk]}
""", 1)
    return text + extra


def main():
    check = Check()
    with tempdir("xoev-simulate-") as w:
        work = Path(w)
        messages = work / "messages"
        messages.mkdir()
        samples = {
            "wasser-01003110.xml": TESTDATA / "xwasser/tests/administration_receipt.xml",  # reader psw:01003110
            "wasser-11113110.xml": TESTDATA / "xwasser/tests/quality_report_minimal.xml",  # reader psw:11113110
            "beteiligung-xyz0002.xml": TESTDATA / "xbeteiligung/tests/res/example402FromCockpit.xml",  # xyz:0002
        }
        for name, src in samples.items():
            shutil.copy(src, messages / name)
        (messages / "broken.xml").write_text("<not-xoev/>")

        baseline = work / "baseline.yaml"
        baseline.write_text(config_text(work))
        (work / "hessen.csv").write_text("reader,destination,name\n"
                                         "# one Gesundheitsamt gets its own Fachverfahren\n"
                                         "psw:01003110,wasser-amt-01,\"Amt 01003110, Wasser\"\n")
        proposed = work / "proposed.yaml"
        proposed.write_text(config_text(work, f"""
routing:
  region_prefixes: [ags, psw]
  prefix_codelist: {SOURCE}/schemas/codelists/dvdv.praefix_51.xml
  directory: [hessen.csv]
""", beteiligung_reader="xyz:0001"))

        # The same table twice: nothing changes, exit 0.
        r = run("route", "--simulate", str(messages), "--config", str(baseline), "--baseline", str(baseline))
        check(r.returncode == 0, f"identical tables: exit 0 ({r.returncode}: {r.stdout}{r.stderr})")
        check("4 messages: 4 unchanged" in r.stdout, f"summary counts every message: {r.stdout}")

        r = run("route", "--simulate", str(messages), "--config", str(proposed), "--baseline", str(baseline))
        check(r.returncode == 1, f"a change: exit 1 ({r.returncode}: {r.stderr})")
        out = r.stdout
        check("wasser-01003110.xml" in out and "wasser-amt-01 (directory" in out and "hessen.csv:3" in out,
              f"the directory moves psw:01003110 to wasser-amt-01 and names its line: {out}")
        check("wasser-11113110.xml" not in out, f"an unaffected reader is not listed: {out}")
        check("beteiligung-xyz0002.xml" in out and "REFUSED no-route" in out,
              f"the narrowed route refuses xyz:0002: {out}")
        check("broken.xml" not in out, "a message refused by both tables alike is no change")
        check("4 messages: 2 unchanged, 1 to another destination, 1 newly refused, 0 newly accepted" in out,
              f"summary: {out}")

        r = run("route", "--simulate", str(messages), "--config", str(proposed), "--baseline", str(baseline), "--json")
        j = json.loads(r.stdout)
        changed = sorted(Path(e["file"]).name for e in j["results"] if e["changed"])
        check(changed == ["beteiligung-xyz0002.xml", "wasser-01003110.xml"], f"--json lists the changes: {changed}")

        # explain shows the directory entry and the region, without any key on disk.
        r = run("route", "--config", str(proposed), "--explain", str(messages / "wasser-01003110.xml"))
        check(r.returncode == 0 and "region:      01003110" in r.stdout and "✔ directory" in r.stdout,
              f"explain shows region and the winning directory line: {r.stdout}{r.stderr}")

        # Bad directory lines: each one as FILE:LINE, from check-config and from simulate.
        (work / "hessen.csv").write_text("reader,destination\n"
                                         "psv:01003110,wasser-amt-01\n"
                                         "psw:01003110,nirgendwo\n")
        r = run("check-config", str(proposed))
        check(r.returncode == 1, f"check-config refuses a bad directory ({r.returncode})")
        check("hessen.csv:2:" in r.stdout + r.stderr and "'psv' is not in the DVDV prefix code list" in r.stdout + r.stderr,
              f"unknown prefix named with file:line: {r.stdout}{r.stderr}")
        check("hessen.csv:3:" in r.stdout + r.stderr and "nirgendwo" in r.stdout + r.stderr,
              f"unknown destination named with file:line: {r.stdout}{r.stderr}")
        r = run("route", "--simulate", str(messages), "--config", str(proposed), "--baseline", str(baseline))
        check(r.returncode == 2, f"a proposed table that does not load: exit 2 ({r.returncode})")
        r = run("route", "--simulate", str(work / "missing"), "--config", str(baseline))
        check(r.returncode == 2, f"a missing folder: exit 2 ({r.returncode})")
    check.finish()


if __name__ == "__main__":
    main()
