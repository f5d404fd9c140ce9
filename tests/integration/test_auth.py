"""Issue 9, through real processes: `xoevgate serve` with TLS, senders, admins and an
audit log. Checks TLS 1.0/1.1 refused and 1.2/1.3 accepted (openssl s_client), mutual
TLS, bearer JWTs of an external IdP (jwcrypto mints good and bad ones), the gateway's
own client-credentials tokens, may_send / may_speak_for, another sender's status, the
admin role for /metrics, a rate limit, and that every refusal has its status, a problem
and an audit line while nothing is produced. Then `xoevgate audit verify` on the log
as written and after a line is edited, removed, reordered.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

from jwcrypto import jwk, jwt

from harness import (XOEVGATE, TESTDATA, free_port, run_with_processes, start_dev_kafka, wait_until, write_config)

SAMPLE = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"  # autor xyz:0001, leser xyz:0002
SAMPLE_ID = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb"
IDP = "https://idp.test"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """CA, server certificate for 127.0.0.1, client certificate of dienst-a, and a
    client certificate from an unrelated CA."""
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", f"/CN={ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ca, ext in (("server", "ca", ["-extfile", "server.ext"]), ("client", "ca", []), ("rogue", "rogue-ca", []),
                          ("other", "ca", []), ("server2", "ca", ["-extfile", "server.ext"])):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                f"/CN={name}-cert/O=Test", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", *ext, cwd=d)
    def fingerprint(pem):
        out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"], cwd=d,
                             check=True, capture_output=True, text=True).stdout
        return out.strip().split("=", 1)[1]
    return fingerprint("client.pem"), fingerprint("rogue.pem")


def secret_hash(secret, iterations=10000):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return f"pbkdf2-sha256${iterations}${b64(salt)}${b64(digest)}"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Client:
    def __init__(self, port, ca, cert=None):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=str(ca))
        if cert:
            self.ctx.load_cert_chain(*cert)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            parsed = json.loads(data) if "json" in r.getheader("Content-Type", "") and data else data
            return r.status, parsed, dict(r.getheaders())
        finally:
            conn.close()

    def post(self, body, token=None):
        headers = {"Content-Type": "application/xml"}
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.request("POST", "/v1/messages", body, headers)


def fresh_message():
    new = str(uuid.uuid4())
    return SAMPLE.read_bytes().replace(SAMPLE_ID.encode(), new.encode()), new


def idp_token(key, alg, **overrides):
    now = int(time.time())
    claims = {"iss": IDP, "aud": "xoevgate", "sub": "idp-sender", "iat": now, "nbf": now - 5, "exp": now + 300}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.JWT(header={"alg": alg, "kid": key.key_id}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def run(work, procs, check):
    pki = work / "pki"
    pki.mkdir()
    fingerprint, rogue_fingerprint = make_pki(pki)
    rsa = jwk.JWK.generate(kty="RSA", size=2048, kid="idp-rsa")
    ec = jwk.JWK.generate(kty="EC", crv="P-256", kid="idp-ec")
    impostor_rsa = jwk.JWK.generate(kty="RSA", size=2048, kid="idp-rsa")  # same kid, other key
    (work / "idp.jwks.json").write_text(json.dumps({"keys": [json.loads(rsa.export_public()),
                                                             json.loads(ec.export_public())]}))
    secrets = {name: f"{name}-secret-{uuid.uuid4()}" for name in ("restricted", "impostor", "limited", "ops", "patient")}

    _, bootstrap = start_dev_kafka(procs, brokers=1)
    port = free_port()
    xta_port = free_port()
    extra_gateway = f"""  tls: {{certificate: {pki}/server.pem, private_key: {pki}/server.key, client_ca: {pki}/ca.pem}}
  max_message_bytes: 1048576
