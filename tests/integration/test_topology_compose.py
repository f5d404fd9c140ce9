"""docker-compose.yml's topology without containers: `xoevgate dev-kafka` stands in for
the three brokers, then the compose services' own command lines run as processes on
loopback with config/compose.yaml adapted to this machine — the topics job's plan
(`xoevgate topics ... --dry-run`, created up front in dev-kafka), the gateway, one
deliverer per destination — and a message to every destination arrives in its inbox.
Also: dev-kafka announces readiness on $NOTIFY_SOCKET (systemd Type=notify)."""
import os
import re
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import yaml

from harness import (SOURCE, XBETEILIGUNG, XOEVGATE, XWASSER_VALID, free_port, keygen, request,
                     run_with_processes, wait_ready, wait_until, with_new_uuid)
from test_compose_properties import compose_config, is_xoevgate, option


def xoevgate_commands(services):
    """{service: command} of the compose services that run xoevgate with a config."""
    return {n: list(s["command"]) for n, s in services.items()
            if is_xoevgate(s) and s.get("command") and "--config" in s["command"]}


def adapt_config(work, bootstrap, port):
    """config/compose.yaml with the container paths moved into `work` and Kafka and the
    listener on loopback; the key layout (keys/private, keys/public) stays as in compose."""
    text = (SOURCE / "config/compose.yaml").read_text()
    data = work / "data"
    text = text.replace("/var/lib/xoevgate", str(data)).replace("/usr/share/xoevgate", str(SOURCE))
    config = yaml.safe_load(text)
    config["kafka"]["bootstrap"] = bootstrap
    # dev-kafka is librdkafka's mock cluster: it drops data past ~5 MB per partition.
    config["kafka"]["backlog_bytes_per_partition"] = 3 << 20
    config["gateway"]["listen"] = f"127.0.0.1:{port}"
    # The keys job's layout: private keys in keys/private, public halves in keys/public.
    (data / "keys/private").mkdir(parents=True)
    (data / "keys/public").mkdir(parents=True)
    signing = Path(config["keys"]["signing"])
    priv, pub = keygen(work, signing.stem, "ES256")
    priv.rename(signing)
    pub.rename(config["keys"]["trusted_gateways"][0])
    for d in config["destinations"]:
        priv, pub = keygen(work, d["id"], "ECDH-ES+A256KW", ["--crv", "X25519"])
        priv.rename(d["adapter"]["decryption_keys"][0])
        pub.rename(d["encryption_keys"][0])
        # The deliverer's receipt signing key, its public half among trusted_deliverers.
        receipt_key = Path(d["adapter"]["signing_key"])
        priv, pub = keygen(work, receipt_key.stem, "ES256")
        priv.rename(receipt_key)
        trusted = [t for t in config["keys"]["trusted_deliverers"] if Path(t).name == receipt_key.stem + ".pub.jwk"]
        assert len(trusted) == 1, f"compose.yaml trusts {receipt_key.stem}'s receipts exactly once"
        pub.rename(trusted[0])
    path = work / "compose.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, config


def local(command, config_file):
    """A compose command line with its --config pointing at the adapted file."""
    return [str(config_file) if a == option(command, "--config") else a for a in command]


def notify_socket(work):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(work / "notify.sock"))
    s.settimeout(15)
    return s


def start_kafka_with_notify(work, procs, check, topics):
    sock = notify_socket(work)
    os.environ["NOTIFY_SOCKET"] = str(work / "notify.sock")
    try:
        args = [a for t in topics for a in ("--topic", t)]
        p = procs.start("dev-kafka", "dev-kafka", "--brokers", "3", *args, stdout=subprocess.PIPE)
        bootstrap = p.stdout.readline().decode().strip()
        kafka = p
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        message = sock.recv(4096).decode()
    except socket.timeout:
        message = ""
    sock.close()
    check("READY=1" in message.splitlines() and bootstrap in message,
          f"dev-kafka tells systemd it is ready, with its brokers in STATUS ({message!r})")
    return kafka, bootstrap


def topic_plan(config_file, topics_command, check):
    """The topics job's command line with --dry-run: {topic: partitions}. (librdkafka
    2.0's mock cluster names no controller, so its Admin API cannot create topics there;
    test_topology_topics.py runs the real CreateTopics against a protocol-level broker.)"""
    r = subprocess.run([XOEVGATE, *local(topics_command, config_file), "--dry-run"], capture_output=True, text=True,
                       timeout=60)
    plan = {}
    for line in r.stdout.splitlines():
        m = re.match(r"would create (\S+) \(partitions (\d+),", line)
        if m:
            plan[m.group(1)] = int(m.group(2))
    check(r.returncode == 0 and plan, f"the topics job's plan: {r.stdout}{r.stderr}")
    return plan


