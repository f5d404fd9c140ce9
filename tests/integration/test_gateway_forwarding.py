"""Issue 12, forwarding between states: two `xoevgate serve` processes, each with its own
embedded cluster and keys. Gateway A ("state A") routes readers xyz:* to destination
state-b of type gateway, which forwards over HTTPS with mutual TLS to gateway B; B
knows A as a sender by its client certificate and routes reader xyz:0002 to a file
inbox. Checks: the file at B is the submitted bytes under the same id; the trace goes
on at B; A's status shows `forwarded` (naming B and B's destination) while B cannot
deliver yet, and after a restart of A still learns B's final `delivered`; B answers A
about the message; a message B refuses (no route there: 422) is `rejected` at A with
B's reason; B down → A retries, dead-letters, and `dlq replay` delivers once B is back.
"""
import http.client
import json
import signal
import ssl
import subprocess
import time
import uuid
from pathlib import Path

from harness import (XOEVGATE, TESTDATA, free_port, post_xml, request, run_with_processes, wait_ready, wait_until,
                     write_config)

SAMPLE = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"  # leser xyz:0002
SAMPLE_ID = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A CA, B's server certificate for 127.0.0.1, A's client certificate; A's fingerprint."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=states-ca", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ext in (("gateway-b", ["-extfile", "server.ext"]), ("gateway-a", [])):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}/O=Test",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", *ext, cwd=d)
    out = subprocess.run(["openssl", "x509", "-in", "gateway-a.pem", "-noout", "-fingerprint", "-sha256"], cwd=d,
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]


def message(reader=None):
    new = str(uuid.uuid4())
    body = SAMPLE.read_bytes().replace(SAMPLE_ID.encode(), new.encode())
    if reader:
        body = body.replace(b"<ns3:kennung>xyz:0002</ns3:kennung>", f"<ns3:kennung>{reader}</ns3:kennung>".encode())
    return body, new


class TlsClient:
    """Talks to gateway B as gateway A does (A's client certificate)."""

    def __init__(self, port, pki, as_a=True):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        if as_a:
            self.ctx.load_cert_chain(str(pki / "gateway-a.pem"), str(pki / "gateway-a.key"))

    def get(self, path):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if "json" in r.getheader("Content-Type", "") and data else data)
        finally:
            conn.close()


def main():
    run_with_processes("xoev-forward-", run, ("gateway-a", "gateway-b"))


def start_b(procs, cfg_b):
    return procs.start("gateway-b", "serve", "--config", str(cfg_b))


