"""Issue 9, TLS on `xoevgate deliver --listen`: with gateway.tls configured the
deliverer's /healthz and /metrics speak TLS 1.2+ only (openssl s_client, curl), plain
HTTP gets nothing, SIGHUP re-reads a renewed certificate (and the process keeps
running); a non-loopback --listen without TLS is refused at start unless
gateway.allow_plaintext is true.
"""
import signal
import socket
import subprocess
import time

from harness import XOEVGATE, free_port, run_with_processes, start_dev_kafka, wait_until, write_config


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=ca", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "renewed"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}-cert",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", "-extfile", "server.ext", cwd=d)


def s_client(port, *flags):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *flags],
                       input="", capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def curl(url, ca):
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", str(ca), "-o", "-", "-w", "\n%{http_code}", url],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.rsplit("\n", 1)[-1] if r.returncode == 0 else f"curl {r.returncode}: {r.stderr.strip()}"


def plain_http_answer(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            return s.recv(100)
    except OSError:
        return b""


def main():
    run_with_processes("xoev-deliver-tls-", run, ("deliver",))


def run(work, procs, check):
    pki = work / "pki"
    pki.mkdir()
    make_pki(pki)
    _, bootstrap = start_dev_kafka(procs, brokers=1)
    cert, key = work / "listen.pem", work / "listen.key"
    cert.write_bytes((pki / "server.pem").read_bytes())
    key.write_bytes((pki / "server.key").read_bytes())
    cfg = write_config(work, bootstrap, f"127.0.0.1:{free_port()}",
                       [("wasser", "      type: file\n      directory: inbox\n")],
                       [("all", {"standard": "XWasser"}, "wasser")],
                       extra_gateway=f"  tls: {{certificate: {cert}, private_key: {key}}}\n")
    port = free_port()
    deliver = procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "wasser",
                          "--listen", f"127.0.0.1:{port}")
    ca = pki / "ca.pem"
    check(wait_until(lambda: curl(f"https://127.0.0.1:{port}/healthz", ca) == "200", 60, "deliver /healthz over TLS"),
          "curl --cacert: /healthz answers 200 over TLS")
    check(curl(f"https://127.0.0.1:{port}/metrics", ca) == "200", "and /metrics")
    check(b"HTTP/1.1 200" not in plain_http_answer(port), "plain HTTP on the same port gets no answer")
    rc, out = s_client(port, "-tls1_2", "-CAfile", str(ca), "-verify_return_error")
    check(rc == 0 and "Verify return code: 0" in out, f"TLS 1.2 with a verified certificate ({out[-300:]})")
    for old in ("-tls1", "-tls1_1"):
        rc, out = s_client(port, old)
        check(rc != 0, f"{old} refused ({out[-200:]})")

    # A renewed certificate, read on SIGHUP: new connections see it, the process runs on.
    def subject():
        return s_client(port, "-tls1_3")[1]
    check("CN = server-cert" in subject() or "CN=server-cert" in subject(), "the first certificate is served")
    cert.write_bytes((pki / "renewed.pem").read_bytes())
    key.write_bytes((pki / "renewed.key").read_bytes())
    deliver.send_signal(signal.SIGHUP)
    check(wait_until(lambda: "renewed-cert" in subject(), 20, "renewed certificate"),
          "after SIGHUP new connections get the renewed certificate")
    time.sleep(0.5)
    check(deliver.poll() is None, "SIGHUP does not stop the deliverer")
    check(curl(f"https://127.0.0.1:{port}/healthz", ca) == "200", "and it still answers")
    procs.stop(deliver)

    # Without gateway.tls: loopback is fine, any other address needs allow_plaintext.
    plain = work / "plain.yaml"
    plain.write_text(cfg.read_text().replace(f"  tls: {{certificate: {cert}, private_key: {key}}}\n", ""))
    refused = subprocess.Popen([XOEVGATE, "deliver", "--config", str(plain), "--destination", "wasser",
                                "--listen", f"0.0.0.0:{free_port()}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=work)
    try:
        _, err = refused.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # it started and serves plain HTTP on every interface
        refused.kill()
        _, err = refused.communicate()
    check(refused.returncode not in (0, None, -9) and "gateway.tls" in err and "allow_plaintext" in err,
          f"a non-loopback --listen without TLS is refused at start ({refused.returncode}: {err[-300:]})")
    allowed = work / "allowed.yaml"
    allowed.write_text(plain.read_text().replace("gateway:\n", "gateway:\n  allow_plaintext: true\n", 1))
    open_port = free_port()
    procs.start("deliver-plain", "deliver", "--config", str(allowed), "--destination", "wasser",
                "--listen", f"0.0.0.0:{open_port}")
    check(wait_until(lambda: b"HTTP/1.1 200" in plain_http_answer(open_port), 60, "plain deliver"),
          "with gateway.allow_plaintext: true it starts, plain HTTP")


if __name__ == "__main__":
    main()
