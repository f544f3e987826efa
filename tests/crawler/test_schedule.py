"""``wirewatch run``: schedules, timeouts, the crawl child, stop, reload, heartbeat.

The scheduler tests drive a real APScheduler (a ``BackgroundScheduler``, started for a
second or two) with fake crawls (tiny Python children) and a fake dispatcher; downtime is a
job whose next run lies in the past, which is exactly what APScheduler sees after a suspend.
Two tests run the real ``wirewatch run`` over the seed stories.
"""

from __future__ import annotations

import html
import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts.dispatch import DeliverySummary
from crawler.child import run_child
from crawler.config import ConfigError, FilesSource, load_config, parse_duration
from crawler.runstats import SaidBetterFilter
from crawler.schedule import Runner, timeout_for, trigger_for
from tests.conftest import REPO, copy_seeds
from tests.httpserver import LocalHTTPServer, Reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        (" 2h ", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "0m", "5 minutes", "-1h", "1.5h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_triggers_from_sources() -> None:
    every = FilesSource(type="files", name="s", path="x", every="10m")
    assert isinstance(trigger_for(every), IntervalTrigger)
    cron = FilesSource(type="files", name="s", path="x", cron="*/5 * * * *")
    assert isinstance(trigger_for(cron), CronTrigger)
    # Config validation refuses this first; trigger_for still defends itself.
    bad = FilesSource.model_construct(type="files", name="s", path="x", cron="every tuesday")
    with pytest.raises(ConfigError, match="source s: cron"):
        trigger_for(bad)


def test_run_crawls_on_schedule_delivers_once_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = _seeded(tmp_path, every="2s")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        assert proc.stdout is not None
        while len(lines) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("[north-korea-russia-troops]"):
                lines.append(line)
        assert len(lines) == 2
        proc.send_signal(signal.SIGHUP)  # same config: reloaded, nothing rescheduled
        time.sleep(5)  # two more scheduled runs: nothing new to send
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "[north-korea-russia-troops]" not in out
    assert "Traceback" not in err
    assert "stopping" in err
    assert "(SIGHUP): 1 sources, 0 added, 0 removed, 0 rescheduled" in err


# --- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"every": "10m", "timeout": "90s"}, 90.0),
        ({"every": "10m"}, 600.0),
        ({"every": "5s"}, 60.0),  # at least a minute
        ({"every": "6h"}, 3600.0),  # at most an hour
        ({"cron": "*/5 * * * *"}, 3600.0),
        ({}, 900.0),  # the default interval
    ],
)
def test_timeout_for(fields: dict[str, str], expected: float) -> None:
    assert timeout_for(FilesSource(type="files", name="s", path="x", **fields)) == expected


def test_timeout_for_refuses_a_bad_duration() -> None:
    with pytest.raises(ConfigError, match="source s: timeout: '2 min'"):
        timeout_for(FilesSource.model_construct(type="files", name="s", path="x", timeout="2 min"))


# --- the crawl child ------------------------------------------------------------------------

# A child that starts a grandchild in its process group, prints its pid, then hangs.
HANG = [
    sys.executable,
    "-c",
    "import subprocess, sys, time\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(p.pid, flush=True)\n"
    "time.sleep(60)\n",
]


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # a zombie waiting for init is dead


def _wait_gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_run_child_kills_the_whole_group_at_the_timeout() -> None:
    result = run_child(HANG, timeout=1.0, stopping=threading.Event(), term_grace=2.0)
    assert result.timed_out and not result.ok
    assert result.returncode == -signal.SIGTERM
    assert _wait_gone(int(result.stdout.split()[0]))
    assert 1.0 <= result.seconds < 5.0


def test_run_child_sigkills_a_child_that_ignores_sigterm() -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
    ]
    result = run_child(stubborn, timeout=0.5, stopping=threading.Event(), term_grace=0.5)
    assert result.timed_out and result.returncode == -signal.SIGKILL


def test_run_child_lets_a_crawl_finish_within_the_stop_grace() -> None:
    stopping = threading.Event()
    stopping.set()
    quick = [sys.executable, "-c", "import time; time.sleep(0.5); print('done')"]
    result = run_child(quick, timeout=60, stopping=stopping, grace=lambda: 10.0)
    assert result.ok and result.stdout.strip() == "done"


