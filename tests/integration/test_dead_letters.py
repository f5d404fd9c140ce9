"""Retries, dead letters and replay: the inbox cannot be written (a file stands where
the directory should be), so delivery is retried with backoff, then dead-lettered with
its reason; `xoevgate dlq list` shows it; once the inbox is fixed, `dlq replay`
delivers it exactly once, and the status goes dead-lettered → delivered."""
import json
import subprocess

from harness import (run_with_processes, XOEVGATE, TESTDATA, free_port, post_xml, request, start_dev_kafka,
                     wait_ready, wait_until, with_new_uuid, write_config)

SAMPLE = TESTDATA / "xwasser/tests/quality_report_minimal.xml"
SAMPLE_ID = "693c64d6-456f-4d14-abe7-fe9681c74aae"


def main():
    run_with_processes("xoev-dlq-", run, ("gateway", "deliver"))


def run(work, procs, check):
    _, bootstrap = start_dev_kafka(procs)
    port = free_port()
    adapter = ("      type: file\n      directory: inbox/wasser\n      max_attempts: 3\n"
               "      initial_backoff: 100ms\n      max_backoff: 400ms\n")
    cfg = write_config(work, bootstrap, f"127.0.0.1:{port}", [("wasser", adapter)],
                       [("all", {"standard": "XWasser"}, "wasser")])
    (work / "inbox").mkdir()
    (work / "inbox/wasser").write_text("a file where the inbox directory should be")
    procs.start("gateway", "serve", "--config", str(cfg))
    procs.start("deliver", "deliver", "--config", str(cfg), "--destination", "wasser")
    if not check(wait_ready(port), "gateway ready"):
        return
    ids = []
    for _ in range(3):
        body, mid = with_new_uuid(SAMPLE.read_bytes(), SAMPLE_ID)
        status, _, _ = post_xml(port, body)
        check(status == 202, f"accepted {mid}")
        ids.append(mid)

    def status_of(mid):
        return request(port, "GET", f"/v1/messages/{mid}")[1].get("status")
    check(wait_until(lambda: all(status_of(m) == "dead-lettered" for m in ids), 60, "dead-lettered"),
          "after 3 failed attempts each message is dead-lettered")
    hist = [h["status"] for h in request(port, "GET", f"/v1/messages/{ids[0]}")[1]["history"]]
    check(hist.count("failed") == 2 and hist[-1] == "dead-lettered", f"history shows the retries ({hist})")
    detail = request(port, "GET", f"/v1/messages/{ids[0]}")[1].get("detail", "")
    check("Not a directory" in detail and str(work) not in detail,
          f"the reason names the inbox problem, without the server's path ({detail})")

    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", "wasser"],
                       capture_output=True, text=True, timeout=180)
    letters = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(r.returncode == 0 and sorted(l["messageId"] for l in letters) == sorted(ids)
          and all(l["attempts"] == 3 and l["pending"] and "inbox/wasser" in l["reason"] for l in letters),
          f"dlq list shows the three with reason and attempts ({r.stdout[:500]} {r.stderr})")

    # The same through serve's admin endpoint (the way to an embedded cluster's dead
    # letters), and a dry run that produces nothing.
    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", "wasser", "--pending",
                        "--gateway", f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=180)
    via_api = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(r.returncode == 0 and sorted(l["messageId"] for l in via_api) == sorted(ids),
          f"dlq list --gateway lists the same three ({r.stdout[:300]} {r.stderr})")
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--dry-run", "--config", str(cfg), "--destination", "wasser",
                        "--gateway", f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=180)
    summary = json.loads(r.stdout.splitlines()[-1]) if r.returncode == 0 and r.stdout.strip() else {}
    check(summary.get("wouldReplay") == 3 and "replayed" not in summary and "reading" not in r.stdout,
          f"replay --dry-run says what it would do ({r.stdout[-300:]} {r.stderr})")
    check(all(status_of(m) == "dead-lettered" for m in ids), "a dry run replays nothing")
    r = subprocess.run([XOEVGATE, "dlq", "list", "--config", str(cfg), "--destination", "nowhere",
                        "--gateway", f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "404" in r.stderr, f"an unknown destination is a clear 404 ({r.stderr})")

    # Fix the inbox, replay one by id, then the rest.
    (work / "inbox/wasser").unlink()
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--config", str(cfg), "--destination", "wasser", "--id", ids[0]],
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and json.loads(r.stdout)["replayed"] == 1, f"replay by id ({r.stdout} {r.stderr})")
    check(wait_until(lambda: status_of(ids[0]) == "delivered", 60, "replayed one delivered"),
          "the replayed message is delivered")
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--config", str(cfg), "--destination", "wasser"],
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and json.loads(r.stdout)["replayed"] == 2,
          f"replay all replays only the two still pending ({r.stdout} {r.stderr})")
    check(wait_until(lambda: all(status_of(m) == "delivered" for m in ids), 60, "all delivered"),
          "all three delivered after replay")
    files = sorted(p.name for p in (work / "inbox/wasser").iterdir())
    check(files == sorted(f"{m}.xml" for m in ids), f"each exactly once in the inbox ({files})")
    r = subprocess.run([XOEVGATE, "dlq", "replay", "--config", str(cfg), "--destination", "wasser", "--id", "nope"],
                       capture_output=True, text=True, timeout=180)
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    check(r.returncode == 1 and "nope" in last and last.startswith("xoevgate:"),
          f"unknown id: progress, then one clear line ({r.stderr})")
    check("read 3 dead letters" in r.stderr, f"progress is shown while it works ({r.stderr})")


if __name__ == "__main__":
    main()
