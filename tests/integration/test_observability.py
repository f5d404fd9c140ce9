"""Operators can see what happens: `serve` and `deliver` (with --listen) expose
Prometheus metrics that `promtool check metrics` accepts, with build info, process
metrics, per-stage latency histograms, refusal reasons and consumer lag; `deliver`
answers /healthz and /readyz; both log JSON lines (log.format: json) with one line per
accepted and per delivered message; the sender's traceparent reaches the HTTP target,
the sender callback and the receipts. One message goes through dev-kafka to an HTTP
target."""
import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import (XWASSER_VALID, free_port, post_xml, request, run_with_processes, start_dev_kafka, wait_ready,
                     wait_until, write_config)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SECRET = "observability-callback-secret"


class Target:
    """The Fachverfahren (POST /inbox) and the sender's callback (POST /receipts):
    keeps each POST's path, headers and body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with target.lock:
                    target.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, path="/inbox"):
        with self.lock:
            return [(h, b) for p, h, b in self.posts if p == path]


def samples(text):
    """{(name, frozenset(labels)): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset(labels.items())))


def promtool_ok(check, text, who):
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    return check(r.returncode == 0, f"promtool check metrics accepts {who}'s /metrics: "
                 + (r.stdout + r.stderr).decode(errors="replace")[:2000])


