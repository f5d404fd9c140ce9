"""`xoevgate topics` (the compose topics job) through librdkafka's real Admin API.

librdkafka 2.0's mock cluster (dev-kafka) names no controller, so no admin client can
create topics there. This test therefore runs a small broker speaking the Kafka wire
protocol (ApiVersions v0, Metadata v1, CreateTopics v0 — what librdkafka negotiates
when a broker offers only those) on loopback, which keeps the topics it is asked to
create. It checks what the command sends (names from the config, partitions,
replication 3, min.insync.replicas 2, compaction for xoev.receipts), that a second run
finds them all existing and exits 0, that a refused topic exits 1, and that an
unreachable cluster exits 2 with one line."""
import socket
import socketserver
import struct
import subprocess
import threading
import time
from pathlib import Path

import yaml

from harness import SOURCE, XOEVGATE, Check, free_port, tempdir
from test_compose_properties import compose_config, option

API_METADATA, API_CREATE_TOPICS, API_VERSIONS = 3, 19, 18
TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR, UNSUPPORTED_VERSION = 36, 38, 35


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        values = struct.unpack_from(">" + fmt, self.data, self.pos)
        self.pos += struct.calcsize(">" + fmt)
        return values if len(values) > 1 else values[0]

    def string(self):
        n = self.take("h")
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def array(self, item):
        n = self.take("i")
        return [item() for _ in range(max(n, 0))]


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def array(items):
    return struct.pack(">i", len(items)) + b"".join(items)


class Broker:
    """One broker that is also the controller; topics live in `self.topics`."""

    def __init__(self, refuse=()):
        self.topics = {}  # name -> {"partitions", "replication", "configs"}
        self.requests = []  # (api_key, version)
        self.refuse = set(refuse)
        self.lock = threading.Lock()
        broker = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                while True:
                    head = self.request.recv(4, socket.MSG_WAITALL)
                    if len(head) < 4:
                        return
                    size = struct.unpack(">i", head)[0]
                    body = self.request.recv(size, socket.MSG_WAITALL)
                    answer = broker.answer(body)
                    if answer is None:
                        return
                    self.request.sendall(struct.pack(">i", len(answer)) + answer)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, body):
        r = Reader(body)
        api, version, correlation = r.take("hhi")
        self.requests.append((api, version))
        head = struct.pack(">i", correlation)
        if api == API_VERSIONS:
            if version > 0:  # like a broker that knows only v0: the client retries with v0
                return head + struct.pack(">hi", UNSUPPORTED_VERSION, 0)
            apis = [(API_METADATA, 1, 1), (API_CREATE_TOPICS, 0, 0), (API_VERSIONS, 0, 0)]
            return head + struct.pack(">h", 0) + array([struct.pack(">hhh", *a) for a in apis])
        r.string()  # client id
        if api == API_METADATA:
            wanted = r.array(r.string) if version >= 1 else []
            with self.lock:
                names = [t for t in (wanted or self.topics) if t in self.topics]
                topics = [struct.pack(">h", 0) + string(t) + struct.pack(">?", False) + array([
                    struct.pack(">hii", 0, p, 1) + array([struct.pack(">i", 1)]) + array([struct.pack(">i", 1)])
                    for p in range(self.topics[t]["partitions"])]) for t in names]
            brokers = array([struct.pack(">i", 1) + string("127.0.0.1") + struct.pack(">i", self.port) +
                             struct.pack(">h", -1)])
            return head + brokers + struct.pack(">i", 1) + array(topics)
        if api == API_CREATE_TOPICS:
            def topic():
                name = r.string()
                partitions, replication = r.take("ih")
                r.array(lambda: (r.take("i"), r.array(lambda: r.take("i"))))
                configs = dict(r.array(lambda: (r.string(), r.string())))
                return name, partitions, replication, configs

            results = []
            for name, partitions, replication, configs in r.array(topic):
                with self.lock:
                    if name in self.refuse:
                        err = INVALID_REPLICATION_FACTOR
                    elif name in self.topics:
                        err = TOPIC_ALREADY_EXISTS
                    else:
                        err = 0
                        self.topics[name] = {"partitions": partitions, "replication": replication, "configs": configs}
                results.append(string(name) + struct.pack(">h", err))
            return head + array(results)
        return None  # anything else: hang up


