"""Issue 12 part 4, through real processes on `xoevgate dev-kafka` as an external
cluster: POST /admin/reload answers what SIGHUP does (200 with the new routing-table
version, or 422 with every reason as FILE:LINE while the old table stays live), both
only for admins once senders are configured, each call an audit line; GET
/admin/routes shows the live table without key material; a destination added by a
reload has its topic and dead-letter topic on the cluster before a route points at it;
every receipt names the version that routed it; SIGHUP and POST never interleave."""
import base64
import hashlib
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from harness import (SOURCE, TESTDATA, free_port, keygen, request, run_with_processes, start_dev_kafka, wait_until,
                     write_config)

SAMPLE = TESTDATA / "xbeteiligung/tests/res/xmlv14/xbeteiligung-test-kommunal.Initiieren.0401.xml"  # leser xyz:0002
SAMPLE_ID = "60f6667b-fa45-4bd7-b717-f4d6c65e5edb"
CODELIST = SOURCE / "schemas/codelists/dvdv.praefix_51.xml"


def secret_hash(secret, iterations=10000):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return f"pbkdf2-sha256${iterations}${b64(salt)}${b64(digest)}"


def fresh_message():
    new = str(uuid.uuid4())
    return SAMPLE.read_bytes().replace(SAMPLE_ID.encode(), new.encode()), new


def destination_yaml(dest_id):
    return f"""  - id: {dest_id}
    topic: xoev.test.{dest_id}
    encryption_keys: [keys/{dest_id}.pub.jwk]
    adapter:
      decryption_keys: [keys/{dest_id}.jwk]
      type: file
      directory: inbox/{dest_id}
      in_process: true
"""


def broker(kafka, command):
    kafka.stdin.write((command + "\n").encode())
    kafka.stdin.flush()


