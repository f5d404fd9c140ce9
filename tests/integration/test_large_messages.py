"""Issue 10: large submissions streamed through in constant memory, as chunk records.

Gateway and file deliverer are separate processes against `xoevgate dev-kafka` (the
mock cluster keeps ~5 MB per partition, so a 50 MB message only gets through if the
gateway waits for the deliverer instead of refusing). Schema-valid xdomea 3.0
Aussonderungen with inline documents come from tests/tools/large_xdomea.py.

Checks: 1 MB and 50 MB pass byte-identical with size and chunk count in the answer and
status, and neither process's peak RSS grows by the message's size; a stopped deliverer
holds an upload (back-pressure, no 503) until it runs again; an invalid document ends in
422 with a line and an abort, nothing delivered; a 413 by Content-Length; kill -9 of the
gateway mid-upload (no 202, nothing delivered, the deliverer discards the rest with a
`failed` receipt); kill -9 of the deliverer mid-reassembly (delivered once, complete);
a chunk removed or two swapped on the topic (refused, dead-lettered with the reason).
"""
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from harness import (SOURCE, XOEVGATE, free_port, request, run_with_processes, start_dev_kafka, wait_ready,
                     wait_until, write_config)

DEST = "archiv"
TOPIC = f"xoev.test.{DEST}"
STANDARDS = """standards:
  - name: xdomea
    namespace: urn:xoev-de:xdomea:schema:3.0.0
    root: "Aussonderung.*"
    namespaces: {x: "urn:xoev-de:xdomea:schema:3.0.0"}
    fields:
      id: "concat(/*/x:Kopf/x:ProzessID, '-', /*/x:Kopf/x:Nachrichtentyp/code)"
      type: "/*/x:Kopf/x:Nachrichtentyp/code"
      reader: "concat(/*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Praefix/code, ':', /*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Behoerdenschluessel/code)"
      author: "concat(/*/x:Kopf/x:Absender/x:Behoerdenkennung/x:Praefix/code, ':', /*/x:Kopf/x:Absender/x:Behoerdenkennung/x:Behoerdenschluessel/code)"
"""


def make_message(work, megabytes):
    """A schema-valid xdomea Aussonderung of about `megabytes`, with a fresh ProzessID."""
    out = Path(work) / f"msg-{uuid.uuid4().hex[:8]}.xml"
    process_id = str(uuid.uuid4())
    subprocess.run(["/usr/bin/python3", str(SOURCE / "tests/tools/large_xdomea.py"), str(megabytes), str(out),
                    "--process-id", process_id], check=True, capture_output=True)
    with out.open("rb") as f:
        start = f.read(64 * 1024)
    type_code = re.search(rb"Nachrichtentyp[^>]*>\s*<code>([^<]+)</code>", start).group(1).decode()
    return out, f"{process_id}-{type_code}"