def topics_command():
    services = compose_config("docker-compose.yml")["services"]
    return [c for c in (s.get("command") for s in services.values()) if c and c[0] == "topics"][0]


def shipped_config(work):
    """config/compose.yaml with container paths in `work` (keys made by dev-keys)."""
    text = (SOURCE / "config/compose.yaml").read_text()
    text = text.replace("/var/lib/xoevgate", str(work / "data")).replace("/usr/share/xoevgate", str(SOURCE))
    path = work / "compose.yaml"
    path.write_text(text)
    subprocess.run([XOEVGATE, "dev-keys", "--config", str(path)], capture_output=True, timeout=60, check=True)
    return path, yaml.safe_load(text)


def run_topics(command, config_file, bootstrap, timeout=10):
    args = [str(config_file) if a == option(command, "--config") else a for a in command]
    return subprocess.run([XOEVGATE, *args, "--bootstrap", bootstrap, "--timeout", str(timeout)],
                          capture_output=True, text=True, timeout=120)


def main():
    check = Check()
    command = topics_command()
    with tempdir("xoev-topics-") as work:
        work = Path(work)
        config_file, config = shipped_config(work)
        wanted = {"xoev.receipts"} | {d["topic"] for d in config["destinations"]} | {
            "xoev.dlq." + d["id"] for d in config["destinations"]}
        partitions = int(option(command, "--partitions"))

        broker = Broker()
        try:
            bootstrap = f"127.0.0.1:{broker.port}"
            r = run_topics(command, config_file, bootstrap)
            created = {l.split()[1] for l in r.stdout.splitlines() if l.startswith("created ")}
            check(r.returncode == 0 and created == wanted, f"creates {sorted(wanted)}: {r.stdout}{r.stderr}")
            check((API_CREATE_TOPICS, 0) in broker.requests, "through a CreateTopics request")
            check(set(broker.topics) == wanted, f"the cluster holds exactly the config's topics ({sorted(broker.topics)})")
            for name, t in sorted(broker.topics.items()):
                check(t["partitions"] == partitions and t["replication"] == 3,
                      f"{name}: {partitions} partitions, replication 3 ({t})")
                check(t["configs"].get("min.insync.replicas") == "2", f"{name}: min.insync.replicas=2 ({t['configs']})")
                compacted = t["configs"].get("cleanup.policy") == "compact"
                check(compacted == (name == "xoev.receipts"), f"{name}: compacted only if it is xoev.receipts")

            r = run_topics(command, config_file, bootstrap)
            existing = {l.split()[1] for l in r.stdout.splitlines() if l.startswith("exists ")}
            check(r.returncode == 0 and existing == wanted and r.stderr == "",
                  f"run again: every topic exists, exit 0 ({r.returncode}: {r.stdout}{r.stderr})")
        finally:
            broker.close()

        refusing = Broker(refuse={"xoev.receipts"})
        try:
            r = run_topics(command, config_file, f"127.0.0.1:{refusing.port}")
            check(r.returncode == 1 and "xoev.receipts" in r.stderr and r.stderr.count("\n") == 1,
                  f"a refused topic: exit 1, one line naming it ({r.returncode}: {r.stderr!r})")
            check(len(refusing.topics) == len(wanted) - 1, "the other topics are still created")
        finally:
            refusing.close()

        started = time.time()
        r = run_topics(command, config_file, f"127.0.0.1:{free_port()}", timeout=2)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and time.time() - started < 20,
              f"unreachable cluster: exit 2 with one line ({r.returncode}: {r.stderr!r})")
        embedded = work / "embedded.yaml"
        embedded.write_text(config_file.read_text().replace(config["kafka"]["bootstrap"], "embedded"))
        r = subprocess.run([XOEVGATE, "topics", "--config", str(embedded)], capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and "--bootstrap" in r.stderr, f"embedded config: usage error naming --bootstrap: {r.stderr}")
    check.finish()


if __name__ == "__main__":
    main()
