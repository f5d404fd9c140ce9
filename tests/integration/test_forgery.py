"""Nothing forged gets through (issue 15, Kafka side), through real processes: dev-kafka,
a gateway, two deliverers (one signing its receipts with its own key, trusted through
keys.trusted_deliverers, created by `xoevgate dev-keys`) and a sender's callback server.
Someone with write access to Kafka (confluent_kafka here) writes:
  - a forged `delivered` receipt for an id U not yet submitted → GET stays 404, the
    genuine POST of U gets 202 and is delivered; the forged receipt calls nobody back;
  - junk with header xoev-message-id: W on the destination topic → no receipt for W,
    dead-lettered under its topic/partition/offset;
  - U's validly signed record copied into another destination's topic → refused there,
    U's status unaffected;
  - a tampered copy of the delivered U → dead-lettered as unverified, not "delivered before".
"""
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from confluent_kafka import Consumer, Producer

from harness import (TESTDATA, XOEVGATE, free_port, post_xml, request, run_with_processes, start_dev_kafka,
                     wait_ready, wait_until, with_new_uuid, write_config)

SAMPLE = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"
FORGED = "FORGED-BY-TEST"


class Sender:
    """The sender's callback endpoint: records every body it is sent."""

    def __init__(self):
        self.bodies, self.lock = [], threading.Lock()
        sender = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sender.lock:
                    sender.bodies.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def received(self):
        with self.lock:
            return list(self.bodies)


def produce(bootstrap, topic, key, value, headers):
    """Writes one record as an attacker would; returns (partition, offset)."""
    p = Producer({"bootstrap.servers": bootstrap})
    where = {}
    p.produce(topic, key=key, value=value, headers=headers,
              on_delivery=lambda err, msg: where.update(err=err, partition=msg.partition(), offset=msg.offset()))
    p.flush(15)
    assert where.get("err") is None, where
    return where["partition"], where["offset"]