def post_file(port, path, timeout=600, chunked=False, stop_after=None, headers=None):
    """Streams a file as the body (never whole in memory). stop_after: bytes after which the
    upload just stops sending (the caller kills something meanwhile)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    size = path.stat().st_size
    try:
        conn.putrequest("POST", "/v1/messages")
        conn.putheader("Content-Type", "application/xml")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        else:
            conn.putheader("Content-Length", str(size))
        conn.endheaders()
        sent = 0
        with path.open("rb") as f:
            while True:
                block = f.read(256 * 1024)
                if not block:
                    break
                conn.send(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
                sent += len(block)
                if stop_after is not None and sent >= stop_after:
                    return None, sent, conn  # kept open: the caller decides what ends it
        if chunked:
            conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None, dict(r.getheaders())
    except (OSError, http.client.HTTPException) as e:
        return None, str(e), None
    finally:
        if stop_after is None:
            conn.close()


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sha256(path):
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inbox(work, mid):
    return Path(work) / "inbox" / DEST / f"{mid}.xml"


def chunk_dir(work):
    return Path(work) / "state" / f"{DEST}.chunks"


def main():
    run_with_processes("xoev-large-", run, ("gateway", "deliver", "deliver-2", "gateway-2"))


def start_gateway(procs, cfg, name="gateway"):
    return procs.start(name, "serve", "--config", str(cfg))


def start_deliverer(procs, cfg, name="deliver"):
    return procs.start(name, "deliver", "--config", str(cfg), "--destination", DEST)


def run(work, procs, check):
    kafka, bootstrap = start_dev_kafka(procs)
    port = free_port()
    cfg = write_config(
        work, bootstrap, f"127.0.0.1:{port}",
        destinations=[(DEST, f"      type: file\n      directory: inbox/{DEST}\n      chunk_timeout: 6s\n")],
        routes=[("aussonderung", {"standard": "xdomea"}, DEST)],
        extra_gateway="  max_message_bytes: 200000000\n  state_directory: state",
        standards=STANDARDS)
    gw = start_gateway(procs, cfg)
    deliverer = start_deliverer(procs, cfg)
    if not check(wait_ready(port), "gateway becomes ready"):
        return

    # --- 1 MB and 50 MB, byte-identical; RSS stays far below the message size.
    time.sleep(1)
    gw_idle, dl_idle = peak_rss_mb(gw.pid), peak_rss_mb(deliverer.pid)
    for mb in (1, 50):
        path, mid = make_message(work, mb)
        status, body, headers = post_file(port, path)
        size = path.stat().st_size
        if not check(status == 202 and body["messageId"] == mid and body["size"] == size
                     and body["chunks"] == -(-size // (256 * 1024)), f"{mb} MB: 202 with size and chunks ({status} {body})"):
            continue
        check(wait_until(lambda: inbox(work, mid).exists(), 120, f"{mb} MB delivered"), f"{mb} MB delivered")
        check(inbox(work, mid).exists() and sha256(inbox(work, mid)) == sha256(path), f"{mb} MB: identical bytes")
        check(wait_until(lambda: request(port, "GET", f"/v1/messages/{mid}")[1].get("status") == "delivered", 30,
                         "status delivered"), f"{mb} MB: status delivered")
        st = request(port, "GET", f"/v1/messages/{mid}")[1]
        check(st.get("size") == size and st.get("chunks") == body["chunks"], f"{mb} MB: status has size/chunks ({st})")
        if mb == 50:
            gw_growth, dl_growth = peak_rss_mb(gw.pid) - gw_idle, peak_rss_mb(deliverer.pid) - dl_idle
            print(f"50 MB: gateway peak RSS +{gw_growth:.1f} MB, deliverer +{dl_growth:.1f} MB", flush=True)
            check(gw_growth < 40, f"gateway peak RSS grew {gw_growth:.1f} MB for a 50 MB message (< 40)")
            check(dl_growth < 40, f"deliverer peak RSS grew {dl_growth:.1f} MB for a 50 MB message (< 40)")
        path.unlink()
    check(wait_until(lambda: not any(chunk_dir(work).glob("*.part")), 20, "reassembly files removed"),
          "the deliverer removes a delivered message's reassembly files")

    # --- A chunked transfer of a large body works too.
    path, mid = make_message(work, 2)
    status, body, _ = post_file(port, path, chunked=True)
    check(status == 202 and body["messageId"] == mid, f"chunked transfer: 202 ({status} {body})")
    check(wait_until(lambda: inbox(work, mid).exists(), 60, "chunked delivered") and
          sha256(inbox(work, mid)) == sha256(path), "chunked transfer: delivered identical")

    # --- Back-pressure: a stopped deliverer holds the upload; no 503, 202 once it runs.
    path, mid = make_message(work, 20)
    result = {}
    os.kill(deliverer.pid, signal.SIGSTOP)
    t = threading.Thread(target=lambda: result.update(r=post_file(port, path)))
    t.start()
    time.sleep(6)
    check(t.is_alive(), "with the deliverer stopped, a 20 MB upload waits (TCP back-pressure), not answered")
    os.kill(deliverer.pid, signal.SIGCONT)
    t.join(300)
    status, body, _ = result.get("r", (None, None, None))
    check(status == 202 and body["messageId"] == mid, f"after the deliverer resumed: 202 ({status} {body})")
    check(wait_until(lambda: inbox(work, mid).exists(), 120, "held message delivered") and
          sha256(inbox(work, mid)) == sha256(path), "the held message is delivered identical")

    # --- Too large by Content-Length: 413 with the limit, before the body is read.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", "/v1/messages")
    conn.putheader("Content-Type", "application/xml")
    conn.putheader("Content-Length", str(300_000_000))
    conn.endheaders()
    r = conn.getresponse()
    problem = json.loads(r.read() or b"{}")
    conn.close()
    check(r.status == 413 and "200000000" in problem.get("detail", ""), f"413 names the limit ({r.status} {problem})")

    # --- Invalid near the end: 422/400 with a line, abort, nothing delivered.
    path, mid = make_message(work, 5)
    data = path.read_bytes()
    cut = data.rindex(b"</")
    bad = data[:cut] + b"<NichtImSchema/>" + data[cut:]
    path.write_bytes(bad)
    status, body, _ = post_file(port, path)
    check(status in (400, 422) and body.get("errors") and body["errors"][0].get("line", 0) > 1,
          f"invalid at the end: {status} with a line ({str(body)[:300]})")
    time.sleep(3)
    check(not inbox(work, mid).exists(), "the invalid message is not delivered")
    check(wait_until(lambda: not any(chunk_dir(work).glob("*.part")), 20, "aborted sequence removed"),
          "the deliverer drops the aborted sequence at once")

    # --- kill -9 of the gateway mid-upload: no 202, nothing delivered, discarded with a receipt.
    path, mid = make_message(work, 10)
    status, sent, upload = post_file(port, path, stop_after=4 * 1024 * 1024)
    # The gateway produced some chunks (the deliverer holds them); the sender is still connected.
    check(wait_until(lambda: any(chunk_dir(work).glob("*.part")), 60, "first chunks held"),
          "the killed upload's first chunks reached the deliverer")
    gw.send_signal(signal.SIGKILL)
    gw.wait()
    upload.close()
    check(status is None, "no answer before the gateway died")
    gw = start_gateway(procs, cfg, "gateway-2")
    check(wait_ready(port), "gateway restarted")
    check(wait_until(lambda: request(port, "GET", f"/v1/messages/{mid}")[1].get("status") == "failed", 60,
                     "incomplete receipt"), "the deliverer discards the incomplete sequence with a failed receipt")
    st = request(port, "GET", f"/v1/messages/{mid}")[1]
    check("incomplete" in st.get("detail", ""), f"the receipt says incomplete ({st})")
    check(not inbox(work, mid).exists(), "nothing of the killed upload is delivered")

    # --- kill -9 of the deliverer mid-reassembly: delivered once, complete.
    path, mid = make_message(work, 30)
    result = {}
    t = threading.Thread(target=lambda: result.update(r=post_file(port, path)))
    t.start()
    check(wait_until(lambda: any(p.stat().st_size > 5_000_000 for p in chunk_dir(work).glob("*.part")), 120,
                     "reassembly under way"), "the deliverer is reassembling")
    deliverer.send_signal(signal.SIGKILL)
    deliverer.wait()
    deliverer = start_deliverer(procs, cfg, "deliver-2")
    t.join(300)
    status, body, _ = result.get("r", (None, None, None))
    check(status == 202, f"upload across the deliverer's restart: 202 ({status} {body})")
    check(wait_until(lambda: inbox(work, mid).exists(), 120, "delivered after restart") and
          sha256(inbox(work, mid)) == sha256(path), "delivered once and complete after the deliverer's kill -9")
    check(len(list((Path(work) / "inbox" / DEST).glob(f"{mid}*"))) == 1, "exactly one file for it")

    tampered_sequences(work, procs, cfg, port, bootstrap, deliverer, check)


def tampered_sequences(work, procs, cfg, port, bootstrap, deliverer, check):
    """Two chunks swapped on the topic: the deliverer refuses the sequence and
    dead-letters with the reason. The chunks come from an upload the gateway aborted
    (invalid at its end), so the originals are discarded first, and copies of its
    gateway-signed chunks are produced again in the wrong order (a removed chunk is the
    same gap; the unit tests cover both). 3 MB (12 chunks): chunks are sealed in parallel
    and those still being sealed when the end's error is found are dropped, so a 1 MB
    upload (5 chunks, 4 in flight) could leave a single chunk on the topic; with 12, the
    in-flight window holds the parser back until at least 7 are produced."""
    from confluent_kafka import Consumer, Producer
    path, mid = make_message(work, 3)
    data = path.read_bytes()
    cut = data.rindex(b"</")
    path.write_bytes(data[:cut] + b"<NichtImSchema/>" + data[cut:])
    status, body, _ = post_file(port, path)
    if not check(status in (400, 422), f"upload to tamper with: refused at its end ({status})"):
        return
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4()}", "auto.offset.reset": "earliest",
                       "enable.auto.commit": False})
    reader.subscribe([TOPIC])
    chunks, deadline = [], time.time() + 30
    while time.time() < deadline:
        m = reader.poll(0.5)
        if m is not None and not m.error() and m.key() == mid.encode():
            if dict(m.headers() or []).get("xoev-chunk-last"):
                break  # the abort record
            chunks.append(m)
    reader.close()
    if not check(len(chunks) >= 3, f"the aborted upload left {len(chunks)} chunk records"):
        return
    time.sleep(2)  # the deliverer has discarded the aborted sequence
    out = Producer({"bootstrap.servers": bootstrap})
    for r in [chunks[0], chunks[2], chunks[1]]:
        out.produce(TOPIC, key=r.key(), value=r.value(), headers=r.headers(), partition=r.partition())
    out.flush(30)
    dlq = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4()}", "auto.offset.reset": "earliest"})
    dlq.subscribe([f"xoev.dlq.{DEST}"])
    reasons, deadline = [], time.time() + 60
    while time.time() < deadline and not reasons:
        m = dlq.poll(0.5)
        if m is not None and not m.error() and m.key() == mid.encode():
            reasons.append(dict(m.headers() or []).get("xoev-dlq-reason", b"").decode())
    dlq.close()
    print("dead-letter reason for swapped chunks:", reasons[:1], flush=True)
    check(reasons and "gap" in reasons[0], f"swapped chunks: dead-lettered with the reason ({reasons})")
    check(not inbox(work, mid).exists(), "the tampered sequence is not delivered")
    check(wait_until(lambda: request(port, "GET", f"/v1/messages/{mid}")[1].get("status") == "rejected", 30,
                     "rejected"), "its status says rejected")


if __name__ == "__main__":
    main()
