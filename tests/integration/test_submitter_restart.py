"""Issue 9, who may read a status survives a restart: the gateway's "accepted" receipt
names the submitting sender, and a restarted gateway rebuilds its status from
xoev.receipts (on `xoevgate dev-kafka`, an external broker that outlives it). After the
restart the submitter still reads its message, another sender still gets 404, and an
admin reads it too; only the admin sees the server path in the detail.
"""
import base64
import hashlib
import json
import os
import urllib.parse

from harness import (TESTDATA, free_port, request, run_with_processes, start_dev_kafka, wait_ready, wait_until,
                     with_new_uuid, write_config)

SAMPLE = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"
SENDERS = {"labor": "labor-secret-0123456789", "nachbar": "nachbar-secret-0123456789", "ops": "ops-secret-0123456789"}


def secret_hash(secret):
    """senders[].client_secret_hash, as `xoevgate hash-secret` writes it."""
    salt = os.urandom(16)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return f"pbkdf2-sha256$10000${b64(salt)}${b64(hashlib.pbkdf2_hmac('sha256', secret.encode(), salt, 10000))}"


def token(port, client):
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client,
                                   "client_secret": SENDERS[client]})
    status, body, _ = request(port, "POST", "/v1/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    return body["access_token"] if status == 200 else None


def main():
    run_with_processes("xoev-submitter-", run)


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs, brokers=1)
    port = free_port()
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       [("wasser", "      type: file\n      directory: inbox\n      in_process: true\n")],
                       [("all", {"standard": "XWasser"}, "wasser")])
    senders = "".join(f"  - id: {c}\n    client_id: {c}\n    client_secret_hash: \"{secret_hash(s)}\"\n"
                      f"    may_send: [{{}}]\n" for c, s in SENDERS.items())
    cfg.write_text(cfg.read_text() + "senders:\n" + senders + "admins: [ops]\n")
    gateway = procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_ready(port), "gateway ready"):
        return
    tokens = {c: token(port, c) for c in SENDERS}
    check(all(tokens.values()), "each sender gets a token")
    auth = lambda c: {"Authorization": f"Bearer {tokens[c]}"}
    body, mid = with_new_uuid(SAMPLE.read_bytes(), SAMPLE_ID)
    status, _, _ = request(port, "POST", "/v1/messages", body, {"Content-Type": "application/xml", **auth("labor")})
    check(status == 202, f"labor submits ({status})")

    def read(c):
        s, b, _ = request(port, "GET", f"/v1/messages/{mid}", headers=auth(c))
        return s, b if isinstance(b, dict) else {}
    check(wait_until(lambda: read("labor")[1].get("status") == "delivered", 60, "delivered"), "delivered")
    check(read("nachbar")[0] == 404, "before the restart: another sender gets 404")

    procs.stop(gateway)
    procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_ready(port), "gateway ready again (statuses read back from xoev.receipts)"):
        return
    status, answer = read("labor")
    check(status == 200 and answer.get("status") == "delivered",
          f"after the restart the submitter still reads its message ({status} {answer})")
    check(read("nachbar")[0] == 404, "after the restart another sender still gets 404")
    status, admin_view = read("ops")
    check(status == 200, f"the admin reads it ({status})")
    check(str(work) in admin_view.get("detail", ""), f"the admin sees where it was written ({admin_view.get('detail')})")
    check(str(work) not in json.dumps(answer), f"the submitter does not ({answer.get('detail')})")


if __name__ == "__main__":
    main()
