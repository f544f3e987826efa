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
  duplicates, and lost = stored − received after the final delivery;
- CPU of the scheduler and all its crawl children per run, and a baseline measured in the
  same run, after the soak, on a copy of its database: ``--baseline`` sources crawled one
  child per run (how ``wirewatch run`` crawled before batches), then all of them in one
  child; the ratio is the old mode's CPU per run over the soak's.

Targets: 0 missed runs, 0 lost alerts, RSS growth ≤ 10 %.

A crawl child costs ~2 s of CPU to start (Python, Scrapy, config, watchlist compile, dedupe
index) and ~30 ms per source after that.  One child per run, 200 sources needed at least
``200 × 2 s / 2 cores`` = 200 s between runs of a source, so the soak used to run every
10 min.  Runs that wait for a worker now share one child (``WIREWATCH_BATCH``), so the
cost per run falls as the load rises; the default ``--every`` is accelerated to 1 min.

    python benchmarks/soak.py [--minutes 10] [--sources 200] [--every 1m]
                              [--concurrency 2] [--batch 50] [--new-every 60]
                              [--baseline 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.utils import format_datetime
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _site import NOT_FOUND, LocalSite, Response, story

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from crawler.config import parse_duration  # noqa: E402
from crawler.pool import DEFAULT_BATCH  # noqa: E402
from crawler.schedule import START_SPREAD  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"soak signing key, thirty-two b!!").decode()
MATCH = "وأكدت مصادر أن كوريا الشمالية أرسلت آلاف الجنود إلى روسيا"
FEED_ITEMS = 5
DEFAULT_EVERY = "1m"
_FEED = re.compile(r"^/s/(\d+)/feed\.xml$")
_PAGE = re.compile(r"^/s/(\d+)/a/(\d+)\.html$")


class Farm(LocalSite):
    """Feeds for ``n`` sources whose items grow over time, and a webhook receiver.

    Source ``i`` has ``3 + (elapsed + phase_i) // new_every`` stories; its feed lists the
    latest ``FEED_ITEMS``.
    """

    def __init__(self, n: int, new_every: float) -> None:
        super().__init__()
        self.n = n
        self.new_every = new_every
        self.started = time.monotonic()
        self.phase = [random.Random(i).uniform(0, new_every) for i in range(n)]
        self.feed_fetches: Counter[int] = Counter()
        self.pages_served = 0
        self.hooks: Counter[str] = Counter()
        self.lock = threading.Lock()

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

    def get(self, path: str) -> Response:
        if m := _FEED.match(path):
            i = int(m.group(1))
            with self.lock:
                self.feed_fetches[i] += 1
            return 200, self.feed(i), "application/rss+xml"
        if m := _PAGE.match(path):
            with self.lock:
                self.pages_served += 1
            return 200, self.page(int(m.group(1)), int(m.group(2))), "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, b"User-agent: *\nAllow: /\n", "text/plain"
        return NOT_FOUND

    def post(self, path: str, headers: Message, body: bytes) -> Response:
        with self.lock:
            self.hooks[headers.get("webhook-id", "?")] += 1
        return 204, b"", "text/plain"


def write_config(folder: Path, farm: Farm, every: str, name: str = "soak") -> Path:
    (folder / "watchlist.yaml").write_text(
        'rules:\n  - name: nk-russia-troops\n    all: ["North Korea", Russia, troops]\n',
        encoding="utf-8",
    )
    sources = "".join(
        f"  - name: s{i:03d}\n    type: feed\n    url: {farm.base}/s/{i}/feed.xml\n"
        f"    every: {every}\n"
        for i in range(farm.n)
    )
    path = folder / f"{name}.yaml"
    path.write_text(
        f"database: sqlite:///{name}.db\n"
        f"sources:\n{sources}"
        "watchlists: [watchlist.yaml]\n"
        f"channels:\n  hook:\n    type: webhook\n    url: {farm.base}/hook\n"
        f"    secret: {SECRET}\n",
        encoding="utf-8",
    )
    return path


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (and theirs), so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Baseline:
    """CPU per source run of the old mode (one child per run) and of one batched child,
    over the same ``sources``, measured on a copy of the soak's database."""

    sources: int
    single: float  # CPU s per run, one child each
    single_wall: float  # wall s per child
    batched: float  # CPU s per run, all in one child