"""
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       destinations=[("beteiligung", "      type: file\n      directory: inbox\n      in_process: true\n"),
                                     ("postfach", f"      type: xta\n      directory: xta\n      in_process: true\n"
                                                  f"      listen: 127.0.0.1:{xta_port}\n"
                                                  f"      tls: {{certificate: {pki}/server.pem, private_key: {pki}/server.key, "
                                                  f"client_ca: {pki}/ca.pem}}\n"
                                                  f"      readers: [{{client_certificate_sha256: \"{fingerprint}\"}}]\n")],
                       routes=[("xbeteiligung", {"standard": "XBeteiligung", "reader": "xyz:*"}, "beteiligung")],
                       extra_gateway=extra_gateway)
    cfg.write_text(cfg.read_text() + f"""
senders:
  - id: dienst-a
    client_certificate_sha256: "{fingerprint}"
    may_send: [{{standard: XBeteiligung, message_type: "*", reader: "xyz:*"}}]
    may_speak_for: ["xyz:0001"]
  - id: rogue-registered   # registered, but its certificate does not chain to client_ca
    client_certificate_sha256: "{rogue_fingerprint}"
    may_send: [{{}}]
  - id: idp-sender
    jwt: {{issuer: "{IDP}", audience: xoevgate, jwks: idp.jwks.json}}
    may_send: [{{reader: "xyz:0002"}}]
  - id: restricted
    client_id: restricted
    client_secret_hash: "{secret_hash(secrets['restricted'])}"
    may_send: [{{standard: XBeteiligung, reader: "xyz:9999"}}]
  - id: impostor
    client_id: impostor
    client_secret_hash: "{secret_hash(secrets['impostor'])}"
    may_send: [{{}}]
    may_speak_for: ["xyz:7777"]
  - id: limited
    client_id: limited
    client_secret_hash: "{secret_hash(secrets['limited'])}"
    may_send: [{{}}]
    rate_limit_per_second: 0.2
  - id: ops
    client_id: ops
    client_secret_hash: "{secret_hash(secrets['ops'])}"
  - id: patient
    client_id: patient
    client_secret_hash: "{secret_hash(secrets['patient'])}"
    may_send: [{{}}]
    rate_limit_per_second: 1
admins: [ops]
audit:
  file: audit/audit.jsonl
