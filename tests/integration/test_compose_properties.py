"""docker-compose.yml would really start, read from `docker-compose config` (no container
engine runs here): a valid KRaft cluster id, log dirs on the volumes, healthchecks and
depends_on service_healthy, topics made by `xoevgate topics`, per-service key mounts
(no deliverer sees another's private key, the gateway sees no decryption key), state
directories owned by the service user, the TLS override file, and authentication:
senders with credentials (never a plain secret), admins, and audit logs on volumes."""
import base64
import hashlib
import hmac
import re
import subprocess
from pathlib import Path, PurePosixPath

import yaml

from harness import SOURCE, XOEVGATE, Check, tempdir

IMAGE_CONFIG_DIR = PurePosixPath("/etc/xoevgate")  # Dockerfile: COPY config /etc/xoevgate


def compose_config(*files):
    args = ["docker-compose", "--project-directory", str(SOURCE)]
    for f in files:
        args += ["-f", str(SOURCE / f)]
    r = subprocess.run([*args, "config"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"docker-compose config {files}: {r.stderr}")
    return yaml.safe_load(r.stdout)


def is_kafka(service):
    return str(service.get("image", "")).startswith("apache/kafka")


def is_xoevgate(service):
    return service.get("image") == "xoevgate:latest"


def mounts(service):
    """[(source, target, read_only)] of the service's volumes (long or short syntax)."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            out.append((v.get("source"), v["target"], bool(v.get("read_only"))))
        else:
            parts = v.split(":")
            out.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
    return out


def resolve(service, path):
    """(volume, path inside it) where `path` lives in this service's container, or None
    when no mount covers it (then it comes from the image, which holds no keys)."""
    path = PurePosixPath(path)
    best = None
    for source, target, _ in mounts(service):
        t = PurePosixPath(target)
        if path == t or t in path.parents:
            if best is None or len(t.parts) > len(PurePosixPath(best[2]).parts):
                best = (source, str(path.relative_to(t)), target)
    return best[:2] if best else None


def option(command, name):
    return command[command.index(name) + 1] if name in command else None


def check_kafka(check, services, volumes):
    brokers = {n: s for n, s in services.items() if is_kafka(s) and "KAFKA_NODE_ID" in s.get("environment", {})}
    check(len(brokers) == 3, f"three Kafka nodes ({sorted(brokers)})")
    ids = set()
    for name, s in brokers.items():
        env = {k: str(v) for k, v in s["environment"].items()}
        cid = env.get("CLUSTER_ID", "")
        ok = re.fullmatch(r"[A-Za-z0-9_-]{22}", cid) is not None
        if ok:
            ok = len(base64.urlsafe_b64decode(cid + "==")) == 16
        check(ok, f"{name}: CLUSTER_ID {cid!r} is a 22-character base64url UUID")
        ids.add(cid)
        check("broker" in env.get("KAFKA_PROCESS_ROLES", "") and "controller" in env.get("KAFKA_PROCESS_ROLES", ""),
              f"{name}: KRaft broker and controller")
        check(len(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(",")) == 3, f"{name}: three voters")
        log_dirs = env.get("KAFKA_LOG_DIRS", "")
        check(log_dirs != "", f"{name}: KAFKA_LOG_DIRS is set (else /tmp/kraft-combined-logs)")
        for d in filter(None, log_dirs.split(",")):
            where = resolve(s, d)
            check(where is not None and where[0] in volumes, f"{name}: log dir {d} is on a named volume ({where})")
        check(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", f"{name}: no topics created by accident")
        check(env.get("KAFKA_MIN_INSYNC_REPLICAS") == "2", f"{name}: min.insync.replicas 2")
        hc = s.get("healthcheck", {})
        check(bool(hc.get("test")) and not hc.get("disable"), f"{name}: has a healthcheck")
    check(len(ids) == 1, f"all nodes share one cluster id ({ids})")
    node_ids = {str(s["environment"]["KAFKA_NODE_ID"]) for s in brokers.values()}
    check(len(node_ids) == 3, f"node ids are distinct ({node_ids})")
    return brokers


def check_dependencies(check, services, brokers):
    for name, s in services.items():
        if not is_xoevgate(s):
            continue
        deps = s.get("depends_on", {})
        check(isinstance(deps, dict), f"{name}: depends_on with conditions")
        if not isinstance(deps, dict):
            continue
        for dep, cond in deps.items():
            want = "service_healthy" if dep in brokers else "service_completed_successfully"
            if dep in services and services[dep].get("restart") != "no" and dep not in brokers:
                want = "service_healthy"
            check(cond.get("condition") == want, f"{name} waits for {dep}: {want} (got {cond})")
        command = s.get("command", [])
        if command and command[0] in ("serve", "deliver", "topics"):
            check(set(brokers) <= set(deps), f"{name} waits for all brokers to be healthy")
        if command and command[0] in ("serve", "deliver"):
            check("topics" in deps, f"{name} starts only after the topics exist")
    check(bool(services.get("gateway", {}).get("healthcheck", {}).get("test")), "the gateway has a healthcheck")


def check_topics_job(check, services):
    jobs = [n for n, s in services.items() if is_xoevgate(s) and s.get("command", [None])[0] == "topics"]
    check(jobs == ["topics"], f"the topics job runs `xoevgate topics` ({jobs})")
    if not jobs:
        return None
    s = services["topics"]
    check(s.get("entrypoint") in (None, ["xoevgate"]), "the topics job uses the image's xoevgate entry point")
    check(option(s["command"], "--replication") == "3", "topics are replicated 3 times")
    check(s.get("restart") == "no", "the topics job runs once")
    return s["command"]


def check_keys(check, services, config):
    signing = config["keys"]["signing"]
    # A deliverer's private keys: its decryption keys and the key that signs its receipts.
    private = {d["id"]: d["adapter"]["decryption_keys"] + [d["adapter"].get("signing_key")] for d in config["destinations"]}
    for dest, paths in private.items():
        check(paths[-1] is not None, f"deliverer {dest} signs its receipts with its own key (adapter.signing_key)")
        private[dest] = [p for p in paths if p]
    trusted = {Path(p).name for p in config["keys"].get("trusted_deliverers", [])}
    for dest, paths in private.items():
        check(len(paths) < 2 or Path(paths[-1]).stem + ".pub.jwk" in trusted,
              f"readers trust deliverer {dest}'s receipt key ({sorted(trusted)})")
    deliverers = {}
    for name, s in services.items():
        command = s.get("command", [])
        if is_xoevgate(s) and command and command[0] == "deliver":
            deliverers[option(command, "--destination")] = (name, s)
    check(set(deliverers) == set(private), f"one deliverer per destination ({sorted(deliverers)} vs {sorted(private)})")
    gateway = services.get("gateway", {})

    # Where each private key really lives: in the container of the one service that uses it.
    home = {("signing", None): resolve(gateway, signing)}
    for dest, paths in private.items():
        if dest in deliverers:
            for p in paths:
                home[(dest, p)] = resolve(deliverers[dest][1], p)
    for key, where in home.items():
        check(where is not None and where[0] is not None, f"private key {key} comes from a volume ({where})")
    private_volumes = {where[0] for where in home.values() if where}
    owners = {}
    for (owner, _), where in home.items():
        if where:
            owners.setdefault(where[0], set()).add(owner)
    check(all(len(o) == 1 for o in owners.values()),
          f"no two services share a private key volume ({ {v: sorted(map(str, o)) for v, o in owners.items()} })")

    def volumes_of(s):
        return {source for source, _, _ in mounts(s)}

    for dest, (name, s) in deliverers.items():
        own = {home[(dest, p)][0] for p in private[dest] if home.get((dest, p))}
        seen = volumes_of(s) & private_volumes
        check(seen == own, f"{name} mounts only its own private key volume ({sorted(seen)} vs {sorted(own)})")
        check(all(ro for src, _, ro in mounts(s) if src in private_volumes), f"{name}: keys mounted read-only")
    seen = volumes_of(gateway) & private_volumes
    check(seen == {home[("signing", None)][0]} if home[("signing", None)] else False,
          f"the gateway mounts only its signing key volume of all private keys ({sorted(seen)})")
    for dest, paths in private.items():
        for p in paths:
            where = resolve(gateway, p)
            check(where is None or where[0] not in private_volumes - {home[("signing", None)][0]},
                  f"the gateway cannot see {dest}'s decryption key ({where})")
    for name, s in services.items():
        if name == "keys" or name == "gateway" or name in {n for n, _ in deliverers.values()}:
            continue
        check(not (volumes_of(s) & private_volumes), f"{name} mounts no private key")
    keys_job = services.get("keys", {})
    check(private_volumes <= volumes_of(keys_job), "the keys job writes every private key volume")


def check_dockerfile(check, config):
    lines = [l.strip() for l in (SOURCE / "Dockerfile").read_text().splitlines()]
    final = max(i for i, l in enumerate(lines) if l.startswith("FROM "))
    stage = lines[final:]
    user = next((i for i, l in enumerate(stage) if l.startswith("USER ")), None)
    workdir = next((i for i, l in enumerate(stage) if l.startswith("WORKDIR ")), None)
    check(user is not None and workdir is not None and workdir < user, "WORKDIR comes before USER")
    owned = set()
    for l in stage[:user]:
        for m in re.finditer(r"install -d -o (\w+) -g \w+ -m \d+ ([^&\\]+)", l):
            if m.group(1) == "xoevgate":
                owned.update(PurePosixPath(p) for p in m.group(2).split())
        m = re.search(r"chown (?:-R )?xoevgate(?::xoevgate)? (\S+)", l)
        if m:
            owned.add(PurePosixPath(m.group(1)))
    wanted = [PurePosixPath(config["gateway"]["state_directory"])]
    wanted += [PurePosixPath(d["adapter"]["directory"]).parent for d in config["destinations"]
               if d["adapter"].get("directory")]
    wanted += [PurePosixPath(config["keys"]["signing"]).parent]
    for w in wanted:
        check(w in owned, f"{w} is created and owned by the service user before USER ({sorted(map(str, owned))})")
    check("--target xoevgate" in (SOURCE / "Dockerfile").read_text(), "the image builds only the product target")
    check(not re.search(r"libgtest|libgmock|libbenchmark|xslt", (SOURCE / "Dockerfile").read_text()),
          "the image needs no GoogleTest, Benchmark or libxslt")


def check_tls(check, services_tls, tls_config):
    for name, s in services_tls.items():
        if is_kafka(s) and "KAFKA_NODE_ID" in s.get("environment", {}):
            env = s["environment"]
            check("SSL://" in str(env.get("KAFKA_ADVERTISED_LISTENERS", "")), f"TLS: {name} advertises an SSL listener")
            check(any(PurePosixPath(t) == PurePosixPath("/etc/kafka/secrets") for _, t, _ in mounts(s)),
                  f"TLS: {name} mounts its key store")
    plain_config = yaml.safe_load((SOURCE / "config/compose.yaml").read_text())
    check({k: v for k, v in tls_config.items() if k != "kafka"} == {k: v for k, v in plain_config.items() if k != "kafka"},
          "TLS: compose-tls.yaml differs from compose.yaml only in kafka:")
    props = tls_config["kafka"]["properties"]
    check(props.get("security.protocol") == "SSL", "TLS: clients speak SSL to the brokers")
    check(all(":9094" in b for b in tls_config["kafka"]["bootstrap"].split(",")), "TLS: bootstrap is the SSL port")
    ca = props.get("ssl.ca.location")
    for name, s in services_tls.items():
        command = s.get("command", [])
        if is_xoevgate(s) and command and command[0] in ("serve", "deliver", "topics"):
            check(option(command, "--config") == str(IMAGE_CONFIG_DIR / "compose-tls.yaml"),
                  f"TLS: {name} uses compose-tls.yaml")
            where = resolve(s, ca) if ca else None
            check(where is not None, f"TLS: {name} sees the CA certificate {ca}")
            check("certs" in (s.get("depends_on") or {}), f"TLS: {name} waits for the certificates")


def check_authentication(check, services, config):
    """The shipped setup is not anonymous: every sender has a credential (a client
    certificate, an IdP's JWTs, or a client id with a PBKDF2 hash — the README's demo
    secrets match them), there is an admin, and the gateway and every deliverer write
    an audit log onto a named volume."""
    senders = config.get("senders") or []
    check(len(senders) > 0, "compose does not run anonymously: senders are configured")
    ids = {s.get("id") for s in senders}
    readme = (SOURCE / "README.md").read_text()
    for s in senders:
        has_cert = bool(s.get("client_certificate_sha256") or s.get("client_certificate_subject"))
        has_jwt = bool(s.get("jwt"))
        has_client = bool(s.get("client_id") and s.get("client_secret_hash"))
        check(has_cert or has_jwt or has_client, f"sender {s.get('id')} has a credential")
        check("client_secret" not in s, f"sender {s.get('id')}: no plain client_secret in the config")
        if s.get("client_secret_hash"):
            m = re.fullmatch(r"pbkdf2-sha256\$(\d+)\$([\w-]+)\$([\w-]+)", s["client_secret_hash"])
            check(m is not None and int(m.group(1)) >= 100000, f"sender {s['id']}: a PBKDF2 hash, >= 100000 iterations")
            demo = f"{s['client_id']}-demo-secret-change-me"
            if m:
                b64 = lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))
                ok = hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", demo.encode(), b64(m.group(2)), int(m.group(1))),
                                         b64(m.group(3)))
                check(ok and "-demo-secret-change-me" in readme,
                      f"sender {s['id']}: the README's demo secret matches its hash")
    admins = config.get("admins") or []
    check(len(admins) > 0 and set(admins) <= ids, f"admins are configured senders ({admins})")
    audit = (config.get("audit") or {}).get("file")
    check(bool(audit), "an audit log is configured")
    if not audit:
        return
    volumes = {}
    for name, s in services.items():
        command = s.get("command", [])
        if is_xoevgate(s) and command and command[0] == "serve":
            volumes[name] = resolve(s, audit)
        elif is_xoevgate(s) and command and command[0] == "deliver":
            volumes[name] = resolve(s, f"{audit}.{option(command, '--destination')}")  # its own chain
    check("gateway" in volumes and len(volumes) == 1 + len(config["destinations"]),
          f"the gateway and every deliverer write an audit log ({sorted(volumes)})")
    for name, where in volumes.items():
        check(where is not None and where[0] is not None and not any(
                  ro for src, _, ro in mounts(services[name]) if src == where[0]),
              f"{name}: its audit log is on a writable named volume ({where})")
    check(len({w[0] for w in volumes.values() if w}) == len(volumes), "no two processes share an audit volume")


def dry_run_topics(check, command):
    """The topics job's own command line, run with --dry-run on the shipped config."""
    with tempdir("xoev-compose-") as work:
        work = Path(work)
        text = (SOURCE / "config/compose.yaml").read_text()
        text = text.replace("/var/lib/xoevgate", str(work / "data")).replace("/usr/share/xoevgate", str(SOURCE))
        cfg = work / "compose.yaml"
        cfg.write_text(text)
        subprocess.run([XOEVGATE, "dev-keys", "--config", str(cfg)], capture_output=True, timeout=60)
        args = [str(cfg) if a == option(command, "--config") else a for a in command]
        r = subprocess.run([XOEVGATE, *args, "--dry-run"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"`xoevgate {' '.join(command)} --dry-run` works: {r.stderr}")
        lines = r.stdout.splitlines()
        config = yaml.safe_load(text)
        wanted = {"xoev.receipts"} | {d["topic"] for d in config["destinations"]} | {
            "xoev.dlq." + d["id"] for d in config["destinations"]}
        named = {l.split()[2] for l in lines if l.startswith("would create ")}
        check(named == wanted, f"topics from the config: {sorted(named)} vs {sorted(wanted)}")
        receipts = next((l for l in lines if " xoev.receipts " in l), "")
        check("cleanup.policy=compact" in receipts, f"xoev.receipts is compacted: {receipts}")
        check(all("replication 3" in l and "min.insync.replicas=2" in l for l in lines),
              "every topic: replication 3, min.insync.replicas 2")
        check(all("partitions 6" in l for l in lines), "every topic: 6 partitions")


def main():
    check = Check()
    plain = compose_config("docker-compose.yml")
    services, volumes = plain["services"], set(plain.get("volumes", {}))
    config = yaml.safe_load((SOURCE / "config/compose.yaml").read_text())
    for name, s in services.items():
        command = s.get("command", [])
        if is_xoevgate(s) and command and "--config" in command:
            cfg = PurePosixPath(option(command, "--config"))
            check(cfg.parent == IMAGE_CONFIG_DIR and (SOURCE / "config" / cfg.name).is_file(),
                  f"{name}: its config {cfg} is a file of config/ in the image")
    brokers = check_kafka(check, services, volumes)
    check_dependencies(check, services, brokers)
    command = check_topics_job(check, services)
    check_keys(check, services, config)
    check_dockerfile(check, config)
    check_authentication(check, services, config)
    if command:
        dry_run_topics(check, command)
    tls = compose_config("docker-compose.yml", "docker-compose.tls.yml")
    check_tls(check, tls["services"], yaml.safe_load((SOURCE / "config/compose-tls.yaml").read_text()))
    check_keys(check, tls["services"], yaml.safe_load((SOURCE / "config/compose-tls.yaml").read_text()))
    check.finish()


if __name__ == "__main__":
    main()