def test_run_child_terminates_after_the_stop_grace() -> None:
    stopping = threading.Event()
    threading.Timer(0.3, stopping.set).start()
    result = run_child(HANG, timeout=60, stopping=stopping, grace=lambda: 0.5, term_grace=2.0)
    assert result.stopped and not result.timed_out and not result.ok
    assert _wait_gone(int(result.stdout.split()[0]))
    assert result.seconds < 5.0


# --- the scheduler, with APScheduler's own machinery and fake crawls ------------------------


class FakeDispatcher:
    """Stands in for ``alerts.dispatch.Dispatcher``: counts rounds, remembers stop()."""

    def __init__(self, channels: object) -> None:
        self.channels = channels
        self.rounds = 0
        self.stopped = False
        self.closed = False

    def deliver_due(self) -> DeliverySummary:
        self.rounds += 1
        return DeliverySummary()

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


def _write_config(folder: Path, sources: str, watchlist: str | None = None) -> Path:
    (folder / "watchlist.yaml").write_text(
        watchlist or "rules:\n  - name: r\n    all: [Russia]\n", encoding="utf-8"
    )
    path = folder / "wirewatch.yaml"
    path.write_text(
        "database: sqlite:///w.db\nsources:\n"
        + sources
        + "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    return path


def _source(name: str, **fields: str) -> str:
    extra = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    return f"  - name: {name}\n    type: files\n    path: '*.txt'\n" + extra


def _runner(
    tmp_path: Path, sources: str, child: list[str] | None = None, **kwargs: Any
) -> tuple[Runner, list[FakeDispatcher], io.StringIO]:
    config = load_config(_write_config(tmp_path, sources))
    made: list[FakeDispatcher] = []
    out = io.StringIO()

    def factory(channels: object) -> FakeDispatcher:
        made.append(FakeDispatcher(channels))
        return made[-1]

    runner = Runner(
        config,
        dispatcher_factory=factory,
        queued=lambda: 7,
        concurrency=kwargs.pop("concurrency", 2),
        scheduler=BackgroundScheduler(),
        out=out,
        command=lambda path, names: [*(child or _child("pass")), *names],
        workdir=tmp_path / "run",
        **kwargs,
    )
    return runner, made, out


def _child(code: str) -> list[str]:
    """A fake crawl child: runs ``code``, then prints a summary line for every source named
    on its command line, as ``wirewatch crawl`` does."""
    report = "\nimport sys\nfor n in sys.argv[1:]: print(f'{n}: 0 pages', flush=True)\n"
    return [sys.executable, "-c", code + report]


def _until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_job_defaults_and_executors(tmp_path: Path) -> None:
    runner, _, _ = _runner(tmp_path, _source("a", every="10m") + _source("b", cron="'0 * * * *'"))
    runner.scheduler.start(paused=True)  # job defaults are applied when jobs are stored
    try:
        for name in ("a", "b"):
            job = runner.scheduler.get_job(f"source:{name}")
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 3600)
            assert job.executor == "crawl"
        assert runner.scheduler.get_job("deliver").executor == "default"
    finally:
        runner.scheduler.shutdown(wait=False)


