"""`make run`'s path: the shipped config/gateway.yaml on embedded Kafka with in-process
file adapters. Then live reload: a changed route takes effect on SIGHUP without a
restart and without losing a message sent meanwhile; a broken config is refused on
SIGHUP and the gateway keeps running on the old one."""
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from harness import (SOURCE, TESTDATA, XOEVGATE, Check, Processes, free_port, post_xml, request, tempdir, wait_ready,
                     wait_until, with_new_uuid)

WASSER = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
WASSER_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"


def main():
    check = Check()
    with tempdir("xoev-embedded-") as work:
        work = Path(work)
        (work / "config").mkdir()
        shutil.copy(SOURCE / "config/gateway.yaml", work / "config/gateway.yaml")
        (work / "schemas").symlink_to(SOURCE / "schemas")
        subprocess.run([XOEVGATE, "dev-keys", "--config", "config/gateway.yaml"], cwd=work, check=True,
                       capture_output=True)
        procs = Processes(work)
        port = free_port()
        gw = procs.start("gateway", "serve", "--config", "config/gateway.yaml", "--listen", f"127.0.0.1:{port}")
        try:
            if check(wait_ready(port), "embedded gateway becomes ready"):
                run(work, port, gw, check)
        finally:
            procs.stop_all()
            check(gw.returncode == 0, f"SIGTERM ends serve cleanly (exit {gw.returncode})")
            log = procs.log("gateway")
            check("keeps NOTHING on disk" in log,
                  "the embedded cluster says loudly that it keeps nothing on disk")
            if check.failed:
                print(log[-4000:])
    check.finish()


def inbox(work, dest):
    return work / "var/inbox" / dest


def run(work, port, gw, check):
    status, body, _ = post_xml(port, WASSER.read_bytes())
    check(status == 202 and body["destination"] == "gesundheitsamt-wasser", f"XWasser accepted ({status} {body})")
    check(wait_until(lambda: (inbox(work, "gesundheitsamt-wasser") / f"{WASSER_ID}.xml").exists(), 30, "inbox"),
          "delivered into var/inbox/gesundheitsamt-wasser")

    # Reroute XWasser to the archive while messages keep coming.
    cfg = work / "config/gateway.yaml"
    cfg.write_text(cfg.read_text().replace("destination: gesundheitsamt-wasser", "destination: landesarchiv"))
    results, stop = [], threading.Event()

    def sender():
        while not stop.is_set():
            body, mid = with_new_uuid(WASSER.read_bytes(), WASSER_ID)
            status, answer, _ = post_xml(port, body)
            results.append((status, mid, answer.get("destination") if isinstance(answer, dict) else None))

    t = threading.Thread(target=sender)
    t.start()
    wait_until(lambda: len(results) > 20, 30, "traffic before reload")
    gw.send_signal(signal.SIGHUP)
    check(wait_until(lambda: any(d == "landesarchiv" for _, _, d in results[-5:]), 30, "new route in effect"),
          "after SIGHUP, XWasser goes to landesarchiv")
    stop.set()
    t.join()
    check(all(s == 202 for s, _, _ in results), f"no request failed during reload ({set(s for s, _, _ in results)})")
    delivered = lambda: all((inbox(work, d) / f"{m}.xml").exists() for _, m, d in results)
    check(wait_until(delivered, 60, "all reload-time messages delivered"),
          f"all {len(results)} messages sent around the reload are delivered where their 202 said")

    # A broken config on SIGHUP: refused, the old one keeps serving.
    cfg.write_text(cfg.read_text().replace("destination: landesarchiv", "destination: nowhere"))
    gw.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in (work / "gateway.log").read_text(), 20, "reload refusal logged")
    check("reload refused" in (work / "gateway.log").read_text(), "broken config: reload refused and logged")
    body, mid = with_new_uuid(WASSER.read_bytes(), WASSER_ID)
    status, answer, _ = post_xml(port, body)
    check(status == 202 and answer["destination"] == "landesarchiv", "still routing with the last good config")
    metrics = request(port, "GET", "/metrics")[1].decode()
    check("xoevgate_config_reloads_total 1" in metrics and "xoevgate_config_reload_failures_total 1" in metrics,
          "reloads and failed reloads are counted in /metrics")

    # A new Fachverfahren by SIGHUP alone: its in-process deliverer and back-pressure start
    # before the route to it is live, so what is accepted for it is delivered.
    text = cfg.read_text().replace("destination: nowhere", "destination: landesarchiv")
    text = text.replace("destinations:\n", """destinations:
  - id: wasser-neu
    topic: xoev.wasser.neu
    encryption_keys: [../var/keys/wasser-neu.pub.jwk]
    adapter:
      type: file
      directory: ../var/inbox/wasser-neu
      decryption_keys: [../var/keys/wasser-neu.jwk]
      in_process: true
""", 1)
    text = text.replace("routes:\n", """routes:
  - name: wasser-neu
    match: {reader: "psw:11113110"}
    destination: wasser-neu
""", 1)
    cfg.write_text(text)
    subprocess.run([XOEVGATE, "dev-keys", "--config", "config/gateway.yaml"], cwd=work, check=True, capture_output=True)
    reloaded = (work / "gateway.log").read_text().count("configuration reloaded")
    gw.send_signal(signal.SIGHUP)
    check(wait_until(lambda: (work / "gateway.log").read_text().count("configuration reloaded") > reloaded, 30,
                     "reload with a new destination"), "the reload with a new destination is applied")
    log = (work / "gateway.log").read_text()
    check(log.find("destination 'wasser-neu' added") < log.rfind("configuration reloaded"),
          "the new destination's deliverer started before its route went live")
    sent = []
    for _ in range(5):
        body, mid = with_new_uuid(WASSER.read_bytes(), WASSER_ID)
        status, answer, _ = post_xml(port, body)
        sent.append(mid)
        check(status == 202 and answer.get("destination") == "wasser-neu", f"routed to the new destination ({status} {answer})")
    check(wait_until(lambda: all((inbox(work, "wasser-neu") / f"{m}.xml").exists() for m in sent), 30, "new inbox"),
          "messages for a destination added by reload are delivered without a restart")

    # Moving an existing destination to another topic would strand its records: refused.
    cfg.write_text(cfg.read_text().replace("topic: xoev.wasser.neu", "topic: xoev.wasser.anders"))
    gw.send_signal(signal.SIGHUP)
    check(wait_until(lambda: "stranded" in (work / "gateway.log").read_text(), 20, "topic change refused"),
          "a destination changing its topic is refused on reload, naming why")


if __name__ == "__main__":
    main()