def run(work, procs, check):
    target = Target()
    _, bootstrap = start_dev_kafka(procs)
    port, ops_port = free_port(), free_port()
    adapter = f"      type: http\n      url: http://127.0.0.1:{target.port}/inbox\n      timeout: 5s\n"
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}", [("fv", adapter)], [("all", {"standard": "XWasser"}, "fv")])
    (work / "callback.secret").write_text(SECRET + "\n")
    cfg.write_text(cfg.read_text().replace(
        "    destination: fv\n",
        f"    destination: fv\n    callback: {{url: \"http://127.0.0.1:{target.port}/receipts\", "
        "hmac_secret_file: callback.secret}\n") + "log:\n  format: json\n  level: info\n")
    procs.start("gateway", "serve", "--config", str(cfg))
    procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "fv", "--listen", f"127.0.0.1:{ops_port}")
    if not check(wait_ready(port), "gateway ready"):
        return
    check(request(ops_port, "GET", "/healthz")[0] == 200, "deliver answers /healthz")
    check(wait_until(lambda: request(ops_port, "GET", "/readyz", timeout=3)[0] == 200, 30, "deliver /readyz"),
          "deliver becomes ready")

    def dl_metrics():
        return samples(request(ops_port, "GET", "/metrics")[1].decode())

    def lag_values():
        return [v for (n, _), v in dl_metrics().items() if n == "xoevgate_consumer_lag"]

    # Lag is known before the first message (the committed offset asked once), and
    # must follow the deliverer's own commits afterwards.
    def lag_partitions():
        return {dict(l)["partition"] for (n, l) in dl_metrics() if n == "xoevgate_consumer_lag"}

    # dev-kafka creates 4 partitions per topic; the deliverer's consumer owns them all.
    check(wait_until(lambda: lag_partitions() == {"0", "1", "2", "3"} and not any(lag_values()), 30,
                     "lag of every partition before the message"),
          f"deliver: xoevgate_consumer_lag for each of the 4 partitions, 0 while idle ({lag_partitions()})")

    status, answer, _ = request(port, "POST", "/v1/messages", XWASSER_VALID[0].read_bytes(),
                                {"Content-Type": "application/xml", "traceparent": TRACEPARENT})
    if not check(status == 202, f"message accepted: {status} {answer}"):
        return
    check(post_xml(port, b"<unclosed>")[0] == 400, "a malformed message is refused")
    check(wait_until(lambda: len(target.received()) == 1, 30, "delivery to the HTTP target"), "delivered once")

    gw_text = request(port, "GET", "/metrics")[1].decode()
    promtool_ok(check, gw_text, "serve")
    gw = samples(gw_text)
    check(value(gw, "xoevgate_build_info", **dict(re.findall(r'(\w+)="([^"]*)"', re.search(
        r'xoevgate_build_info\{(.*)\}', gw_text).group(1)))) == 1, "serve: xoevgate_build_info 1")
    check('xoevgate_build_info{version="' in gw_text, "build_info names the version")
    check((value(gw, "process_resident_memory_bytes") or 0) > 1e6, "serve: resident memory from /proc")
    check((value(gw, "process_open_fds") or 0) > 3, "serve: open fds")
    check((value(gw, "process_start_time_seconds") or 0) > 1.5e9, "serve: start time is unix time")
    check(value(gw, "xoevgate_messages_accepted_total") == 1, "serve: one accepted")
    check(value(gw, "xoevgate_messages_refused_total", reason="malformed-xml") == 1
          or any(n == "xoevgate_messages_refused_total" and v == 1 for (n, _), v in gw.items()),
          "serve: the refusal is counted with its reason")
    check(re.search(r'xoevgate_messages_refused_total\{reason="[a-z-]+"\} 1', gw_text), "refusal reason label")
    for stage in ("parse", "validate", "seal", "produce"):
        count = value(gw, "xoevgate_stage_duration_seconds_count", stage=stage)
        inf = value(gw, "xoevgate_stage_duration_seconds_bucket", stage=stage, le="+Inf")
        total = value(gw, "xoevgate_stage_duration_seconds_sum", stage=stage)
        want = 2 if stage == "parse" else 1  # the malformed message was parsed too
        check(count == want and inf == want, f"serve: stage {stage} observed {want}x (count {count}, +Inf {inf})")
        check(total is not None and 0 < total < 10, f"serve: stage {stage} took a sane time ({total} s)")

    # The deliverer's lag returns to 0 once its offset is committed. It is sampled every
    # second: wait for samples taken after the delivery, not the idle ones from before.
    time.sleep(2.5)
    check(wait_until(lambda: lag_values() and not any(lag_values()), 15, "lag 0"),
          "deliver: xoevgate_consumer_lag back to 0 after the delivery")
    dl_text = request(ops_port, "GET", "/metrics")[1].decode()
    promtool_ok(check, dl_text, "deliver")
    dl = samples(dl_text)
    lag_partitions = {dict(l)["partition"] for (n, l) in dl if n == "xoevgate_consumer_lag"}
    check(lag_partitions, f"deliver: lag per partition ({sorted(lag_partitions)})")
    check(all(dict(l).get("topic") == "xoev.test.fv" and dict(l).get("destination") == "fv"
              for (n, l) in dl if n == "xoevgate_consumer_lag"), "lag names destination and topic")
    check('xoevgate_build_info{version="' in dl_text, "deliver: build_info")
    check((value(dl, "process_resident_memory_bytes") or 0) > 1e6, "deliver: process metrics")
    check(value(dl, "xoevgate_deliveries_total", destination="fv", outcome="delivered") == 1, "deliver: one delivered")
    for stage in ("deliver", "end_to_end"):
        count = value(dl, "xoevgate_stage_duration_seconds_count", stage=stage, destination="fv")
        total = value(dl, "xoevgate_stage_duration_seconds_sum", stage=stage, destination="fv")
        check(count == 1, f"deliver: stage {stage} observed once ({count})")
        check(total is not None and 0 < total < 30, f"deliver: stage {stage} took a sane time ({total} s)")
    d = value(dl, "xoevgate_stage_duration_seconds_sum", stage="deliver", destination="fv") or 0
    e = value(dl, "xoevgate_stage_duration_seconds_sum", stage="end_to_end", destination="fv") or 0
    check(e >= d, f"end to end ({e} s) includes the delivery ({d} s)")

    # Traces: the sender's traceparent at the target, on the callbacks and in the receipts.
    message_id = answer["messageId"]
    headers, _ = target.received()[0]
    check(headers.get("traceparent") == TRACEPARENT, f"the HTTP target got the sender's traceparent: {headers}")
    check(wait_until(lambda: any(json.loads(b).get("status") == "delivered" for _, b in target.received("/receipts")),
                     30, "the delivered receipt's callback"), "callbacks arrive")
    receipts = [(h, json.loads(b)) for h, b in target.received("/receipts")]
    check({r["status"] for _, r in receipts} >= {"accepted", "delivered"}, f"receipts: {[r['status'] for _, r in receipts]}")
    check(all(r.get("traceparent") == TRACEPARENT for _, r in receipts), "every receipt carries the traceparent")
    check(all(h.get("traceparent") == TRACEPARENT for h, _ in receipts), "every callback POST has a traceparent header")

    # Logs: JSON lines only, with the fixed keys; one accepted and one delivered line.
    def json_lines(name):
        lines, bad = [], []
        for line in procs.log(name).splitlines():
            try:
                obj = json.loads(line)
                lines.append(obj if isinstance(obj, dict) else None)
            except ValueError:
                bad.append(line)
        return [o for o in lines if o is not None], bad

    for name, what in (("gateway", "message accepted"), ("deliver", "message delivered")):
        lines, bad = json_lines(name)
        check(not bad, f"{name}: every log line is JSON ({bad[:3]})")
        check(lines and all(list(o)[:3] == ["time", "level", "msg"] for o in lines),
              f"{name}: time, level, msg first in every line")
        check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]) for o in lines),
              f"{name}: UTC RFC 3339 times with milliseconds")
        mine = [o for o in lines if o["msg"] == what and o.get("messageId") == message_id]
        check(len(mine) == 1, f"{name}: one '{what}' line ({len(mine)})")
        for o in mine:
            check(o.get("messageId") == message_id and o.get("destination") == "fv", f"{name}: id and destination {o}")
            check(o.get("traceparent") == TRACEPARENT, f"{name}: the sender's traceparent in '{what}': {o}")
            check(isinstance(o.get("durationMs"), (int, float)) and 0 <= o["durationMs"] < 30000, f"{name}: duration {o}")
            check(not any(isinstance(v, str) and "<?xml" in v for v in o.values()), f"{name}: no payload in the line")

    # A traceparent that is not W3C's is not trusted: the message gets a new trace.
    forged = "00-" + "0" * 32 + "-00f067aa0ba902b7-01"
    body = XWASSER_VALID[1].read_bytes()
    status2, answer2, _ = request(port, "POST", "/v1/messages", body,
                                  {"Content-Type": "application/xml", "traceparent": forged})
    check(status2 == 202, f"second message accepted: {status2}")
    check(wait_until(lambda: len(target.received()) == 2, 30, "second delivery"), "second message delivered")
    got = target.received()[-1][0].get("traceparent", "")
    check(re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", got) and got != forged and "0" * 32 not in got,
          f"an all-zero trace id is replaced by a new trace ({got})")


if __name__ == "__main__":
    run_with_processes("xoev-observability-", run, logs=("gateway", "deliver"))