def test_first_runs_are_spread_over_the_interval(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    sources = "".join(_source(f"s{i}", every="1m") for i in range(4))
    runner, _, _ = _runner(tmp_path, sources, now=lambda: now)
    starts = [runner.scheduler.get_job(f"source:s{i}").next_run_time for i in range(4)]
    assert [(t - now).total_seconds() for t in starts] == [0, 15, 30, 45]


def test_no_overlap_a_long_run_skips_the_next_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slow = _child("import time; time.sleep(2.2)")
    runner, _, _ = _runner(tmp_path, _source("slow", every="1s"), child=slow)
    peak = []
    runner.scheduler.add_job(lambda: peak.append(len(runner.pool.running)), "interval", seconds=0.1)
    with caplog.at_level(logging.WARNING, logger="crawler.schedule"):
        runner.scheduler.start()
        try:
            _until(lambda: runner.stats.done >= 1 and runner.stats.skipped >= 1)
        finally:
            runner.stopping.set()
            runner.scheduler.shutdown(wait=True)
    assert max(peak) == 1
    assert runner.stats.skipped >= 1
    assert "source slow: skipping the run due at" in caplog.text
    assert "the previous run is still going (started" in caplog.text


def test_after_downtime_one_catch_up_run_not_a_burst(tmp_path: Path) -> None:
    runner, made, _ = _runner(tmp_path, _source("a", every="1s"))
    # The job's next run 10.5 s in the past: what APScheduler sees after a suspend.
    past = datetime.now(timezone.utc) - timedelta(seconds=10.5)
    runner.scheduler.modify_job("source:a", next_run_time=past)
    runner.scheduler.start()
    try:
        _until(lambda: runner.stats.done >= 1)
        _until(lambda: made[0].rounds >= 1)  # a delivery round after the crawl
        started = runner.stats.started
    finally:
        runner.stopping.set()
        runner.scheduler.shutdown(wait=True)
    assert started == 1


def test_coalesced_runs_are_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner, _, _ = _runner(tmp_path, _source("a", every="1s"))
    runner.scheduler.start(paused=True)
    try:
        t0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
        submitted = EVENT_JOB_SUBMITTED
        runner._on_event(JobSubmissionEvent(submitted, "source:a", "default", [t0]))
        with caplog.at_level(logging.WARNING, logger="crawler.schedule"):
            # Next run given 10 s later: 9 fire times were folded into this one.
            later = t0 + timedelta(seconds=10)
            runner._on_event(JobSubmissionEvent(submitted, "source:a", "default", [later]))
    finally:
        runner.scheduler.shutdown(wait=False)
    assert (runner.stats.due, runner.stats.coalesced) == (11, 9)
    assert "source a: 10 runs were due since 12:00:01 (downtime?); one catch-up run" in caplog.text


def test_a_hanging_crawl_is_killed_at_its_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner, _, _ = _runner(tmp_path, _source("hang", every="1h", timeout="1s"), child=HANG)
    with caplog.at_level(logging.WARNING, logger="crawler.schedule"):
        runner.scheduler.start()
        try:
            _until(lambda: runner.stats.done >= 1)
        finally:
            runner.stopping.set()
            runner.scheduler.shutdown(wait=True)
    assert (runner.stats.timed_out, runner.stats.failed) == (1, 1)
    assert "source hang: crawl killed at its 1 s timeout" in caplog.text


def test_stop_lets_the_crawl_finish_then_stops_delivery(tmp_path: Path) -> None:
    runner, made, out = _runner(
        tmp_path,
        _source("a", every="1h") + _source("b", every="1h"),
        child=_child("import time; time.sleep(1)"),
        concurrency=1,
    )
    runner.scheduler.start()
    _until(lambda: len(runner.pool.running) == 1)
    # b comes due while a's crawl holds the one worker: it waits for the next batch.
    runner.scheduler.modify_job("source:b", next_run_time=datetime.now(timezone.utc))
    _until(lambda: runner.pool.waiting == 1)
    runner.request_stop()
    runner._stop_thread.join(10)  # type: ignore[union-attr]
    assert made[0].stopped
    assert (runner.stats.done, runner.stats.failed) == (1, 0)  # finished within the grace
    assert runner.stats.abandoned == 1  # b waited for the one worker: never started
    assert "stopping: 1 running crawls get 30 s" in out.getvalue()


def test_second_stop_terminates_running_crawls(tmp_path: Path) -> None:
    runner, _, out = _runner(tmp_path, _source("hang", every="1h"), child=HANG)
    runner.scheduler.start()
    _until(lambda: len(runner.pool.running) == 1)
    started = time.monotonic()
    runner.request_stop()
    runner.request_stop()
    runner._stop_thread.join(15)  # type: ignore[union-attr]
    assert runner.stats.stopped == 1
    assert time.monotonic() - started < 12
    assert "stopping now: terminating 1 running crawls" in out.getvalue()


def test_reload_on_file_change_keeps_the_old_config_when_broken(tmp_path: Path) -> None:
    runner, made, out = _runner(tmp_path, _source("a", every="10m"))
    before = runner.scheduler.get_job("source:a").next_run_time
    runner.watch_files()
    assert out.getvalue() == ""  # nothing changed, nothing said

    path = _write_config(tmp_path, _source("a", every="10m") + _source("b", every="5m"))
    os.utime(path, ns=(time.time_ns() + 10**9,) * 2)  # a new mtime even on coarse clocks
    runner.watch_files()
    assert "reloaded" in out.getvalue() and "1 added, 0 removed, 0 rescheduled" in out.getvalue()
    assert [s.name for s in runner.config.sources] == ["a", "b"]
    assert runner.scheduler.get_job("source:a").next_run_time == before  # timing kept
    assert runner.scheduler.get_job("source:b") is not None
    assert made[0].closed and len(made) == 2  # channels rebuilt

    path.write_text("sources: [oops\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns() + 2 * 10**9,) * 2)
    runner.watch_files()
    runner.watch_files()  # refused once per change, not every poll
    refused = [line for line in out.getvalue().splitlines() if "refused" in line]
    assert len(refused) == 1 and "wirewatch.yaml:" in refused[0]
    assert [s.name for s in runner.config.sources] == ["a", "b"]

    _write_config(tmp_path, _source("a", every="banana"))
    os.utime(path, ns=(time.time_ns() + 3 * 10**9,) * 2)
    assert not runner.reload("SIGHUP")
    assert "wirewatch.yaml:6: sources.0.every: 'banana' is not a duration" in out.getvalue()

    watchlist = tmp_path / "watchlist.yaml"
    _write_config(tmp_path, _source("a", every="1m"))
    watchlist.write_text("rules:\n  - name: r\n    all: []\n", encoding="utf-8")
    os.utime(watchlist, ns=(time.time_ns() + 4 * 10**9,) * 2)
    runner.watch_files()
    assert "watchlist.yaml" in out.getvalue().splitlines()[-1]
    assert [s.name for s in runner.config.sources] == ["a", "b"]

    watchlist.write_text("rules:\n  - name: r\n    all: [Russia]\n", encoding="utf-8")
    os.utime(watchlist, ns=(time.time_ns() + 5 * 10**9,) * 2)
    runner.watch_files()
    assert "0 added, 1 removed, 1 rescheduled" in out.getvalue().splitlines()[-1]
    assert runner.scheduler.get_job("source:b") is None


def test_heartbeat_line(tmp_path: Path) -> None:
    runner, _, out = _runner(tmp_path, _source("a") + _source("b"))
    runner.stats.add(due=5, done=4, failed=1, skipped=1)
    runner.heartbeat()
    line = out.getvalue().strip()
    assert line.startswith("wirewatch: alive; 2 sources, 0 crawling; runs 4 done of 5 due")
    assert "1 failed" in line and "1 skipped" in line and line.endswith("7 alerts queued")


# --- the real thing -------------------------------------------------------------------------


def _seeded(tmp_path: Path, every: str) -> Path:
    """A config over copies of the seed stories, crawled ``every`` so often."""
    copy_seeds(tmp_path)
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        "database: sqlite:///w.db\n"
        f"sources:\n  - name: seeds\n    type: files\n    path: seeds/*.txt\n    every: {every}\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    return config


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if text.encode() in cmdline and not _gone(int(entry.name)):
            found.append(int(entry.name))
    return found


def _crawl_children(scheduler: int) -> list[int]:
    """The live crawl children started by the scheduler with pid ``scheduler``."""
    return _processes_mentioning(f"\0--parent\0{scheduler}\0")


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _slow_feed_config(tmp_path: Path, server: LocalHTTPServer) -> Path:
    """A feed of the two seed stories whose article pages take 3 s each to answer, so a
    Ctrl-C is sure to land while the crawl is running."""
    base = server.url("").rstrip("/")
    items = []
    for i, seed in enumerate(sorted((REPO / "seeds").glob("*.txt"))):
        paragraphs = [p for p in seed.read_text(encoding="utf-8").split("\n") if p.strip()]
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[:-1])
        page = (
            f'<html lang="ar"><head><meta charset="utf-8"><title>story {i}</title></head>'
            f"<body><article><h1>story {i}</h1>{body}</article></body></html>"
        ).encode()

        def slow(_: object, page: bytes = page) -> Reply:
            time.sleep(3)
            return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page)

        server.add(f"/a/{i}.html", slow)
        items.append(f"<item><title>story {i}</title><link>{base}/a/{i}.html</link></item>")
    server.add(
        "/feed.xml",
        Reply(
            200,
            {"Content-Type": "application/rss+xml"},
            (
                '<rss version="2.0"><channel><title>t</title>' + "".join(items) + "</channel></rss>"
            ).encode(),
        ),
    )
    (tmp_path / "watchlist.yaml").write_bytes((REPO / "watchlist.yaml").read_bytes())
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        "database: sqlite:///w.db\n"
        f"sources:\n  - name: seeds\n    type: feed\n    url: {base}/feed.xml\n    every: 1h\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    return config