def run(work, procs, check):
    kafka, bootstrap = start_dev_kafka(procs, brokers=1, control=True)
    port = free_port()
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}",
                       destinations=[("eins", "      type: file\n      directory: inbox/eins\n      in_process: true\n")],
                       routes=[("leser-zwei", {"reader": "xyz:0002"}, "eins"),
                               ("beteiligung", {"standard": "XBeteiligung"}, "eins")])
    (work / "hessen.csv").write_text("reader,destination,service,name\npsw:06414000,eins,,Standesamt Wiesbaden\n"
                                     "psw:06412000,eins,,Standesamt Frankfurt\n")
    secrets = {name: f"{name}-{uuid.uuid4()}" for name in ("ops", "clerk")}
    base = cfg.read_text() + f"""
routing:
  prefix_codelist: {CODELIST}
  directory: [hessen.csv]
senders:
  - id: ops
    client_id: ops
    client_secret_hash: "{secret_hash(secrets['ops'])}"
  - id: clerk
    client_id: clerk
    client_secret_hash: "{secret_hash(secrets['clerk'])}"
    may_send: [{{}}]
admins: [ops]
audit:
  file: audit.jsonl
"""
    cfg.write_text(base)
    gateway = procs.start("gateway", "serve", "--config", str(cfg))
    if not check(wait_until(lambda: request(port, "GET", "/readyz", timeout=3)[0] == 200, 60, "ready"), "gateway ready"):
        return

    def token(name):
        form = f"grant_type=client_credentials&client_id={name}&client_secret={secrets[name]}"
        s, p, _ = request(port, "POST", "/v1/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
        return p["access_token"] if s == 200 else None

    ops, clerk = token("ops"), token("clerk")
    as_ops = {"Authorization": f"Bearer {ops}"}
    as_clerk = {"Authorization": f"Bearer {clerk}"}

    def audit():
        path = work / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    # The admin role, one rule for every admin endpoint.
    for method, path in (("POST", "/admin/reload"), ("GET", "/admin/routes"), ("GET", "/metrics")):
        s, p, ctype = request(port, method, path, None, as_clerk)
        check(s == 403 and "problem+json" in ctype and "admin role" in p.get("detail", ""),
              f"{method} {path} for a non-admin: 403 problem ({s} {str(p)[:200]})")
        s, _, _ = request(port, method, path)
        check(s == 401, f"{method} {path} without credentials: 401 ({s})")
    check(wait_until(lambda: sum(1 for e in audit() if e.get("event") == "refused" and e.get("sender") == "clerk"
                                 and "admin role" in e.get("detail", "")) >= 3, 10, "audit of refusals"),
          "each refused admin call is an audit line")

    # The live table.
    s, table, _ = request(port, "GET", "/admin/routes", None, as_ops)
    check(s == 200, f"GET /admin/routes for an admin ({s} {table})")
    first_version = table.get("version", "")
    check(first_version.startswith("1-") and len(first_version) == 10, f"version of the first table: {first_version}")
    check([r["name"] for r in table.get("routes", [])] == ["leser-zwei", "beteiligung"] and
          table["routes"][0]["match"] == {"reader": "xyz:0002"} and table["routes"][0]["destination"] == "eins",
          f"routes in precedence order with their match: {table.get('routes')}")
    check(table.get("destinations") == [{"id": "eins", "topic": "xoev.test.eins", "adapter": "file", "in_process": True}],
          f"destinations: id, topic, adapter type ({table.get('destinations')})")
    text = json.dumps(table)
    check(".jwk" not in text and "keys/" not in text, "no key material or key paths in /admin/routes")
    check(table.get("directory", {}).get("entries") == 2 and
          table["directory"].get("files") == [{"file": "hessen.csv", "entries": 2}] and "reader_entries" not in table["directory"],
          f"directory summary, no entries inline: {table.get('directory')}")
    s, one, _ = request(port, "GET", "/admin/routes?reader=psw%3A06414000", None, as_ops)
    entries = one.get("directory", {}).get("reader_entries", [])
    check(s == 200 and len(entries) == 1 and entries[0]["reader"] == "psw:06414000" and entries[0]["line"] == 2,
          f"?reader= lists that reader's directory entries ({entries})")

    # A message's status names the table that routed it.
    body, mid = fresh_message()
    s, p, _ = request(port, "POST", "/v1/messages", body, {"Content-Type": "application/xml", **as_clerk})
    check(s == 202 and p.get("destination") == "eins", f"accepted for eins ({s} {p})")
    s, st, _ = request(port, "GET", f"/v1/messages/{mid}", None, as_ops)
    check(st.get("routingVersion") == first_version, f"status shows the routing version ({st})")

    # An invalid config: 422 with every reason, the old table stays.
    broken = base.replace("destination: eins\n", "destination: nirgendwo\n", 1)
    broken = broken.replace("topic: xoev.test.eins", "topic: xoev.test.verschoben")
    cfg.write_text(broken)
    s, p, ctype = request(port, "POST", "/admin/reload", None, as_ops)
    reasons = p.get("reasons", []) if isinstance(p, dict) else []
    check(s == 422 and "problem+json" in ctype and p.get("version") == first_version,
          f"invalid config: 422 problem naming the live version ({s} {p})")
    check(len(reasons) >= 1 and all(r.startswith(str(cfg) + ":") for r in reasons) and
          any("nirgendwo" in r for r in reasons), f"each reason is FILE:LINE: message ({reasons})")
    s, table, _ = request(port, "GET", "/admin/routes", None, as_ops)
    check(table.get("version") == first_version and table["routes"][0]["destination"] == "eins", "old table still live")
    stranded = base.replace("topic: xoev.test.eins", "topic: xoev.test.verschoben")
    cfg.write_text(stranded)
    s, p, _ = request(port, "POST", "/admin/reload", None, as_ops)
    check(s == 422 and any("stranded" in r for r in p.get("reasons", [])), f"a topic change is refused, why ({p})")

    # A new destination by POST alone: topics on the cluster, deliverer, then the route.
    keygen(work, "zwei")
    added = base.replace("destinations:\n", "destinations:\n" + destination_yaml("zwei"), 1)
    added = added.replace("destination: eins\n", "destination: zwei\n", 1)  # leser-zwei → zwei
    cfg.write_text(added)
    s, p, _ = request(port, "POST", "/admin/reload", None, as_ops)
    second_version = p.get("version", "") if isinstance(p, dict) else ""
    check(s == 200 and p.get("status") == "reloaded" and second_version.startswith("2-") and
          second_version[2:] != first_version[2:], f"reload with a new destination: 200 and version 2 ({s} {p})")
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    check("xoev.test.zwei" in topics and "xoev.dlq.zwei" in topics,
          f"the new destination's topic and dead-letter topic exist on the cluster ({sorted(topics)})")
    log = procs.log("gateway")
    check(log.find("destination 'zwei' added; its topics exist") < log.find(f"routing table {second_version} is live"),
          "topics and deliverer came before the table went live")
    body, mid = fresh_message()
    s, p, _ = request(port, "POST", "/v1/messages", body, {"Content-Type": "application/xml", **as_clerk})
    check(s == 202 and p.get("destination") == "zwei", f"now routed to zwei ({s} {p})")
    check(wait_until(lambda: (work / "inbox/zwei" / f"{mid}.xml").exists(), 30, "delivery to zwei"),
          "delivered by the deliverer the reload started")
    s, st, _ = request(port, "GET", f"/v1/messages/{mid}", None, as_ops)
    check(st.get("routingVersion") == second_version, f"the new message names the new version ({st})")
    check(any(e.get("event") == "config-reloaded" and e.get("status") == 200 and second_version in e.get("detail", "")
              for e in audit()) and
          any(e.get("event") == "config-reloaded" and e.get("status") == 422 for e in audit()),
          "each reload call, accepted or refused, is an audit line")

    # SIGHUP and POST at once never interleave: every accepted reload has its own number.
    versions, lock = [], threading.Lock()

    def post_reload():
        s, p, _ = request(port, "POST", "/admin/reload", None, as_ops, timeout=60)
        with lock:
            versions.append((s, p.get("version") if isinstance(p, dict) else None))

    for _ in range(6):
        t = threading.Thread(target=post_reload)
        t.start()
        gateway.send_signal(signal.SIGHUP)
        t.join()
    check(wait_until(lambda: procs.log("gateway").count("configuration reloaded") >= 6, 30, "SIGHUP reloads"),
          "every SIGHUP reload applied")
    check(all(s == 200 for s, _ in versions), f"every POST reload accepted ({versions})")
    s, table, _ = request(port, "GET", "/admin/routes", None, as_ops)
    numbers = [int(v.split("-")[0]) for _, v in versions if v]
    check(table.get("version", "").startswith("14-") and len(set(numbers)) == len(numbers),
          f"2 + 6 POST + 6 SIGHUP reloads give version 14, no number twice ({table.get('version')}, {sorted(numbers)})")

    # A destination whose topics cannot be created is not started, and the reload is
    # refused with the reason: here the cluster is down while a reload adds one.
    keygen(work, "drei")
    cfg.write_text(added.replace("destinations:\n", "destinations:\n" + destination_yaml("drei"), 1))
    broker(kafka, "down 1")
    s, p, _ = request(port, "POST", "/admin/reload", None, as_ops, timeout=60)
    broker(kafka, "up 1")
    reasons = p.get("reasons", []) if isinstance(p, dict) else []
    check(s == 422 and any("'drei' cannot be started" in r and str(cfg) in r for r in reasons) and
          p.get("version") == table.get("version"),
          f"topics that cannot be created refuse the reload, naming the destination ({s} {p})")
    check(wait_until(lambda: request(port, "GET", "/readyz", timeout=3)[0] == 200, 60, "ready again"), "ready again")
    s, p, _ = request(port, "POST", "/admin/reload", None, as_ops, timeout=60)
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    check(s == 200 and "xoev.test.drei" in topics and "xoev.dlq.drei" in topics,
          f"with the cluster back the same reload starts it ({s} {p})")


if __name__ == "__main__":
    run_with_processes("xoev-admin-reload-", run)