def measure_baseline(folder: Path, farm: Farm, every: str, n: int) -> Baseline:
    """Crawl ``n`` sources spread over the farm, each in its own child as ``wirewatch run``
    used to, then all of them in one child, on a copy of the soak's database (so each run
    finds what a steady-state run finds: a new item or none)."""
    config = write_config(folder, farm, every, name="baseline")
    with sqlite3.connect(folder / "soak.db") as src, sqlite3.connect(folder / "baseline.db") as dst:
        src.backup(dst)
    names = [f"s{i * farm.n // n:03d}" for i in range(n)]
    crawl = [sys.executable, "-m", "crawler", "-c", str(config), "crawl", "--no-deliver"]
    cpu, wall = children_cpu(), time.monotonic()
    for name in names:
        subprocess.run([*crawl, "--source", name], cwd=REPO, capture_output=True, check=True)
    single, single_wall = children_cpu() - cpu, time.monotonic() - wall
    cpu = children_cpu()
    sources = [arg for name in names for arg in ("--source", name)]
    subprocess.run([*crawl, *sources], cwd=REPO, capture_output=True, check=True)
    return Baseline(n, single / n, single_wall / n, (children_cpu() - cpu) / n)


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
    parser.add_argument("--every", default=DEFAULT_EVERY, help="interval of every source")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="WIREWATCH_BATCH")
    parser.add_argument("--new-every", type=float, default=60.0, help="s between new items")
    parser.add_argument(
        "--baseline", type=int, default=8, help="sources in the one-child-per-run sample (0: none)"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    every = parse_duration(args.every)
    seconds = args.minutes * 60

    with Farm(args.sources, args.new_every) as farm, tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        config = write_config(folder, farm, args.every)
        env = {
            **os.environ,
            "WIREWATCH_CONCURRENCY": str(args.concurrency),
            "WIREWATCH_BATCH": str(args.batch),
        }
        log = (folder / "run.log").open("w+", encoding="utf-8")
        cmd = [sys.executable, "-m", "crawler", "-c", str(config), "run"]
        cpu_before = children_cpu()
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
        soak_cpu = children_cpu() - cpu_before  # the scheduler and every crawl child
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
        received = Counter(farm.hooks)
        baseline = (
            measure_baseline(folder, farm, args.every, args.baseline) if args.baseline else None
        )

    final = next((ln for ln in reversed(lines) if "stopped; runs" in ln), "")
    m = re.search(
        r"runs (\d+) done of (\d+) due, (\d+) failed, (\d+) timed out, (\d+) skipped.*?, "
        r"(\d+) missed, (\d+) coalesced, (\d+) not started.*?(\d+) crawl children",
        final,
    )
    done, sched_due, failed, timed_out, skipped, missed, coalesced, abandoned, children = (
        map(int, m.groups()) if m else (0,) * 9
    )
    # A run due in the last second before the stop may or may not have been submitted.
    due = expected_due(args.sources, every, window - 1.0)
    never_counted = max(due - sched_due, 0)
    missed_total = skipped + missed + coalesced + never_counted
    stored = sum(after.values())
    unique = len(received)
    duplicates = sum(c - 1 for c in received.values() if c > 1)
    lost = stored - unique
    growth = (last.get("VmHWM", 0) / first["VmHWM"] - 1) if first.get("VmHWM") else float("nan")
    warnings = [ln for ln in lines if ln.startswith(("WARNING", "ERROR"))]
    per_run = soak_cpu / done if done else float("nan")
    cores = args.concurrency

    print(f"command: {' '.join(sys.argv)}")
    print(
        f"sources: {args.sources} every {args.every}, concurrency {args.concurrency}, "
        f"batch cap {args.batch}, new item per source every {args.new_every:.0f} s; "
        f"ran {ran_for:.0f} s, stop took {stopped_in:.1f} s (exit {proc.returncode})"
    )
    print(
        f"runs: {done} done / {due} due by the schedule ({sched_due} counted due by the "
        f"scheduler, {abandoned} of them still queued at the stop); {failed} failed, "
        f"{timed_out} timed out; {children} crawl children "
        f"({done / children if children else 0:.1f} runs each); "
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
        f"CPU: {soak_cpu:.0f} s for the scheduler and its children = {per_run:.3f} s per run "
        f"({soak_cpu / ran_for / cores:.0%} of {cores} cores)"
    )
    if baseline:
        floor = args.sources * baseline.single / cores
        print(
            f"baseline (same run, {baseline.sources} sources after the soak): one child per "
            f"run {baseline.single:.3f} s CPU per run ({baseline.single_wall:.2f} s wall); "
            f"the same {baseline.sources} in one child {baseline.batched:.3f} s per run; "
            f"one-child-per-run / this soak: {baseline.single / per_run:.1f}x the CPU per run "
            f"(with all {cores} cores busy it could keep {args.sources} sources at every "
            f"{floor:.0f} s at best)"
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
