"""Soak test of ``wirewatch run``: many local feed sources at accelerated intervals.

Serves ``--sources`` (default 200) RSS feeds on 127.0.0.1 (``/s/<i>/feed.xml``, five
latest items, a new item per source every ``--new-every`` seconds, article pages at
``/s/<i>/a/<k>.html``; every fifth story names North Korea, Russia and troops), plus a
webhook receiver at ``/hook`` that records every ``webhook-id``.  Starts the real
``python -m crawler run`` on a fresh SQLite database with one webhook channel and one rule,
lets it run ``--minutes`` (default 10), stops it with SIGINT as a terminal would, then runs
``wirewatch deliver`` once (the "next start") and prints:

- runs due (from the schedule: each source's first run is spread over the first
  ``min(every, 15 min)``, then one per ``every``), runs the scheduler counted due and done,
  feed fetches seen by the server, and missed runs (skipped + missed + coalesced + due runs
  the scheduler never counted);
- VmHWM / VmRSS of the scheduler process (from ``/proc/<pid>/status``) after warm-up and
  at the end — crawls are children, so this is the scheduler's own memory;
- alerts stored, delivered, still queued at stop, received (unique ``webhook-id``) and
  duplicates, and lost = stored − received after the final delivery.

Targets: 0 missed runs, 0 lost alerts, RSS growth ≤ 10 %.

Each run of a source is one child Python with Scrapy (about 1.5–3 s of CPU), so the load
is ``sources / every`` children per second: 200 sources every 10 min is 0.33 crawls/s,
which two cores keep up with at ``--concurrency 2``; 200 every 30 s (6.7 crawls/s) would
not on any small machine.  Pick ``--every`` so that ``sources × cost / every`` stays well
under the cores.

    python benchmarks/soak.py [--minutes 10] [--sources 200] [--every 10m]
                              [--concurrency 2] [--new-every 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _site import story

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from crawler.schedule import START_SPREAD, parse_every  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"soak signing key, thirty-two b!!").decode()
MATCH = "وأكدت مصادر أن كوريا الشمالية أرسلت آلاف الجنود إلى روسيا"
FEED_ITEMS = 5
_FEED = re.compile(r"^/s/(\d+)/feed\.xml$")
_PAGE = re.compile(r"^/s/(\d+)/a/(\d+)\.html$")


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when many crawls start together.
    request_queue_size = 256
    daemon_threads = True


class Farm:
    """Feeds for ``n`` sources whose items grow over time, and a webhook receiver.

    Source ``i`` has ``3 + (elapsed + phase_i) // new_every`` stories; its feed lists the
    latest ``FEED_ITEMS``.
    """

    def __init__(self, n: int, new_every: float) -> None:
        self.n = n
        self.new_every = new_every
        self.started = time.monotonic()
        self.phase = [random.Random(i).uniform(0, new_every) for i in range(n)]
        self.feed_fetches: Counter[int] = Counter()
        self.pages_served = 0
        self.hooks: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, i: int) -> int:
        elapsed = time.monotonic() - self.started
        return 3 + int((elapsed + self.phase[i]) // self.new_every)

    def page(self, i: int, k: int) -> bytes:
        title, paragraphs = story(k, random.Random(i * 1_000_003 + k))
        title = f"{title} ({i}/{k})"
        if k % 5 == 0:
            paragraphs[1] = f"{paragraphs[1]} {MATCH}."
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        return (
            '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body>"
            f"<article><h1>{escape(title)}</h1>{body}</article></body></html>"
        ).encode()

    def feed(self, i: int) -> bytes:
        top = self.count(i)
        epoch = datetime(2026, 11, 1, tzinfo=timezone.utc)
        entries = "".join(
            f"<item><title>{k}</title><link>{self.base}/s/{i}/a/{k}.html</link>"
            f"<pubDate>{format_datetime(epoch + timedelta(minutes=k))}</pubDate></item>"
            for k in range(top - 1, max(top - FEED_ITEMS, 0) - 1, -1)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>source {i}</title><link>{self.base}/s/{i}/</link>{entries}"
            "</channel></rss>"
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive
            disable_nagle_algorithm = True

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if m := _FEED.match(self.path):
                    i = int(m.group(1))
                    with farm.lock:
                        farm.feed_fetches[i] += 1
                    self._send(200, farm.feed(i), "application/rss+xml")
                elif m := _PAGE.match(self.path):
                    with farm.lock:
                        farm.pages_served += 1
                    page = farm.page(int(m.group(1)), int(m.group(2)))
                    self._send(200, page, "text/html; charset=utf-8")
                elif self.path == "/robots.txt":
                    self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with farm.lock:
                    farm.hooks[self.headers.get("webhook-id", "?")] += 1
                self._send(204, b"", "text/plain")

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Farm:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_config(folder: Path, farm: Farm, every: str) -> Path:
    (folder / "watchlist.yaml").write_text(
        'rules:\n  - name: nk-russia-troops\n    all: ["North Korea", Russia, troops]\n',
        encoding="utf-8",
    )
    sources = "".join(
        f"  - name: s{i:03d}\n    type: feed\n    url: {farm.base}/s/{i}/feed.xml\n"
        f"    every: {every}\n"
        for i in range(farm.n)
    )
    path = folder / "soak.yaml"
    path.write_text(
        "database: sqlite:///soak.db\n"
        f"sources:\n{sources}"
        "watchlists: [watchlist.yaml]\n"
        f"channels:\n  hook:\n    type: webhook\n    url: {farm.base}/hook\n"
        f"    secret: {SECRET}\n",
        encoding="utf-8",
    )
    return path


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in KiB (empty once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {
        key: int(value.split()[0])
        for key, value in (line.split(":", 1) for line in text.splitlines() if ":" in line)
        if key in ("VmRSS", "VmHWM")
    }


def expected_due(n: int, every: timedelta, seconds: float) -> int:
    """Runs due within ``seconds`` of the scheduler's start, first runs spread as
    ``wirewatch run`` spreads them."""
    spread = min(every, START_SPREAD)
    due = 0
    for i in range(n):
        offset = (spread * i / n).total_seconds()
        if offset <= seconds:
            due += 1 + int((seconds - offset) // every.total_seconds())
    return due


def alert_counts(db: Path) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        return Counter(
            dict(conn.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status").fetchall())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--every", default="10m", help="interval of every source (10m, 30s…)")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--new-every", type=float, default=60.0, help="s between new items")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    every = parse_every(args.every)
    seconds = args.minutes * 60

    with Farm(args.sources, args.new_every) as farm, tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        config = write_config(folder, farm, args.every)
        env = {**os.environ, "WIREWATCH_CONCURRENCY": str(args.concurrency)}
        log = (folder / "run.log").open("w+", encoding="utf-8")
        cmd = [sys.executable, "-m", "crawler", "-c", str(config), "run"]
        started = time.monotonic()
        # Its own process group, so the SIGINT below is what a terminal's Ctrl-C sends.
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
        warm = min(60.0, seconds / 4)
        scheduling_since: float | None = None  # when the scheduler said "running"
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        while (elapsed := time.monotonic() - started) < seconds and proc.poll() is None:
            time.sleep(min(1.0 if scheduling_since is None else 5.0, seconds - elapsed))
            if scheduling_since is None:
                log.seek(0)
                if "wirewatch: running" in log.read():
                    scheduling_since = time.monotonic()
                log.seek(0, os.SEEK_END)
            sample = memory(proc.pid)
            if sample:
                last = sample
                if not first and time.monotonic() - started >= warm:
                    first = sample
        ran_for = time.monotonic() - started
        window = time.monotonic() - (scheduling_since or started)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stopped_in = time.monotonic() - started - ran_for
        log.seek(0)
        lines = log.read().splitlines()
        at_stop = alert_counts(folder / "soak.db")
        received_at_stop = len(farm.hooks)
        subprocess.run(
            [sys.executable, "-m", "crawler", "-c", str(config), "deliver"],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        after = alert_counts(folder / "soak.db")

    final = next((ln for ln in reversed(lines) if "stopped; runs" in ln), "")
    m = re.search(
        r"runs (\d+) done of (\d+) due, (\d+) failed, (\d+) timed out, (\d+) skipped.*?, "
        r"(\d+) missed, (\d+) coalesced, (\d+) not started",
        final,
    )
    done, sched_due, failed, timed_out, skipped, missed, coalesced, abandoned = (
        map(int, m.groups()) if m else (0,) * 8
    )
    # A run due in the last second before the stop may or may not have been submitted.
    due = expected_due(args.sources, every, window - 1.0)
    never_counted = max(due - sched_due, 0)
    missed_total = skipped + missed + coalesced + never_counted
    stored = sum(after.values())
    unique = len(farm.hooks)
    duplicates = sum(c - 1 for c in farm.hooks.values() if c > 1)
    lost = stored - unique
    growth = (last.get("VmHWM", 0) / first["VmHWM"] - 1) if first.get("VmHWM") else float("nan")
    warnings = [ln for ln in lines if ln.startswith(("WARNING", "ERROR"))]

    print(f"command: {' '.join(sys.argv)}")
    print(
        f"sources: {args.sources} every {args.every}, concurrency {args.concurrency}, "
        f"new item per source every {args.new_every:.0f} s; ran {ran_for:.0f} s, "
        f"stop took {stopped_in:.1f} s (exit {proc.returncode})"
    )
    print(
        f"runs: {done} done / {due} due by the schedule ({sched_due} counted due by the "
        f"scheduler, {abandoned} of them still queued at the stop); {failed} failed, "
        f"{timed_out} timed out; "
        f"feed fetches seen by the server: {sum(farm.feed_fetches.values())}; "
        f"pages served: {farm.pages_served}"
    )
    print(
        f"missed runs: {missed_total} (skipped {skipped}, missed {missed}, "
        f"coalesced {coalesced}, never counted {never_counted})"
    )
    print(
        f"scheduler RSS: after {warm:.0f} s warm-up VmRSS {first.get('VmRSS', 0) / 1024:.1f} MiB "
        f"(peak {first.get('VmHWM', 0) / 1024:.1f}), at the end VmRSS "
        f"{last.get('VmRSS', 0) / 1024:.1f} MiB (peak {last.get('VmHWM', 0) / 1024:.1f}); "
        f"peak growth {growth:+.1%}"
    )
    print(
        f"alerts: {stored} stored; at stop {at_stop.get('delivered', 0)} delivered, "
        f"{at_stop.get('queued', 0)} queued, {at_stop.get('failed', 0)} failed "
        f"({received_at_stop} received); after the next delivery "
        f"{after.get('delivered', 0)} delivered, {after.get('queued', 0)} queued; "
        f"received {unique} unique webhook-ids, {duplicates} duplicates; lost {lost}"
    )
    print(
        f"scheduler warnings/errors: {len(warnings)}"
        + (f", last: {warnings[-1]}" if warnings else "")
    )
    ok = missed_total == 0 and lost == 0 and growth <= 0.10
    print(
        f"targets: 0 missed → {missed_total}, 0 lost → {lost}, RSS growth ≤ 10 % → "
        f"{growth:+.1%}: {'MET' if ok else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
