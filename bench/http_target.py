#!/usr/bin/python3
"""A Fachverfahren that answers every POST at once with 200, for benchmarking the HTTP
adapter (bench/loadgen.py --http-target N). Prints its port on the first line, then runs
until killed; on SIGTERM prints how many requests it took and how many distinct
Idempotency-Keys they carried, and the most requests it ever had in flight at once.

  bench/http_target.py [--port 0]
"""
import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
requests, keys, in_flight, most = 0, set(), 0, 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global requests, in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            requests += 1
            keys.add(self.headers.get("Idempotency-Key"))
            in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    ThreadingHTTPServer.request_queue_size = 256  # the default 5 drops concurrent connects (1 s SYN retry)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(*_):
        print(f"requests {requests} keys {len(keys)} most_in_flight {most}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
