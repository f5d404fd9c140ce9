"""The two limits of a streamed submission are configuration, and take effect:

- gateway.max_head_bytes: the routing head of a streamed body must be complete within
  it (what arrives before routing is held in memory). A schema-valid xdomea message with
  a 200 KB comment before its root element is refused with that limit named when it is
  128 KiB; the same message with a 20 KB comment passes. The window is never below
  kafka.chunk_bytes (the head is looked for once a chunk's worth has arrived): a second
  gateway with max_head_bytes 4 KiB and 64 KiB chunks takes a head after 20 KB and
  names 65536 when it refuses one after 100 KB.
- kafka.backlog_stall: an upload waiting for room in the backlog of a stopped deliverer
  gets 503 backlog-full after that long without progress (3 s here, default 60 s), and
  nothing of it is delivered once the deliverer runs again.
"""
import os
import signal
import threading
import time
from pathlib import Path

from harness import free_port, run_with_processes, start_dev_kafka, wait_ready, write_config
from test_large_messages import DEST, STANDARDS, inbox, make_message, post_file

HEAD_LIMIT = 131072


def with_leading_comment(path, comment_bytes):
    """The same document with an XML comment of that many bytes after its declaration."""
    data = path.read_bytes()
    end = data.index(b"?>") + 2
    out = path.with_name(path.stem + f"-c{comment_bytes}.xml")
    out.write_bytes(data[:end] + b"\n<!--" + b"x" * comment_bytes + b"-->" + data[end:])
    return out


def main():
    run_with_processes("xoev-stream-settings-", run, ("gateway", "gateway2", "deliver"))


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs)
    port = free_port()
    cfg = write_config(
        work, bootstrap, f"127.0.0.1:{port}",
        destinations=[(DEST, f"      type: file\n      directory: inbox/{DEST}\n")],
        routes=[("aussonderung", {"standard": "xdomea"}, DEST)],
        extra_gateway=f"  max_message_bytes: 100000000\n  state_directory: state\n  max_head_bytes: {HEAD_LIMIT}",
        extra_kafka="  chunk_bytes: 65536\n  backlog_stall: 3s",
        standards=STANDARDS)
    procs.start("gateway", "serve", "--config", str(cfg))
    deliverer = procs.start("deliver", "deliver", "--config", str(cfg), "--destination", DEST)
    if not check(wait_ready(port), "gateway becomes ready"):
        return

    # --- The head window.
    path, mid = make_message(work, 1)
    late = with_leading_comment(path, 200_000)
    status, body, _ = post_file(port, late)
    check(status in (400, 422) and str(HEAD_LIMIT) in (body or {}).get("detail", ""),
          f"a head after {HEAD_LIMIT} bytes is refused naming the limit ({status} {body})")
    early = with_leading_comment(path, 20_000)
    status, body, _ = post_file(port, early)
    check(status == 202 and body["messageId"] == mid, f"a head within the limit is accepted ({status} {body})")

    # --- The head window's floor: a second gateway whose max_head_bytes is below its chunk size.
    port2 = free_port()
    cfg2 = work / "gateway-small-head.yaml"
    cfg2.write_text(cfg.read_text().replace(f"127.0.0.1:{port}", f"127.0.0.1:{port2}")
                    .replace(f"max_head_bytes: {HEAD_LIMIT}", "max_head_bytes: 4096")
                    .replace("state_directory: state", "state_directory: state2"))
    procs.start("gateway2", "serve", "--config", str(cfg2))
    if check(wait_ready(port2), "the second gateway becomes ready"):
        path, mid = make_message(work, 1)
        status, body, _ = post_file(port2, with_leading_comment(path, 20_000))
        check(status == 202 and body["messageId"] == mid,
              f"max_head_bytes 4 KiB below 64 KiB chunks: a head after 20 KB is accepted ({status} {body})")
        path, mid = make_message(work, 1)
        status, body, _ = post_file(port2, with_leading_comment(path, 100_000))
        detail = (body or {}).get("detail", "")
        check(status in (400, 422) and "65536" in detail and "4096" not in detail,
              f"a head after 100 KB is refused naming the window applied, 65536 ({status} {body})")

    # --- The backlog stall: a stopped deliverer, a 20 MB upload, 503 after about 3 s of no progress.
    path, mid = make_message(work, 20)
    os.kill(deliverer.pid, signal.SIGSTOP)
    result = {}
    started = time.monotonic()
    t = threading.Thread(target=lambda: result.update(r=post_file(port, path, timeout=120)))
    t.start()
    t.join(90)
    waited = time.monotonic() - started
    os.kill(deliverer.pid, signal.SIGCONT)
    status, body, _ = result.get("r", (None, None, None))
    detail = (body or {}).get("detail", "") if isinstance(body, dict) else str(body)
    check(status == 503 and "backlog-full" in (body or {}).get("type", "") and "for 3 s" in detail,
          f"503 backlog-full after the configured stall ({status} {body})")
    check(waited < 60, f"the stall ended the upload after {waited:.0f} s (limit 3 s, default 60 s)")
    time.sleep(5)  # the deliverer reads what was produced of it, and the abort
    check(not inbox(work, mid).exists(), "nothing of the refused upload is delivered")


if __name__ == "__main__":
    main()
