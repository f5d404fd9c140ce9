#!/usr/bin/python3
"""Issue 10's benchmark: one large schema-valid xdomea submission end to end.

Generates an xdomea 3.0 Aussonderung of SIZE MB (tests/tools/large_xdomea.py), then in
one run measures
  baseline  `xmllint --stream --noout --schema` on the file, plus AES-256-GCM over its
            bytes at the rate `openssl speed -evp aes-256-gcm` measures (the `openssl enc`
            of Debian's OpenSSL 3 refuses AEAD ciphers, so its rate stands in);
  xoevgate  POST (streamed from disk) → 202 → delivered into the file inbox by a separate
            `deliver` process, over `xoevgate dev-kafka` (the embedded cluster's 5 MB per
            partition: the upload is paced by the deliverer);
  gateway alone  bench_streamed_ingest on the same file: the gateway's streaming path
            (parse, validate, hash, seal on the stream pool) with every record acknowledged
            at once: no Kafka, no deliverer on the same cores;
and prints the time of each, the ratio (target: xoevgate ≥ 50 % of the baseline's
speed), byte-identity, and the peak RSS of gateway and deliverer above idle (target:
≤ 64 MB each). `--json` prints one JSON object instead.

With `--adapter xta` the destination is an XTA mailbox instead of the file inbox: the
message is delivered into the mailbox, then fetched with getMessage (MTOM) by this
script like a Fachverfahren; it prints the fetch's time, the attachment's byte-identity
and the deliverer's peak RSS above idle across delivery and fetch.

usage: bench/large.py --binary build/xoevgate [--size-mb 1024] [--adapter file|xta] [--keep DIR] [--json]
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/integration"))
from harness import free_port, keygen  # noqa: E402

XSD = ROOT / "schemas/xoev/xdomea/xdomea_3.0.0/xdomea-Nachrichten-AussonderungDurchfuehren.xsd"
STANDARD = """standards:
  - name: xdomea
    namespace: urn:xoev-de:xdomea:schema:3.0.0
    root: "Aussonderung.*"
    namespaces: {x: "urn:xoev-de:xdomea:schema:3.0.0"}
    fields:
      id: "concat(/*/x:Kopf/x:ProzessID, '-', /*/x:Kopf/x:Nachrichtentyp/code)"
      type: "/*/x:Kopf/x:Nachrichtentyp/code"
      reader: "concat(/*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Praefix/code, ':', /*/x:Kopf/x:Empfaenger/x:Behoerdenkennung/x:Behoerdenschluessel/code)"
"""


def rss_mb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def reset_peak(pid):
    # Linux: writing 5 resets the peak RSS (VmHWM) to the current RSS.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def aes_gcm_rate():
    out = subprocess.run(["openssl", "speed", "-evp", "aes-256-gcm", "-bytes", "262144", "-seconds", "3"],
                         capture_output=True, text=True).stdout
    m = re.search(r"^AES-256-GCM\s+([\d.]+)k", out, re.M) or re.search(r"aes-256-gcm\s+([\d.]+)k", out, re.M | re.I)
    return float(m.group(1)) * 1000 if m else None  # bytes per second


def gateway_alone_seconds(binary, message):
    """bench_streamed_ingest's real time for one submission of `message`, or None."""
    bench = Path(binary).parent / "bench" / "bench_streamed_ingest"
    if not bench.exists():
        return None
    r = subprocess.run([str(bench), "--benchmark_format=json"], env=dict(os.environ, XOEV_LARGE_XML=str(message)),
                       capture_output=True, text=True)
    try:
        b = json.loads(r.stdout)["benchmarks"][0]
        return None if b.get("error_occurred") else b["real_time"] / 1000  # ms per iteration
    except (ValueError, KeyError, IndexError):
        return None


