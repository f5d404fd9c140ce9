"""Shared by the integration tests: real xoevgate processes on loopback.

Starts `xoevgate dev-kafka` (librdkafka's mock cluster in its own process), writes a
gateway config into a temporary directory, runs `serve` and `deliver` as separate
processes, and talks HTTP with the standard library only. Every wait is bounded.
"""
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

XOEVGATE = os.environ.get("XOEVGATE", "build/xoevgate")
SOURCE = Path(os.environ.get("XOEV_SOURCE_DIR", Path(__file__).resolve().parents[2]))
TESTDATA = Path(os.environ.get("XOEV_TESTDATA_DIR", SOURCE.parent / "shared" / "testdata"))

XBETEILIGUNG = sorted((TESTDATA / "xbeteiligung/tests/res").rglob("*.xml"))
XWASSER_VALID = [TESTDATA / "xwasser/tests" / f for f in (
    "quality_report_minimal.xml", "quality_report_maximal.xml", "administration_receipt.xml", "olb_report_minimal.xml")]


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Check:
    """Counts assertions; prints the closing 'N passed, M failed' line CTest output shows."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


class Processes:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.procs = []

    def start(self, name, *args, stdout=None, stdin=None):
        log = open(self.workdir / f"{name}.log", "ab")
        p = subprocess.Popen([XOEVGATE, *args], stdout=stdout or log, stderr=log, stdin=stdin, cwd=self.workdir)
        p.name = name
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=20):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)

    def log(self, name):
        f = self.workdir / f"{name}.log"
        return f.read_text(errors="replace") if f.exists() else ""


def run_with_processes(prefix, run, logs=("gateway",)):
    """The frame of every process test: a temp dir, run(work, procs, check), all
    processes stopped afterwards, the named logs' tails shown on failure, and the
    closing 'N passed, M failed' line."""
    raise_fd_limit()
    check = Check()
    with tempdir(prefix) as work:
        procs = Processes(work)
        try:
            run(Path(work), procs, check)
        finally:
            procs.stop_all()
            if check.failed:
                for name in logs:
                    print(f"--- {name}.log (tail)\n" + procs.log(name)[-3000:])
    check.finish()


def start_dev_kafka(procs, brokers=3, control=False):
    extra = ["--control-stdin"] if control else []
    p = procs.start("dev-kafka", "dev-kafka", "--brokers", str(brokers), *extra, stdout=subprocess.PIPE,
                    stdin=subprocess.PIPE if control else None)
    line = p.stdout.readline().decode().strip()
    if not re.match(r"^[\w.:,-]+:\d+", line):
        raise RuntimeError("dev-kafka printed no bootstrap list: " + line + procs.log("dev-kafka"))
    return p, line


def keygen(workdir, kid, alg="ECDH-ES+A256KW", extra=()):
    keys = Path(workdir) / "keys"
    keys.mkdir(exist_ok=True)
    subprocess.run([XOEVGATE, "keygen", "--alg", alg, "--kid", kid, "--out", str(keys), *extra], check=True,
                   capture_output=True)
    return keys / f"{kid}.jwk", keys / f"{kid}.pub.jwk"


def write_config(workdir, bootstrap, listen, destinations, routes, extra_gateway="", extra_kafka="", standards=""):
    """destinations: list of (id, adapter_yaml_lines); keys are generated per destination."""
    workdir = Path(workdir)
    keygen(workdir, "gateway", "ES256")
    dest_yaml = ""
    for dest_id, adapter in destinations:
        keygen(workdir, dest_id)
        dest_yaml += f"""  - id: {dest_id}
    topic: xoev.test.{dest_id}
    encryption_keys: [keys/{dest_id}.pub.jwk]
    adapter:
      decryption_keys: [keys/{dest_id}.jwk]
{adapter}
"""
    route_yaml = "".join(
        f"  - name: {name}\n    match: {json.dumps(match)}\n    destination: {dest}\n" for name, match, dest in routes)
    cfg = f"""gateway:
  listen: {listen}
{extra_gateway}
kafka:
  bootstrap: "{bootstrap}"
{extra_kafka}
schemas:
  catalog: {SOURCE / 'schemas/catalog.yaml'}
keys:
  signing: keys/gateway.jwk
  trusted_gateways: [keys/gateway.pub.jwk]
destinations:
{dest_yaml}
routes:
{route_yaml}
{standards}
"""
    path = workdir / "gateway.yaml"
    path.write_text(cfg)
    return path


def request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        ctype = r.getheader("Content-Type", "")
        parsed = json.loads(data) if "json" in ctype and data else data
        return r.status, parsed, ctype
    finally:
        conn.close()


def post_xml(port, body, content_type="application/xml"):
    return request(port, "POST", "/v1/messages", body, {"Content-Type": content_type})


def post_xml_patiently(port, body, timeout=120):
    """Like a well-behaved client: on 503 (back-pressure) wait and send again."""
    deadline = time.time() + timeout
    while True:
        status, parsed, ctype = post_xml(port, body)
        if status != 503 or time.time() > deadline:
            return status, parsed, ctype
        time.sleep(0.5)


def wait_until(predicate, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        time.sleep(interval)
    print(f"timed out after {timeout}s waiting for {what}", flush=True)
    return False


def wait_ready(port, timeout=60):
    return wait_until(lambda: request(port, "GET", "/readyz", timeout=3)[0] == 200, timeout, "gateway /readyz")


def with_new_uuid(xml_bytes, old_id):
    new = str(uuid.uuid4())
    return xml_bytes.replace(old_id.encode(), new.encode()), new


def tempdir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)