def read_record(bootstrap, topic, key, timeout=20):
    """The first record of `topic` with `key`, as (value, headers)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-" + str(uuid.uuid4()),
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error() and m.key() == key.encode():
                return m.value(), m.headers() or []
        return None, None
    finally:
        c.close()


def dlq_list(cfg, destination):
    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", destination],
                       capture_output=True, text=True, timeout=120)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def main():
    run_with_processes("xoev-forgery-", run, ("gateway", "deliver-wasser", "deliver-other"))


def run(work, procs, check):
    sender = Sender()
    _, bootstrap = start_dev_kafka(procs)
    port = free_port()
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       [("wasser", "      type: file\n      directory: inbox/wasser\n"
                                   "      signing_key: keys/deliverer-wasser.jwk\n"),
                        ("other", "      type: file\n      directory: inbox/other\n")],
                       [("all", {"standard": "XWasser"}, "wasser"), ("none", {"standard": "XNiemals"}, "other")])
    text = cfg.read_text().replace("  trusted_gateways: [keys/gateway.pub.jwk]\n",
                                   "  trusted_gateways: [keys/gateway.pub.jwk]\n"
                                   "  trusted_deliverers: [keys/deliverer-wasser.pub.jwk]\n")
    text = text.replace("    destination: wasser\n",
                        f"    destination: wasser\n    callback: {{url: \"http://127.0.0.1:{sender.port}/r\", "
                        f"hmac_secret_file: callback.secret}}\n")
    cfg.write_text(text)
    (work / "callback.secret").write_text("s3cret-callback-key-0123456789\n")
    r = subprocess.run([XOEVGATE, "dev-keys", "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and (work / "keys/deliverer-wasser.jwk").exists()
          and json.loads((work / "keys/deliverer-wasser.pub.jwk").read_text()).get("kid") == "deliverer-wasser",
          f"dev-keys creates the deliverer's signing key with its own kid ({r.stdout} {r.stderr})")

    untrusted = work / "untrusted.yaml"
    untrusted.write_text(cfg.read_text().replace("  trusted_deliverers: [keys/deliverer-wasser.pub.jwk]\n", ""))
    r = subprocess.run([XOEVGATE, "deliver", "--config", str(untrusted), "--destination", "wasser"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "trusted_deliverers" in r.stderr and r.stderr.count("\n") == 1,
          f"a deliverer whose receipt key no reader trusts refuses to start, in one line ({r.stderr})")

    procs.start("gateway", "serve", "--config", str(cfg))
    procs.start("deliver-wasser", "deliver", "--config", str(cfg), "--destination", "wasser")
    procs.start("deliver-other", "deliver", "--config", str(cfg), "--destination", "other")
    if not check(wait_ready(port), "gateway ready"):
        return

    def status_of(mid):
        s, body, _ = request(port, "GET", f"/v1/messages/{mid}")
        return body if s == 200 else None

    # 1. A forged "delivered" receipt for an id nobody submitted yet.
    body, u = with_new_uuid(SAMPLE.read_bytes(), SAMPLE_ID)
    forged = {"messageId": u, "destination": "wasser", "status": "delivered", "at": "2026-01-01T00:00:00Z",
              "detail": FORGED, "route": "all"}
    produce(bootstrap, "xoev.receipts", u, json.dumps(forged), [])
    produce(bootstrap, "xoev.receipts", u, json.dumps(forged), [("xoev-signature", b"eyJhbGciOiJFUzI1NiJ9.e30.AAAA")])
    check(wait_until(lambda: procs.log("gateway").count(f'key "{u}"') >= 2, 20, "unverified receipts logged"),
          "the gateway logs both forged receipts as unverified, with their offset")
    check(status_of(u) is None, "GET does not show the forged status")
    status, answer, _ = post_xml(port, body)
    check(status == 202, f"the genuine POST of U is accepted with 202 ({status} {answer})")
    check(wait_until(lambda: (status_of(u) or {}).get("status") == "delivered", 30, "U delivered"),
          "U is delivered, receipted by a deliverer with its own trusted key")
    check((work / f"inbox/wasser/{u}.xml").read_bytes() == body, "the exact bytes reach the inbox")
    check(FORGED not in json.dumps(status_of(u)), "no forged detail in U's status")

    # 2. Junk on the destination topic claiming an id W.
    w = str(uuid.uuid4())
    junk_at = produce(bootstrap, "xoev.test.wasser", w, b"junk", [("xoev-message-id", w.encode()),
                                                                  ("xoev-destination", b"wasser")])
    origin = f"xoev.test.wasser/{junk_at[0]}/{junk_at[1]}"

    def letter(destination, origin_):
        return next((l for l in dlq_list(cfg, destination) if l.get("origin") == origin_), None)
    check(wait_until(lambda: letter("wasser", origin) is not None, 30, "junk dead-lettered"),
          f"the junk is dead-lettered under {origin}")
    junk_letter = letter("wasser", origin) or {}
    check(junk_letter.get("unverified") is True and junk_letter.get("messageId") == "" and not junk_letter.get("pending"),
          f"... as unverified, speaking for no id, never replayed ({junk_letter})")
    check(status_of(w) is None, "no receipt for the id the junk claims")

    # 3. U's validly signed record copied into the other destination's topic.
    value, headers = read_record(bootstrap, "xoev.test.wasser", u)
    check(value is not None, "U's genuine record is on its topic")
    copy_at = produce(bootstrap, "xoev.test.other", u, value, headers)
    copy_origin = f"xoev.test.other/{copy_at[0]}/{copy_at[1]}"
    check(wait_until(lambda: letter("other", copy_origin) is not None, 30, "copy refused"),
          f"the copy is refused by the other deliverer and dead-lettered under {copy_origin}")
    check(not (work / "inbox/other").exists() or not any((work / "inbox/other").iterdir()),
          "nothing reaches the other destination's inbox")

    # 4. A tampered copy of the delivered U on its own topic.
    tampered = bytearray(value)
    tampered[len(tampered) // 2] ^= 1
    tamper_at = produce(bootstrap, "xoev.test.wasser", u, bytes(tampered), headers)
    tamper_origin = f"xoev.test.wasser/{tamper_at[0]}/{tamper_at[1]}"
    check(wait_until(lambda: letter("wasser", tamper_origin) is not None, 30, "tampered copy refused"),
          f"the tampered copy is dead-lettered under {tamper_origin}")
    check("delivered before" not in procs.log("deliver-wasser"), "the tampered copy is not 'delivered before'")

    # 5. A forged later "rejected" for the delivered U (it would outrank "delivered" by time).
    late = dict(forged, status="rejected", at="2099-01-01T00:00:00Z")
    before = procs.log("gateway").count(f'key "{u}"')
    produce(bootstrap, "xoev.receipts", u, json.dumps(late), [])
    check(wait_until(lambda: procs.log("gateway").count(f'key "{u}"') > before, 20, "late forgery logged"),
          "the forged later receipt is logged as unverified")

    final = status_of(u) or {}
    history = [h["status"] for h in final.get("history", [])]
    check(final.get("status") == "delivered" and "rejected" not in history and "dead-lettered" not in history,
          f"U's status is unaffected by the copies ({final})")

    # 6. Callbacks: genuine ones only.
    check(wait_until(lambda: any(json.loads(b).get("status") == "delivered" and json.loads(b).get("messageId") == u
                                 for b in sender.received()), 20, "genuine callback"),
          "the sender is called back for U's genuine 'delivered'")
    time.sleep(1)
    check(not any(FORGED.encode() in b for b in sender.received()), "the forged receipt triggers no callback")


if __name__ == "__main__":
    main()
