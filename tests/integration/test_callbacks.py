"""Sender callbacks (issue 5): a route with `callback:` gets every receipt of its
messages POSTed to the sender's URL, signed with HMAC-SHA256 over "<t>.<body>";
checked here with Python's own hmac, by a test server on loopback."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness import (TESTDATA, Check, Processes, free_port, post_xml, start_dev_kafka, tempdir, wait_ready, wait_until,
                     with_new_uuid, write_config)

SECRET = "s3cret-callback-key-0123456789"
SAMPLE = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"


class Sender:
    def __init__(self):
        self.calls, self.lock = [], threading.Lock()
        sender = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sender.lock:
                    sender.calls.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]


def verify(headers, body):
    sig = headers.get("X-Xoev-Signature", "")
    parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
    expected = hmac.new(SECRET.encode(), (parts.get("t", "") + ".").encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


def main():
    check = Check()
    sender = Sender()
    with tempdir("xoev-callbacks-") as work:
        work = Path(work)
        procs = Processes(work)
        try:
            _, bootstrap = start_dev_kafka(procs)
            port = free_port()
            (work / "callback.secret").write_text(SECRET + "\n")
            cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                               [("wasser", "      type: file\n      directory: inbox\n")],
                               [("all", {"standard": "XWasser"}, "wasser")])
            text = cfg.read_text().replace(
                "    destination: wasser\n",
                f"    destination: wasser\n    callback: {{url: \"http://127.0.0.1:{sender.port}/receipts\", "
                f"hmac_secret_file: callback.secret}}\n")
            cfg.write_text(text)
            procs.start("gateway", "serve", "--config", str(cfg))
            procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "wasser")
            if check(wait_ready(port), "gateway ready"):
                ids = []
                for _ in range(3):
                    body, mid = with_new_uuid(SAMPLE.read_bytes(), SAMPLE_ID)
                    check(post_xml(port, body)[0] == 202, "accepted")
                    ids.append(mid)

                def statuses():
                    with sender.lock:
                        return {(json.loads(b)["messageId"], json.loads(b)["status"]) for _, b in sender.calls}
                check(wait_until(lambda: all((m, "delivered") in statuses() for m in ids), 60, "callbacks"),
                      "the sender is called back with 'delivered' for every message")
                check(all((m, "accepted") in statuses() for m in ids), "… and with 'accepted'")
                with sender.lock:
                    calls = list(sender.calls)
                check(all(verify(h, b) for h, b in calls), f"every callback carries a valid HMAC ({len(calls)} calls)")
                delivered_bodies = [b for _, b in calls if json.loads(b)["status"] == "delivered"]
                check(delivered_bodies and all(str(work).encode() not in b for b in delivered_bodies),
                      "no callback shows the server's paths (the delivered detail names no inbox path)")
                check(all(h.get("X-Xoev-Message-Id") == json.loads(b)["messageId"] for h, b in calls),
                      "X-Xoev-Message-Id names the message")
                tampered = calls[0][1].replace(b"delivered", b"rejected") if calls else b""
                check(calls and not verify(calls[0][0], tampered + b" "), "a changed body fails the HMAC check")
                repeated_step_is_not_news(bootstrap, ids[0], sender, check)
        finally:
            procs.stop_all()
            if check.failed:
                print(procs.log("gateway")[-3000:])
    check.finish()


def repeated_step_is_not_news(bootstrap, mid, sender, check):
    """A signed receipt that repeats a step already sent (a gateway restating the whole
    status after a deliverer's receipt overtook its own) calls the sender back once only."""
    from confluent_kafka import Consumer, Producer
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "t-repeat", "auto.offset.reset": "earliest",
                       "enable.auto.commit": False})
    reader.subscribe(["xoev.receipts"])
    delivered, deadline = None, time.time() + 30
    while delivered is None and time.time() < deadline:
        m = reader.poll(0.5)
        if m is not None and not m.error() and m.key() == mid.encode() and json.loads(m.value())["status"] == "delivered":
            delivered = m
    reader.close()
    if not check(delivered is not None, "the delivered receipt is on xoev.receipts"):
        return

    def delivered_calls():
        with sender.lock:
            return sum(1 for _, b in sender.calls
                       if json.loads(b)["messageId"] == mid and json.loads(b)["status"] == "delivered")
    before = delivered_calls()
    out = Producer({"bootstrap.servers": bootstrap})
    out.produce("xoev.receipts", key=delivered.key(), value=delivered.value(), headers=delivered.headers(),
                partition=delivered.partition())
    out.flush(30)
    check(before == 1, f"one 'delivered' callback per message ({before})")
    time.sleep(3)
    check(delivered_calls() == before, f"a repeated step is not sent again ({delivered_calls()} after {before})")


if __name__ == "__main__":
    main()