""")
    r = subprocess.run([XOEVGATE, "check-config", str(cfg)], capture_output=True, text=True)
    check(r.returncode == 0, f"check-config accepts the security config: {r.stdout}{r.stderr}")
    gateway = procs.start("gateway", "serve", "--config", str(cfg))
    anon = Client(port, pki / "ca.pem")
    mtls = Client(port, pki / "ca.pem", (pki / "client.pem", pki / "client.key"))
    rogue = Client(port, pki / "ca.pem", (pki / "rogue.pem", pki / "rogue.key"))
    if not check(wait_until(lambda: anon.request("GET", "/readyz")[0] == 200, 60, "gateway ready over TLS"), "ready"):
        return

    tls_versions(port, pki, check)
    xta_mailbox_binding(xta_port, pki, check)
    refused_ids = []

    def refused(client, status, slug, what, token=None, problem_has=""):
        body, mid = fresh_message()
        s, p, headers = client.post(body, token)
        refused_ids.append(mid)
        ok = check(s == status, f"{what}: status {s}, want {status}: {p}")
        if ok and isinstance(p, dict):
            check(p.get("type", "").endswith(slug), f"{what}: problem type {p.get('type')}, want {slug}")
            check(problem_has in p.get("detail", ""), f"{what}: detail '{p.get('detail')}' names '{problem_has}'")
        if status == 401:
            check("Bearer" in headers.get("WWW-Authenticate", ""), f"{what}: WWW-Authenticate present")
        return p

    # Authentication.
    refused(anon, 401, "unauthenticated", "no credentials", problem_has="credentials are required")
    refused(rogue, 401, "unauthenticated", "client certificate of an untrusted CA", problem_has="client_ca")
    body, mtls_id = fresh_message()
    s, p, _ = mtls.post(body)
    check(s == 202, f"mutual TLS sender accepted: {s} {p}")

    good_rs = idp_token(rsa, "RS256")
    body, rs_id = fresh_message()
    check(anon.post(body, good_rs)[0] == 202, "RS256 token of the IdP accepted")
    body, _ = fresh_message()
    check(anon.post(body, idp_token(rsa, "PS256"))[0] == 202, "PS256 token accepted")
    body, _ = fresh_message()
    check(anon.post(body, idp_token(ec, "ES256"))[0] == 202, "ES256 token accepted")
    now = int(time.time())
    refused(anon, 401, "unauthenticated", "wrong signature", idp_token(impostor_rsa, "RS256"), "signature")
    refused(anon, 401, "unauthenticated", "expired", idp_token(rsa, "RS256", exp=now - 600, nbf=now - 900), "expired")
    refused(anon, 401, "unauthenticated", "not yet valid", idp_token(rsa, "RS256", nbf=now + 600, exp=now + 900), "not valid yet")
    refused(anon, 401, "unauthenticated", "foreign issuer", idp_token(rsa, "RS256", iss="https://evil.test"), "not trusted")
    refused(anon, 401, "unauthenticated", "other audience", idp_token(rsa, "RS256", aud="someone-else"), "audience")
    claims = json.loads(jwt.JWT(jwt=good_rs, key=rsa).claims)
    none_token = b64url(b'{"alg":"none","kid":"idp-rsa"}') + "." + b64url(json.dumps(claims).encode()) + "."
    refused(anon, 401, "unauthenticated", "alg none", none_token, '"none" is not allowed')
    pem = rsa.export_to_pem()  # public key as HMAC secret
    signing_input = b64url(b'{"alg":"HS256","kid":"idp-rsa"}') + "." + b64url(json.dumps(claims).encode())
    hs = signing_input + "." + b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    refused(anon, 401, "unauthenticated", "HS256 with the public key as secret", hs, "HS256")

    # The gateway's own tokens (client credentials).
    def token_for(name, basic=False, secret=None):
        secret = secret or secrets[name]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        form = "grant_type=client_credentials"
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()
        else:
            form += f"&client_id={name}&client_secret={secret}"
        return anon.request("POST", "/v1/token", form, headers)

    s, p, h = token_for("ops")
    check(s == 200 and p.get("token_type") == "Bearer" and 0 < p.get("expires_in", 0) <= 1800,
          f"token endpoint, client_secret_post: {s} {p}")
    ops_token = p.get("access_token") if isinstance(p, dict) else None
    s, p, _ = token_for("restricted", basic=True)
    check(s == 200, f"token endpoint, client_secret_basic: {s} {p}")
    restricted_token = p.get("access_token") if isinstance(p, dict) else None
    s, p, h = token_for("limited", secret="wrong-secret-of-someone")
    check(s == 401 and p.get("error") == "invalid_client", f"wrong client secret: {s} {p}")

    # Authorisation.
    refused(anon, 403, "forbidden", "a reader it may not address", restricted_token, "may_send")
    s, p, _ = token_for("impostor")
    refused(anon, 403, "forbidden", "writing as another authority", p.get("access_token"), "may_speak_for")

    # Too large (over max_message_bytes, by its Content-Length): refused by the HTTP layer
    # before any handler, still audited.
    s, p, _ = mtls.request("POST", "/v1/messages", b"<a>" + b"x" * (2 << 20) + b"</a>", {"Content-Type": "application/xml"})
    check(s == 413, f"a too large body: 413 ({s})")

    # Status: only the submitter and admins.
    def status_of(mid, client, token=None):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return client.request("GET", f"/v1/messages/{mid}", None, headers)

    wait_until(lambda: status_of(mtls_id, mtls)[0] == 200, 30, "status of the mTLS submission")
    s, p, _ = status_of(mtls_id, mtls)
    check(s == 200, f"the submitter reads its status: {s} {p}")
    check("/" + str(work).strip("/") not in json.dumps(p), "the status shows no server path")
    check(status_of(mtls_id, anon, good_rs)[0] == 404, "another sender's status: 404")
    check(status_of(mtls_id, anon, ops_token)[0] == 200, "an admin reads any status")
    check(status_of(rs_id, mtls)[0] == 404, "dienst-a cannot read idp-sender's message")
    check(status_of(mtls_id, anon)[0] == 401, "status without credentials: 401")

    # Admin role.
    check(mtls.request("GET", "/metrics")[0] == 403, "/metrics for a non-admin: 403")
    check(anon.request("GET", "/metrics", None, {"Authorization": "Bearer " + ops_token})[0] == 200, "/metrics for an admin")

    # Rate limit: a burst of 1, then 429 with Retry-After.
    s, p, _ = token_for("limited")
    limited_token = p.get("access_token")
    body, _ = fresh_message()
    check(anon.post(body, limited_token)[0] == 202, "within the rate limit")
    body, mid = fresh_message()
    s, p, h = anon.post(body, limited_token)
    refused_ids.append(mid)
    check(s == 429 and int(h.get("Retry-After", "0")) >= 1, f"rate limit hit: {s} Retry-After {h.get('Retry-After')}")

    # Nothing produced for any refusal.
    for mid in refused_ids:
        if not check(status_of(mid, anon, ops_token)[0] == 404, f"refused message {mid} is unknown"):
            break
    inbox = work / "inbox"
    for mid in refused_ids:
        check(not list(inbox.rglob(f"*{mid}*")), f"nothing delivered for refused {mid}")

    send_command(work, port, pki, secrets, check)
    reload_swaps_certificate(cfg, gateway, port, xta_port, pki, check)
    audit_checks(work / "audit" / "audit.jsonl", work, procs, check)


def send_command(work, port, pki, secrets, check):
    """`xoevgate send` with a fetched token (and 429 retried after Retry-After), with mTLS, and without."""
    files = []
    for i in range(3):
        body, _ = fresh_message()
        files.append(work / f"send-{i}.xml")
        files[-1].write_bytes(body)
    url = f"https://127.0.0.1:{port}"
    env = dict(os.environ, XOEVGATE_CLIENT_SECRET=secrets["patient"])
    r = subprocess.run([XOEVGATE, "send", "--url", url, "--cacert", str(pki / "ca.pem"), "--client-id", "patient",
                        *map(str, files[:2])], capture_output=True, text=True, env=env, timeout=60)
    statuses = [json.loads(line).get("status") for line in r.stdout.splitlines()]
    check(r.returncode == 0 and statuses == [202, 202],
          f"send --client-id: token fetched, the 429 of the rate limit retried: rc {r.returncode} {r.stdout} {r.stderr}")
    r = subprocess.run([XOEVGATE, "send", "--url", url, "--cacert", str(pki / "ca.pem"), "--cert", str(pki / "client.pem"),
                        "--key", str(pki / "client.key"), str(files[2])], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and '"status":202' in r.stdout.replace(" ", ""), f"send --cert/--key: {r.stdout} {r.stderr}")
    r = subprocess.run([XOEVGATE, "send", "--url", url, "--cacert", str(pki / "ca.pem"), "--retries", "0", str(files[2])],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and '"status":401' in r.stdout.replace(" ", ""), f"send without credentials: 401 {r.stdout}")
    r = subprocess.run([XOEVGATE, "send", "--url", url, "--cacert", str(pki / "ca.pem"), "--client-id", "patient",
                        "--client-secret", "not-the-secret", str(files[2])], capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "token" in r.stderr, f"send with a wrong client secret: {r.returncode} {r.stderr}")


def served_certificate_cn(port, pki):
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))  # the XTA mailbox asks for one
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]


def reload_swaps_certificate(cfg, gateway, port, xta_port, pki, check):
    """SIGHUP: new connections get the new certificate (the API's from its changed path,
    the XTA mailbox's renewed in place); the reload is audited."""
    check(served_certificate_cn(port, pki) == "server-cert", "the first certificate is served")
    check(served_certificate_cn(xta_port, pki) == "server-cert", "the XTA mailbox serves the first certificate")
    cfg.write_text(cfg.read_text().replace(f"{pki}/server.pem, private_key: {pki}/server.key, client_ca",
                                           f"{pki}/server2.pem, private_key: {pki}/server2.key, client_ca", 1))
    # Renewed in place, as certificate tooling does: the XTA endpoint's files get new contents.
    for suffix in ("pem", "key"):
        (pki / f"server.{suffix}").write_bytes((pki / f"server2.{suffix}").read_bytes())
    gateway.send_signal(signal.SIGHUP)
    check(wait_until(lambda: served_certificate_cn(port, pki) == "server2-cert", 20, "the new certificate"),
          "after SIGHUP new connections get the new certificate")
    check(wait_until(lambda: served_certificate_cn(xta_port, pki) == "server2-cert", 20, "the renewed XTA certificate"),
          "after SIGHUP the XTA mailbox serves its renewed certificate")


def xta_mailbox_binding(port, pki, check):
    """The mailbox answers only the certificate bound to it (readers:), over TLS."""
    envelope = b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>'
    headers = {"Content-Type": "application/soap+xml"}
    for name, cert, bound in (("bound", ("client.pem", "client.key"), True), ("other", ("other.pem", "other.key"), False),
                              ("untrusted", ("rogue.pem", "rogue.key"), False), ("none", None, False)):
        client = Client(port, pki / "ca.pem", tuple(pki / c for c in cert) if cert else None)
        s, body, _ = client.request("POST", "/MB_XTA-WS_2.1", envelope, headers)
        check((s != 403) == bound, f"XTA mailbox, {name} certificate: status {s}")
        if not bound:
            check(b"not bound to this mailbox" in body, f"XTA mailbox, {name}: the fault says why")


def tls_versions(port, pki, check):
    for flag, accepted in (("-tls1", False), ("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)):
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", flag, "-cipher",
                            "DEFAULT@SECLEVEL=0", "-CAfile", str(pki / "ca.pem"), "-verify_return_error"],
                           input=b"", capture_output=True, timeout=20)
        check((r.returncode == 0) == accepted, f"TLS {flag}: handshake {'accepted' if accepted else 'refused'} "
                                               f"(rc {r.returncode}) {r.stdout[-300:]!r}")


def audit_checks(log, work, procs, check):
    lines = log.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    statuses = [e.get("status") for e in events if e["event"] == "refused"]
    for status, at_least in ((401, 10), (403, 2), (413, 1), (429, 1)):
        check(statuses.count(status) >= at_least, f"audit: {statuses.count(status)} refused lines with {status}")
    accepted = [e for e in events if e["event"] == "accepted"]
    check(len(accepted) >= 5 and all(len(e.get("payloadSha256", "")) == 64 and e.get("sender") for e in accepted),
          f"audit: accepted lines carry sender and payload hash ({len(accepted)})")
    check(any(e["event"] == "token-issued" for e in events), "audit: token issuance recorded")
    check(any(e["event"] == "config-reloaded" and e.get("result") == "ok" for e in events), "audit: the reload recorded")
    text = log.read_text() + procs.log("gateway")
    check("Initiieren" not in text and "<?xml" not in text, "no payload plaintext in the audit log or gateway log")

    def verify(path):
        return subprocess.run([XOEVGATE, "audit", "verify", str(path)], capture_output=True, text=True)

    r = verify(log)
    check(r.returncode == 0, f"audit verify: intact log exits 0: {r.stdout}{r.stderr}")
    cases = {
        "edited": lambda ls: ls[:3] + [ls[3].replace('"time":"', '"time":"1')] + ls[4:],
        "removed": lambda ls: ls[:3] + ls[4:],
        "reordered": lambda ls: ls[:3] + [ls[4], ls[3]] + ls[5:],
    }
    for name, change in cases.items():
        copy = work / f"audit-{name}.jsonl"
        copy.write_text("\n".join(change(list(lines))) + "\n")
        r = verify(copy)
        check(r.returncode == 1 and f":4:" in r.stderr, f"audit verify finds the {name} line 4: rc {r.returncode} {r.stderr}")
    r = verify(work / "no-such-audit.jsonl")
    check(r.returncode == 2, f"audit verify: unreadable file exits 2 (rc {r.returncode})")


if __name__ == "__main__":
    run_with_processes("xoev-auth-", run)