def wait_ready(port, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def post_file(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600, blocksize=1 << 20)
    with open(path, "rb") as f:
        conn.request("POST", "/v1/messages", body=f,
                     headers={"Content-Type": "application/xml", "Content-Length": str(os.path.getsize(path))})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")


FETCH = """<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"
 xmlns:osci="http://www.osci.eu/ws/2008/05/transport" xmlns:oscimeta="http://www.osci.eu/ws/2014/10/transport">
<env:Header><wsa:Action>http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxFetchRequest</wsa:Action>
<wsa:MessageID>urn:uuid:{request_id}</wsa:MessageID>
<oscimeta:Author><oscimeta:Identifier type="xoev">xyz:fachverfahren</oscimeta:Identifier></oscimeta:Author></env:Header>
<env:Body><osci:MsgBoxFetchRequest><osci:MsgSelector><wsa:MessageID>{mid}</wsa:MessageID></osci:MsgSelector>
</osci:MsgBoxFetchRequest></env:Body></env:Envelope>"""


def fetch_mtom(port, mid):
    """getMessage as a Fachverfahren sends it; the answer is streamed, never held: returns
    (seconds, SHA-256 hex of the attachment, its size), or raises on a non-MTOM answer."""
    t = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    conn.request("POST", "/MsgBoxPort", body=FETCH.format(request_id=uuid.uuid4(), mid=mid).encode(),
                 headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    r = conn.getresponse()
    ctype = r.getheader("Content-Type", "")
    found = re.search(r'boundary="([^"]+)"', ctype)
    if r.status != 200 or not ctype.startswith("multipart/related") or not found:
        raise SystemExit(f"getMessage: HTTP {r.status} {ctype}: {r.read(2000)!r}")
    separator = f"\r\n--{found.group(1)}\r\n".encode()
    tail = f"\r\n--{found.group(1)}--\r\n".encode()
    head = b""
    while True:  # the root part, then the attachment's part headers
        head += r.read(64 * 1024)
        at = head.find(separator)
        end = head.find(b"\r\n\r\n", at + len(separator)) if at >= 0 else -1
        if end >= 0:
            break
    digest, size, held = hashlib.sha256(), 0, head[end + 4:]
    while True:
        piece = r.read(1 << 20)
        if not piece:
            break
        held += piece
        digest.update(held[:-len(tail)])
        size += len(held) - len(tail)
        held = held[-len(tail):]
    if held != tail:
        raise SystemExit("getMessage: the MTOM answer does not end with its closing boundary")
    return time.monotonic() - t, digest.hexdigest(), size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/xoevgate"))
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--adapter", choices=("file", "xta"), default="file")
    ap.add_argument("--keep")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    args.binary = str(Path(args.binary).resolve())
    work = Path(args.keep or tempfile.mkdtemp(prefix="xoev-large-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        message = work / "message.xml"
        process_id = str(uuid.uuid4())
        subprocess.run(["/usr/bin/python3", str(ROOT / "tests/tools/large_xdomea.py"), str(args.size_mb), str(message),
                        "--process-id", process_id], check=True)
        size = message.stat().st_size
        mid = f"{process_id}-0503"

        env = dict(os.environ, XML_CATALOG_FILES=str(ROOT / "schemas/catalog.xml"))
        t = time.monotonic()
        lint = subprocess.run(["xmllint", "--stream", "--noout", "--schema", str(XSD), str(message)], env=env,
                              capture_output=True, text=True)
        xmllint_s = time.monotonic() - t
        rate = aes_gcm_rate()
        aes_s = size / rate if rate else 0.0
        baseline_s = xmllint_s + aes_s
        alone_s = gateway_alone_seconds(args.binary, message)

        dev = subprocess.Popen([args.binary, "dev-kafka", "--brokers", "1"], stdout=subprocess.PIPE,
                               stderr=open(work / "dev-kafka.log", "wb"))
        procs.append(dev)
        bootstrap = dev.stdout.readline().decode().strip()
        keygen(work, "gateway", "ES256")
        keygen(work, "archiv")
        port, soap_port = free_port(), free_port()
        adapter = ("      type: file\n      directory: inbox\n" if args.adapter == "file" else
                   f"      type: xta\n      directory: mailbox\n      listen: 127.0.0.1:{soap_port}\n")
        (work / "gateway.yaml").write_text(f"""gateway:
  listen: 127.0.0.1:{port}
  max_message_bytes: {size + 1024}
  state_directory: state
audit:
  file: audit/audit.jsonl
kafka:
  bootstrap: "{bootstrap}"
schemas:
  catalog: {ROOT / 'schemas/catalog.yaml'}
keys:
  signing: keys/gateway.jwk
  trusted_gateways: [keys/gateway.pub.jwk]
destinations:
  - id: archiv
    topic: xoev.archiv
    encryption_keys: [keys/archiv.pub.jwk]
    adapter:
{adapter}      decryption_keys: [keys/archiv.jwk]
routes:
  - name: aussonderung
    match: {{standard: xdomea}}
    destination: archiv
{STANDARD}""")
        gw = subprocess.Popen([args.binary, "serve", "--config", "gateway.yaml"], cwd=work,
                              stdout=open(work / "gateway.log", "wb"), stderr=subprocess.STDOUT)
        procs.append(gw)
        dl = subprocess.Popen([args.binary, "deliver", "--config", "gateway.yaml", "--destination", "archiv"], cwd=work,
                              stdout=open(work / "deliver.log", "wb"), stderr=subprocess.STDOUT)
        procs.append(dl)
        if not wait_ready(port):
            raise SystemExit("gateway not ready; see " + str(work / "gateway.log"))
        time.sleep(2)
        idle = {"gateway": rss_mb(gw.pid, "VmRSS"), "deliverer": rss_mb(dl.pid, "VmRSS")}
        reset_peak(gw.pid)
        reset_peak(dl.pid)
        cpu_before = {"gateway": cpu_seconds(gw.pid), "deliverer": cpu_seconds(dl.pid), "dev-kafka": cpu_seconds(dev.pid)}
        t = time.monotonic()
        status, answer = post_file(port, message)
        accepted_s = time.monotonic() - t
        target = work / "inbox" / f"{mid}.xml" if args.adapter == "file" else work / "mailbox/pending" / f"{mid}.msg"
        while not target.exists() and time.monotonic() - t < 3600:
            time.sleep(0.05)
        delivered_s = time.monotonic() - t
        cpu = {k: round(cpu_seconds(p.pid) - cpu_before[k], 2) for k, p in
               (("gateway", gw), ("deliverer", dl), ("dev-kafka", dev))}
        fetch = None
        if args.adapter == "file":
            identical = target.exists() and sha256(target) == sha256(message)
        else:
            fetch_s, digest, fetched = fetch_mtom(soap_port, mid)
            identical = fetched == size and digest == sha256(message)
            fetch = {"seconds": round(fetch_s, 2), "MBps": round(size / 1e6 / fetch_s, 1)}
        peak = {"gateway": rss_mb(gw.pid, "VmHWM"), "deliverer": rss_mb(dl.pid, "VmHWM")}
        result = {
            "sizeBytes": size, "status": status, "chunks": answer.get("chunks"),
            "xmllintStreamSchemaSeconds": round(xmllint_s, 2), "xmllintValid": lint.returncode == 0,
            "aes256gcmSeconds": round(aes_s, 2), "baselineSeconds": round(baseline_s, 2),
            "acceptedSeconds": round(accepted_s, 2), "deliveredSeconds": round(delivered_s, 2),
            "deliveredMBps": round(size / 1e6 / delivered_s, 1),
            "speedVsBaseline": round(baseline_s / delivered_s, 2), "identical": identical,
            "peakAboveIdleMB": {k: round(peak[k] - idle[k], 1) for k in peak},
            "cpuSeconds": cpu,
            "gatewayAloneSeconds": round(alone_s, 2) if alone_s else None,
            "gatewayAloneVsBaseline": round(baseline_s / alone_s, 2) if alone_s else None,
            "adapter": args.adapter, "xtaGetMessage": fetch,
        }
        if args.json:
            print(json.dumps(result))
        else:
            print(f"large message: {size / 1e6:.0f} MB xdomea 3.0, {result['chunks']} chunks, status {status}")
            print(f"  baseline   xmllint --stream --schema {xmllint_s:.1f} s (valid: {lint.returncode == 0})"
                  f" + AES-256-GCM {aes_s:.2f} s = {baseline_s:.1f} s")
            print(f"  xoevgate   202 after {accepted_s:.1f} s, delivered after {delivered_s:.1f} s"
                  f" ({result['deliveredMBps']} MB/s) = {result['speedVsBaseline'] * 100:.0f} % of the baseline's speed"
                  f" (target >= 50 %)")
            if alone_s:
                print(f"  gateway alone (no Kafka, no deliverer beside it) {alone_s:.2f} s"
                      f" ({size / 1e6 / alone_s:.0f} MB/s) = {baseline_s / alone_s * 100:.0f} % of the baseline's speed")
            if fetch:
                print(f"  XTA        getMessage (MTOM, streamed by this script) {fetch['seconds']} s ({fetch['MBps']} MB/s)")
            print(f"  identical  {identical}")
            print(f"  CPU        gateway {cpu['gateway']} s, deliverer {cpu['deliverer']} s, dev-kafka {cpu['dev-kafka']} s"
                  f" (xmllint alone: {xmllint_s:.1f} s; all of them share this machine's {os.cpu_count()} cores)")
            print(f"  peak RSS above idle: gateway {result['peakAboveIdleMB']['gateway']} MB,"
                  f" deliverer {result['peakAboveIdleMB']['deliverer']} MB (target <= 64 MB each)")
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