def run(work, procs, check):
    services = compose_config("docker-compose.yml")["services"]
    commands = xoevgate_commands(services)
    port = free_port()
    config_file, config = adapt_config(work, "bootstrap.invalid:9092", port)
    topics_jobs = [c for c in commands.values() if c[0] == "topics"]
    if not check(len(topics_jobs) == 1, "compose has one topics job"):
        return
    plan = topic_plan(config_file, topics_jobs[0], check)
    kafka, bootstrap = start_kafka_with_notify(work, procs, check, [f"{t}:{n}" for t, n in plan.items()])
    config["kafka"]["bootstrap"] = bootstrap
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    from confluent_kafka.admin import AdminClient
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    got = {t: len(metadata.topics[t].partitions) for t in plan if t in metadata.topics}
    check(got == plan, f"the cluster has the planned topics and partitions ({got} vs {plan})")

    for name, command in sorted(commands.items()):
        if command[0] in ("serve", "deliver"):
            procs.start(name, *local(command, config_file))
    if not check(wait_ready(port), "the gateway (compose command line) becomes ready"):
        return

    destinations = {d["id"]: d for d in config["destinations"]}
    deliverers = {option(c, "--destination") for c in commands.values() if c[0] == "deliver"}
    check(deliverers == set(destinations), f"compose runs a deliverer per destination ({sorted(deliverers)})")

    # Compose authenticates: each sender fetches a token with its demo client secret.
    def token(client_id):
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": f"{client_id}-demo-secret-change-me"})
        status, body, _ = request(port, "POST", "/v1/token", form,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 200 and "access_token" in body, f"{client_id} gets a token with the documented demo secret")
        return {"Authorization": f"Bearer {body.get('access_token', '') if isinstance(body, dict) else ''}"}

    beteiligung, wasser, operator = token("beteiligung-portal"), token("wasser-labor"), token("operator")
    status, body, _ = request(port, "POST", "/v1/messages", XWASSER_VALID[0].read_bytes(),
                              {"Content-Type": "application/xml"})
    check(status == 401, f"an anonymous submission is refused with 401 ({status})")

    def post_as(headers, raw):
        deadline = time.time() + 120
        while True:
            status, body, ctype = request(port, "POST", "/v1/messages", raw, {"Content-Type": "application/xml", **headers})
            if status not in (429, 503) or time.time() > deadline:
                return status, body, ctype
            time.sleep(0.2)

    # A message to every destination: real samples, each with a fresh id.
    sent = {}
    for path in [*XBETEILIGUNG, *XWASSER_VALID]:
        raw = path.read_bytes()
        m = re.search(rb"<(?:\w+:)?nachrichtenUUID>([^<]+)<", raw)
        if not m:
            continue
        fresh, new_id = with_new_uuid(raw, m.group(1).decode())
        status, body, _ = post_as(beteiligung if path in XBETEILIGUNG else wasser, fresh)
        if status == 202 and body["destination"] not in sent:
            sent[body["destination"]] = (new_id, fresh)
        if set(sent) == set(destinations):
            break
    check(set(sent) == set(destinations), f"a message accepted for every destination ({sorted(sent)})")

    def inbox(dest, message_id):
        return Path(destinations[dest]["adapter"]["directory"]) / f"{message_id}.xml"

    for dest, (message_id, raw) in sorted(sent.items()):
        arrived = wait_until(lambda: inbox(dest, message_id).exists(), 60, f"{dest} inbox")
        check(arrived and inbox(dest, message_id).read_bytes() == raw,
              f"{dest}: the exact bytes arrive through its own deliverer process")
        check(wait_until(lambda: request(port, "GET", f"/v1/messages/{message_id}",
                                         headers=operator)[1].get("status") == "delivered",
                         30, "status delivered"), f"{dest}: GET (as the admin) says delivered")


def main():
    services = compose_config("docker-compose.yml")["services"]
    run_with_processes("xoev-topology-", run, ("dev-kafka", *sorted(
        n for n, c in xoevgate_commands(services).items() if c[0] in ("serve", "deliver"))))


if __name__ == "__main__":
    main()