def run(work, procs, check):
    pki = work / "pki"
    pki.mkdir()
    fingerprint = make_pki(pki)
    a_dir, b_dir = work / "a", work / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    port_a, port_b = free_port(), free_port()

    # Gateway B: TLS with client certificates, A is its only sender; reader xyz:0002 → file inbox.
    cfg_b = write_config(b_dir, "embedded", f"127.0.0.1:{port_b}",
                         [("inbox-b", "      type: file\n      directory: inbox\n      in_process: true\n"
                                      "      initial_backoff: 200ms\n      max_backoff: 500ms\n      max_attempts: 1000\n")],
                         [("kommune-0002", {"standard": "XBeteiligung", "reader": "xyz:0002"}, "inbox-b")],
                         extra_gateway=f"  tls: {{certificate: {pki}/gateway-b.pem, private_key: {pki}/gateway-b.key, "
                                       f"client_ca: {pki}/ca.pem}}\n")
    cfg_b.write_text(cfg_b.read_text() + f"""
senders:
  - id: gateway-a
    client_certificate_sha256: "{fingerprint}"
    may_send: [{{standard: XBeteiligung, message_type: "*", reader: "xyz:*"}}]
""")
    # Gateway A: anonymous senders on loopback; every xyz:* reader lives in state B.
    cfg_a = write_config(a_dir, "embedded", f"127.0.0.1:{port_a}",
                         [("state-b", f"      type: gateway\n      url: https://127.0.0.1:{port_b}\n"
                                      f"      tls: {{certificate: {pki}/gateway-a.pem, private_key: {pki}/gateway-a.key, "
                                      f"ca: {pki}/ca.pem}}\n      in_process: true\n      timeout: 3s\n"
                                      "      max_attempts: 3\n      initial_backoff: 200ms\n      max_backoff: 400ms\n"
                                      "      status_poll_interval: 200ms\n      status_poll_max_interval: 1s\n")],
                         [("land-b", {"standard": "XBeteiligung", "reader": "xyz:*"}, "state-b")])

    r = subprocess.run([XOEVGATE, "check-config", str(cfg_a)], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"A's config with a gateway destination passes check-config ({r.stdout} {r.stderr})")
    bad = a_dir / "bad.yaml"
    bad.write_text(cfg_a.read_text().replace(f"url: https://127.0.0.1:{port_b}", f"url: http://127.0.0.1:{port_b}")
                   .replace(f"ca: {pki}/ca.pem", f"ca: {pki}/missing-ca.pem"))
    r = subprocess.run([XOEVGATE, "check-config", str(bad)], capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "bad.yaml:" in r.stderr + r.stdout and "https" in r.stderr + r.stdout
          and "missing-ca.pem" in r.stderr + r.stdout,
          f"plain http and a missing CA are FILE:LINE errors ({r.stdout} {r.stderr})")

    # B cannot deliver at first (a file stands where its inbox should be), so A's
    # "forwarded" can be seen before B's final status.
    (b_dir / "inbox").write_text("not a directory")
    b = start_b(procs, cfg_b)
    a = procs.start("gateway-a", "serve", "--config", str(cfg_a))
    client_b = TlsClient(port_b, pki)
    if not check(wait_ready(port_a), "gateway A ready"):
        return
    if not check(wait_until(lambda: client_b.get("/readyz")[0] == 200, 60, "gateway B ready"), "gateway B ready"):
        return

    def status_a(mid):
        return request(port_a, "GET", f"/v1/messages/{mid}")[1]

    body, mid = message()
    status, answer, _ = request(port_a, "POST", "/v1/messages", body,
                                {"Content-Type": "application/xml", "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
    check(status == 202 and answer.get("messageId") == mid and answer.get("destination") == "state-b",
          f"A accepts for state-b ({status} {answer})")
    check(wait_until(lambda: "inbox-b" in status_a(mid).get("detail", ""), 30, "A forwarded to B"),
          f"A's status names B's destination once B accepted ({status_a(mid)})")
    s = status_a(mid)
    check(s.get("status") == "forwarded" and f"127.0.0.1:{port_b}" in s.get("detail", ""),
          f"A shows forwarded to peer 127.0.0.1:{port_b} ({s})")
    time.sleep(2)
    s = status_a(mid)
    check(s.get("status") == "forwarded", f"while B cannot deliver, A does not claim delivery ({s})")
    code, at_b = client_b.get(f"/v1/messages/{mid}")
    check(code == 200 and at_b.get("status") in ("forwarded", "failed"), f"B answers A: not delivered yet ({at_b})")
    code, _ = TlsClient(port_b, pki, as_a=False).get(f"/v1/messages/{mid}")
    check(code == 401, f"B answers nobody without a certificate ({code})")

    # A restarts (its embedded cluster, and so its status, is gone); the forwarded
    # ledger on disk keeps the follow-up going.
    procs.stop(a)
    a = procs.start("gateway-a", "serve", "--config", str(cfg_a))
    check(wait_ready(port_a), "gateway A ready again")
    (b_dir / "inbox").unlink()
    check(wait_until(lambda: status_a(mid).get("status") == "delivered", 60, "A learns delivered"),
          f"after B delivers, A's status is delivered ({status_a(mid)})")
    s = status_a(mid)
    hist = [h["status"] for h in s.get("history", [])]
    check(hist[:1] == ["accepted"] and "forwarded" in hist and hist[-1] == "delivered",
          f"A's history: accepted → forwarded → delivered ({hist})")
    check(f"at peer gateway 127.0.0.1:{port_b}" in s.get("detail", "") and "inbox-b" in s.get("detail", ""),
          f"the final detail names the hop and B's destination ({s.get('detail')})")
    delivered = b_dir / "inbox" / f"{mid}.xml"
    check(delivered.exists() and delivered.read_bytes() == body, "the file at B holds the exact submitted bytes")
    code, at_b = client_b.get(f"/v1/messages/{mid}")
    check(code == 200 and at_b.get("status") == "delivered" and at_b.get("messageId") == mid,
          f"B's status for A as submitter: delivered under the same id ({code} {at_b})")
    check(TRACE_ID in procs.log("gateway-b"), "B continues the sender's trace (traceparent forwarded)")

    # B refuses: no route for reader xyz:0099 there.
    body, refused = message("xyz:0099")
    status, _, _ = post_xml(port_a, body)
    check(status == 202, f"A accepts the message for xyz:0099 ({status})")
    check(wait_until(lambda: status_a(refused).get("status") in ("rejected", "dead-lettered"), 30, "B refuses"),
          f"B's refusal reaches A ({status_a(refused)})")
    s = status_a(refused)
    hist = [h["status"] for h in s.get("history", [])]
    check(s.get("status") == "rejected" and "422" in s.get("detail", "") and "no-route" in s.get("detail", "")
          and "failed" not in hist, f"A: rejected at once with B's reason ({s})")

    # B down: A retries, then dead-letters; B back: replay delivers.
    procs.stop(b)
    body, late = message()
    status, _, _ = post_xml(port_a, body)
    check(status == 202, f"A accepts while B is down ({status})")
    check(wait_until(lambda: status_a(late).get("status") == "dead-lettered", 60, "dead-lettered at A"),
          f"with B down, A dead-letters after its retries ({status_a(late)})")
    hist = [h["status"] for h in status_a(late).get("history", [])]
    check(hist.count("failed") == 2, f"three attempts, two of them retried ({hist})")
    b = start_b(procs, cfg_b)
    check(wait_until(lambda: client_b.get("/readyz")[0] == 200, 60, "gateway B back"), "gateway B back")
    # By id: the message B refused lies in A's dead letters too (every refusal does).
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--config", str(cfg_a), "--destination", "state-b", "--id", late,
                        "--gateway", f"http://127.0.0.1:{port_a}"], capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and json.loads(r.stdout.splitlines()[-1]).get("replayed") == 1,
          f"dlq replay at A ({r.stdout} {r.stderr})")
    check(wait_until(lambda: status_a(late).get("status") == "delivered", 60, "replayed and delivered"),
          f"the replayed message is delivered at B ({status_a(late)})")
    late_file = b_dir / "inbox" / f"{late}.xml"
    check(late_file.exists() and late_file.read_bytes() == body, "B's inbox holds the replayed message")


if __name__ == "__main__":
    main()
