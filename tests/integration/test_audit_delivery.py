"""Issue 9, the deliverers' side of the audit log: each final decision — delivered,
rejected (the target answers 400), dead-lettered (the inbox cannot be written) — is one
hash-chained line with the message id, the SHA-256 of the plaintext as delivered (and
that it was the plaintext), the destination and the result, never the payload itself.
In-process deliverers write into serve's audit.file; a separate `xoevgate deliver`
writes its own chain, audit.file + ".<destination>". `xoevgate audit verify` passes on
both, and fails once a line is edited.
"""
import hashlib
import http.server
import json
import subprocess
import threading

from harness import (XOEVGATE, TESTDATA, free_port, post_xml, request, run_with_processes, start_dev_kafka,
                     wait_ready, wait_until, with_new_uuid, write_config)

WASSER = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
WASSER_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"
BETEILIGUNG = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"
BETEILIGUNG_ID = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb"


class RefusingTarget:
    """A Fachverfahren that refuses every message with 400."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def lines(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def verify(path):
    r = subprocess.run([XOEVGATE, "audit", "verify", str(path)], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def main():
    run_with_processes("xoev-audit-delivery-", run, ("gateway", "deliver"))


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs, brokers=1)
    target = RefusingTarget()
    port = free_port()
    cfg = write_config(
        work, bootstrap, f"127.0.0.1:{port}",
        [("wasser", "      type: file\n      directory: inbox/wasser\n      in_process: true\n      max_attempts: 2\n"
                    "      initial_backoff: 100ms\n      max_backoff: 200ms\n"),
         ("fv", f"      type: http\n      url: http://127.0.0.1:{target.port}/inbox\n      timeout: 2s\n")],
        [("wasser", {"standard": "XWasser"}, "wasser"), ("beteiligung", {"standard": "XBeteiligung"}, "fv")])
    cfg.write_text(cfg.read_text() + "audit:\n  file: audit/audit.jsonl\n")
    (work / "inbox").mkdir()
    (work / "inbox/wasser").write_text("a file where the inbox directory should be")
    procs.start("gateway", "serve", "--config", str(cfg))
    procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "fv")
    if not check(wait_ready(port), "gateway ready"):
        return

    def status_of(mid):
        return request(port, "GET", f"/v1/messages/{mid}")[1].get("status")

    # Dead-lettered: the inbox is a file; two attempts.
    dead_body, dead_id = with_new_uuid(WASSER.read_bytes(), WASSER_ID)
    check(post_xml(port, dead_body)[0] == 202, "accepted (to be dead-lettered)")
    check(wait_until(lambda: status_of(dead_id) == "dead-lettered", 60, "dead-lettered"), "dead-lettered")
    # Delivered: the inbox fixed.
    (work / "inbox/wasser").unlink()
    good_body, good_id = with_new_uuid(WASSER.read_bytes(), WASSER_ID)
    check(post_xml(port, good_body)[0] == 202, "accepted (to be delivered)")
    check(wait_until(lambda: status_of(good_id) == "delivered", 60, "delivered"), "delivered")
    # Rejected: the target answers 400, through the separate deliver process.
    refused_body, refused_id = with_new_uuid(BETEILIGUNG.read_bytes(), BETEILIGUNG_ID)
    check(post_xml(port, refused_body)[0] == 202, "accepted (to be rejected)")
    check(wait_until(lambda: status_of(refused_id) == "rejected", 60, "rejected"), "rejected")

    # Anonymous mode: the status answers no one the server's paths (the audit log keeps them).
    answer = request(port, "GET", f"/v1/messages/{good_id}")[1]
    check(str(work) not in json.dumps(answer) and "…" in answer.get("detail", ""),
          f"the anonymous status detail shows no server path ({answer.get('detail')})")
    dead_answer = request(port, "GET", f"/v1/messages/{dead_id}")[1]
    check(str(work) not in json.dumps(dead_answer), f"nor does a dead letter's reason ({dead_answer.get('detail')})")

    serve_log, deliver_log = work / "audit/audit.jsonl", work / "audit/audit.jsonl.fv"
    check(wait_until(lambda: any(l.get("event") == "delivered" for l in lines(serve_log)), 10, "delivered line"),
          "serve's audit log has the in-process deliverer's lines")
    by_event = {}
    for l in lines(serve_log) + lines(deliver_log):
        by_event.setdefault((l.get("event"), l.get("messageId")), []).append(l)
    sha = lambda b: hashlib.sha256(b).hexdigest()

    delivered = by_event.get(("delivered", good_id), [])
    written = (work / "inbox/wasser" / f"{good_id}.xml")
    check(len(delivered) == 1 and delivered[0].get("destination") == "wasser" and delivered[0].get("result") == "ok"
          and delivered[0].get("payloadHashed") == "plaintext" and "time" in delivered[0],
          f"one 'delivered' line: destination, result, time, hash of the plaintext ({delivered})")
    check(written.exists() and delivered and delivered[0].get("payloadSha256") == sha(written.read_bytes())
          == sha(good_body), "its payloadSha256 is the SHA-256 of the bytes delivered (= submitted)")
    dead = by_event.get(("dead-lettered", dead_id), [])
    check(len(dead) == 1 and dead[0].get("payloadSha256") == sha(dead_body) and dead[0].get("destination") == "wasser"
          and dead[0].get("result") == "retries-exhausted" and "attempt 2" in dead[0].get("detail", ""),
          f"one 'dead-lettered' line with hash, destination, result and attempts ({dead})")
    rejected = by_event.get(("rejected", refused_id), [])
    check(len(rejected) == 1 and rejected[0].get("payloadSha256") == sha(refused_body)
          and rejected[0].get("destination") == "fv" and rejected[0].get("result") == "target-refused",
          f"one 'rejected' line, in the deliver process's own log ({rejected})")
    check(not any(l.get("event") in ("delivered", "rejected", "dead-lettered") for l in lines(deliver_log)
                  if l.get("destination") != "fv")
          and not any(l.get("destination") == "fv" and l.get("event") != "accepted" for l in lines(serve_log)),
          "each process writes only its own deliverers' decisions")

    # No plaintext: not one distinctive text of the three payloads in either file.
    text = serve_log.read_text() + (deliver_log.read_text() if deliver_log.exists() else "")
    check(good_id in text and "<" not in text and "xmlns" not in text, "no payload text in the audit logs")

    for path in (serve_log, deliver_log):
        rc, out = verify(path)
        check(rc == 0, f"audit verify {path.name}: intact ({out.strip()})")
    # An edited decision breaks the chain at the line after it (accepted lines follow it).
    original = serve_log.read_text()
    edited = original.replace('"result":"retries-exhausted"', '"result":"ok"')
    check(edited != original, "the dead-lettered line can be edited for the test")
    serve_log.write_text(edited)
    rc, out = verify(serve_log)
    check(rc != 0 and "edited" in out, f"audit verify finds the edited line ({out.strip()})")


if __name__ == "__main__":
    main()