def test_ctrl_c_mid_crawl_keeps_the_alerts_for_the_next_start(tmp_path: Path) -> None:
    with LocalHTTPServer({}) as server:
        _ctrl_c_mid_crawl(tmp_path, _slow_feed_config(tmp_path, server))


def _ctrl_c_mid_crawl(tmp_path: Path, config: Path) -> None:
    cmd = [sys.executable, "-m", "crawler", "-v", "-c", str(config), "run"]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal of its own: Ctrl-C goes to its process group
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        err = ""
        while "source seeds: crawl started" not in err and time.monotonic() < deadline:
            err += proc.stderr.readline()
        # The child must have left the scheduler's process group (setsid between fork and
        # exec) before Ctrl-C, else the signal stays pending and kills it right after exec.
        while time.monotonic() < deadline and not any(
            _pgid(pid) not in (None, proc.pid) for pid in _crawl_children(proc.pid)
        ):
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C; the crawl child is still importing
        out, rest = proc.communicate(timeout=60)
        err += rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert _crawl_children(proc.pid) == []  # no orphaned crawl child
    assert "[north-korea-russia-troops]" not in out  # delivery stopped with the scheduler
    assert "stopped; runs 1 done of 1 due, 0 failed" in err  # the crawl finished
    queued = subprocess.run(
        [sys.executable, "-m", "crawler", "-c", str(config), "alerts", "--status", "queued"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert queued.stdout.count("queued") == 2

    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while len(lines) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("[north-korea-russia-troops]"):
                lines.append(line)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(lines) == 2 and "[north-korea-russia-troops]" not in out
    assert proc.returncode == 0, err


@pytest.mark.parametrize(
    ("msg", "kept"),
    [
        ('Execution of job "%s" skipped: maximum number of running instances reached (%d)', False),
        ('Run time of job "%s" was missed by %s', False),
        ('Job "%s" raised an exception', True),
    ],
)
def test_apscheduler_skip_warnings_give_way_to_ours(msg: str, kept: bool) -> None:
    record = logging.LogRecord("apscheduler.scheduler", logging.WARNING, "", 0, msg, (), None)
    assert SaidBetterFilter().filter(record) is kept


def test_delivery_rounds_send_ops_notices_until_stopping(tmp_path: Path) -> None:
    seen: list[object] = []
    runner, made, _ = _runner(tmp_path, _source("a", every="10m"), notices=seen.append)
    runner.deliver()
    assert made[-1].rounds == 1
    assert seen == [runner.config]
    runner.stopping.set()
    runner.deliver()
    assert seen == [runner.config]


# --- batches, the config the children read, children that end with the scheduler --------


def test_runs_due_while_the_worker_is_busy_share_one_child_and_are_recorded_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "children.log"
    child = _child(
        f"import sys, time\nopen({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "time.sleep(1)"
    )
    sources = "".join(_source(n, every="1h") for n in ("first", "a", "b", "c"))
    runner, _, _ = _runner(tmp_path, sources, child=child, concurrency=1)
    rounds: list[int] = []
    runner._deliver_soon.ask = lambda: rounds.append(1)  # type: ignore[method-assign]
    for name in ("a", "b", "c"):  # due while first's child holds the one worker
        runner.scheduler.modify_job(f"source:{name}", next_run_time=datetime(2100, 1, 1))
    with caplog.at_level(logging.INFO, logger="crawler.schedule"):
        runner.scheduler.start()
        try:
            _until(lambda: "first" in runner.pool.running)
            for name in ("a", "b", "c"):
                runner.scheduler.modify_job(
                    f"source:{name}", next_run_time=datetime.now(timezone.utc)
                )
            _until(lambda: runner.stats.done >= 4)
        finally:
            runner.stopping.set()
            runner.scheduler.shutdown(wait=True)
    assert log.read_text().splitlines() == ["first", "a b c"]
    assert (runner.stats.done, runner.stats.failed, runner.stats.children) == (4, 0, 2)
    for name in ("a", "b", "c"):
        assert f"{name}: 0 pages (1." in caplog.text and "s in a batch of 3)" in caplog.text
    assert len(rounds) == 2  # one delivery round per child


def test_a_batch_killed_at_its_timeout_records_every_member_as_timed_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = _source("a", every="1h", timeout="1s") + _source("b", every="1h", timeout="2s")
    runner, _, _ = _runner(tmp_path, sources, child=HANG, concurrency=1)
    # Both due in the same second: the one worker is free, so a may start alone; both
    # are recorded as timed out either way, b after its own 2 s at the latest.
    runner.scheduler.modify_job("source:b", next_run_time=datetime.now(timezone.utc))
    with caplog.at_level(logging.WARNING, logger="crawler.schedule"):
        runner.scheduler.start()
        try:
            _until(lambda: runner.stats.done >= 2, within=30)
        finally:
            runner.stopping.set()
            runner.scheduler.shutdown(wait=True)
    assert (runner.stats.timed_out, runner.stats.failed) == (2, 2)
    assert "source a: crawl killed at its" in caplog.text
    assert "source b: crawl killed at its 2 s timeout" in caplog.text


def test_children_read_the_accepted_config_not_a_refused_edit(tmp_path: Path) -> None:
    config = _seeded(tmp_path, every="1h")
    made: list[FakeDispatcher] = []
    out = io.StringIO()
    runner = Runner(
        load_config(config),
        dispatcher_factory=lambda channels: made.append(FakeDispatcher(channels)) or made[-1],
        queued=lambda: 0,
        concurrency=1,
        scheduler=BackgroundScheduler(),
        out=out,
        workdir=tmp_path / "run",
    )
    # A broken edit of the config and of the watchlist: refused, the running one stays.
    config.write_text(config.read_text() + "  - name: [oops\n", encoding="utf-8")
    (tmp_path / "watchlist.yaml").write_text("rules: [{name: r, all: []}]\n", encoding="utf-8")
    assert not runner.reload("SIGHUP")
    assert "refused" in out.getvalue()
    snapshot = runner.child_config
    assert snapshot.parent == tmp_path / "run" and load_config(snapshot).sources[0].name == "seeds"
    assert oct(snapshot.stat().st_mode & 0o777) == "0o600"
    runner.crawl("seeds")  # the real child, reading the snapshot
    runner.close()
    assert (runner.stats.done, runner.stats.failed) == (1, 0), out.getvalue()
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("SELECT source, outcome FROM source_runs").fetchall() == [("seeds", "ok")]
        assert db.execute("SELECT COUNT(*) FROM alerts").fetchone() == (2,)


def test_a_crawl_child_whose_scheduler_is_gone_does_not_start(tmp_path: Path) -> None:
    config = _seeded(tmp_path, every="1h")
    # pid 1 is not this child's parent: as if the scheduler died before the child ran.
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "-c", str(config), "crawl", "--parent", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "the scheduler (pid 1) is gone; not crawling" in done.stderr
    assert not (tmp_path / "w.db").exists()  # nothing opened, nothing crawled


def test_sigkill_of_the_scheduler_ends_its_crawl_children(tmp_path: Path) -> None:
    with LocalHTTPServer({}) as server:
        config = _slow_feed_config(tmp_path, server)
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "-v", "-c", str(config), "run"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not server.hits("/a/0.html"):
                time.sleep(0.05)  # the child is crawling: an article page was asked for
            children = _crawl_children(proc.pid)
            assert len(children) == 1
            proc.kill()
            proc.wait(10)
            # Its page answers 3 s after being asked: gone sooner means it was ended.
            assert _wait_gone(children[0], within=1.5)
        finally:
            if proc.poll() is None:
                proc.kill()
            for pid in _crawl_children(proc.pid):
                os.kill(pid, signal.SIGKILL)
