"""``wirewatch run``: every source on its own schedule, delivery in between, until stopped.

Why a subprocess per crawl: the Twisted reactor under Scrapy cannot be restarted in a
process, and a crawl that hangs must be killable.  Each due source runs as
``python -m crawler -c CONFIG crawl --source NAME --no-deliver`` in its own session (so a
terminal's Ctrl-C reaches only the scheduler, which then decides) with a hard timeout after
which its whole process group is killed (:mod:`crawler.child`).  The scheduler process
only triggers crawls and delivers the outbox; every alert is in the database before a
child exits, so stopping or killing a crawl never loses one that was stored.

APScheduler 3.x, with the defaults changed where crawls need it: ``max_instances=1`` (no two
runs of one source at once; a run longer than its interval makes the next one skip, logged
as a warning by :class:`RunStats`), ``coalesce=True`` (after downtime one catch-up run, not
a burst) and a ``misfire_grace_time`` of an hour instead of one second.  Crawls run on their
own thread pool of ``concurrency`` workers (``WIREWATCH_CONCURRENCY``, default: CPU count),
so a crowd of due sources queues instead of forking 200 Pythons at once; delivery, the
heartbeat and the config watch run on a separate small pool and are never starved by crawls.
A run queued behind the cap still counts as running for ``max_instances``.

The first runs after start are spread evenly over ``min(interval, START_SPREAD)`` in config
order, so a restart with many sources does not fire them all in the same second: the start
then costs what steady state costs (``sources / interval`` crawls per second) instead of
queueing hundreds of children behind the cap.

Reload: on SIGHUP, or when the config file or a watchlist changes on disk (mtimes polled
every ``WATCH_EVERY``), the config is read and checked (schedules, timeouts, watchlists)
before anything changes; a broken one is refused with one line and the running one stays.
Unchanged sources keep their timing; new ones run soon, changed ones are rescheduled.

Stop: the first SIGINT/SIGTERM stops new crawls and delivery, lets running crawls finish
for ``STOP_GRACE``, then terminates their process groups (SIGTERM, which Scrapy handles
gracefully, then SIGKILL).  A second signal terminates them at once.  Alerts not yet
delivered stay queued and go out on the next start.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.child import STOP_GRACE, ChildResult, crawl_command, run_child
from crawler.config import Config, ConfigError, load_config, parse_duration

log = logging.getLogger(__name__)

DEFAULT_EVERY = timedelta(minutes=15)
DELIVER_EVERY = timedelta(seconds=30)
HEARTBEAT_EVERY = timedelta(minutes=5)
WATCH_EVERY = timedelta(seconds=5)
START_SPREAD = timedelta(minutes=15)  # the default interval
MISFIRE_GRACE = 3600
_SOURCE = "source:"


def parse_every(value: str) -> timedelta:
    """``30s``, ``15m``, ``2h``, ``1d`` → timedelta; ValueError otherwise."""
    return parse_duration(value)


def trigger_for(source: Any) -> IntervalTrigger | CronTrigger:
    """The APScheduler trigger of a configured source; ``ConfigError`` when it is invalid."""
    if source.cron:
        try:
            return CronTrigger.from_crontab(source.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError("config", None, f"source {source.name}: cron: {exc}") from None
    try:
        every = parse_every(source.every) if source.every else DEFAULT_EVERY
    except ValueError as exc:
        raise ConfigError("config", None, f"source {source.name}: every: {exc}") from None
    return IntervalTrigger(seconds=every.total_seconds(), timezone="UTC")


def timeout_for(source: Any) -> float:
    """Seconds one crawl of ``source`` may take: its ``timeout:``, else its interval
    (at least a minute, at most an hour), else an hour for cron sources."""
    if getattr(source, "timeout", None):
        try:
            return parse_every(source.timeout).total_seconds()
        except ValueError as exc:
            raise ConfigError("config", None, f"source {source.name}: timeout: {exc}") from None
    trigger = trigger_for(source)
    if isinstance(trigger, IntervalTrigger):
        return min(max(trigger.interval.total_seconds(), 60.0), 3600.0)
    return 3600.0


def check_config(config: Config) -> None:
    """Everything ``run`` needs from a config, checked up front: schedules, timeouts and
    the watchlists.  Raises ``ConfigError`` (one printable line)."""
    from pipelines.rules import load_watchlists

    for source in config.sources:
        trigger_for(source)
        timeout_for(source)
    load_watchlists(config.watchlists, channels=set(config.channels))


# --- counters and the scheduler's own warnings ----------------------------------------------


@dataclass
class RunStats:
    """What the scheduler did with the source jobs (thread-safe).

    ``due`` counts scheduled run times; of them ``skipped`` were dropped because the
    previous run was still going (or queued), ``missed`` came later than the misfire
    grace, ``coalesced`` were folded into one catch-up run.  ``done`` counts finished runs,
    of which ``failed`` exited non-zero, ``timed_out`` hit the hard timeout and ``stopped``
    were terminated at shutdown; ``abandoned`` were queued when the stop came.
    """

    due: int = 0
    started: int = 0
    done: int = 0
    failed: int = 0
    timed_out: int = 0
    stopped: int = 0
    abandoned: int = 0
    skipped: int = 0
    missed: int = 0
    coalesced: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def line(self) -> str:
        with self._lock:
            return (
                f"runs {self.done} done of {self.due} due, {self.failed} failed, "
                f"{self.timed_out} timed out, {self.skipped} skipped (previous still running), "
                f"{self.missed} missed, {self.coalesced} coalesced, "
                f"{self.abandoned} not started before the stop"
            )


# --- the scheduler --------------------------------------------------------------------------


class Runner:
    """``wirewatch run`` as an object: a scheduler, a dispatcher and the live config.

    ``dispatcher_factory(channels)`` builds an ``alerts.dispatch.Dispatcher`` (rebuilt on
    reload); ``queued()`` counts alerts waiting for delivery; ``now`` is the scheduler's
    wall clock (UTC).  ``scheduler`` defaults to a ``BlockingScheduler``; tests pass a
    ``BackgroundScheduler`` or never start it.  Nothing runs until :meth:`start`.
    """

    def __init__(
        self,
        config: Config,
        *,
        dispatcher_factory: Callable[[Any], Any],
        queued: Callable[[], int],
        concurrency: int,
        scheduler: BaseScheduler | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        stop_grace: float = STOP_GRACE,
        out: TextIO | None = None,
        command: Callable[[Config, str], list[str]] | None = None,
        notices: Callable[[Config], Any] | None = None,
    ) -> None:
        self.config = config
        self._notices = notices
        self.stats = RunStats()
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self._dispatcher_factory = dispatcher_factory
        self._dispatcher = dispatcher_factory(config.channels)
        self._queued = queued
        self._now = now
        self._stop_grace = stop_grace
        self._out = out
        self._command = command or crawl_command
        self._dispatch_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._stop_thread: threading.Thread | None = None
        self._running: dict[str, datetime] = {}  # source → when its current run started
        self._schedules: dict[str, tuple[Any, ...]] = {}
        self._last_due: dict[str, datetime] = {}  # source → its latest scheduled run time
        self._fingerprint = files_fingerprint(config)
        self.scheduler = scheduler or BlockingScheduler()
        self.scheduler.configure(
            timezone="UTC",
            executors={
                "default": ThreadPoolExecutor(4),
                "crawl": ThreadPoolExecutor(concurrency),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE,
            },
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED
        )
        self._schedule_sources(config, first=True)
        for job_id, func, every in (
            ("deliver", self.deliver, DELIVER_EVERY),
            ("heartbeat", self.heartbeat, HEARTBEAT_EVERY),
            ("watch", self.watch_files, WATCH_EVERY),
        ):
            self.scheduler.add_job(
                func, IntervalTrigger(seconds=every.total_seconds()), id=job_id, name=job_id
            )

    # -- jobs ---------------------------------------------------------------------------

    def crawl(self, name: str) -> None:
        """One scheduled run of source ``name``, then a delivery round."""
        if self.stopping.is_set():
            self.stats.add(abandoned=1)  # queued behind the cap when the stop came
            return
        try:
            source = self.config.source(name)
        except ConfigError:
            return  # removed by a reload while this run waited for a worker
        self.stats.add(started=1)
        self._running[name] = self._now()
        log.info("source %s: crawl started", name)
        try:
            result = run_child(
                self._command(self.config, name),
                timeout=timeout_for(source),
                stopping=self.stopping,
                grace=lambda: self._stop_grace,
            )
        finally:
            self._running.pop(name, None)
        self._record(name, source, result)
        self.deliver()

    def _record(self, name: str, source: Any, result: ChildResult) -> None:
        self.stats.add(
            done=1,
            failed=int(not result.ok),
            timed_out=int(result.timed_out),
            stopped=int(result.stopped),
        )
        if result.timed_out:
            log.warning(
                "source %s: crawl killed at its %.0f s timeout (set `timeout:` to allow more)",
                name,
                timeout_for(source),
            )
        elif result.stopped:
            log.warning(
                "source %s: crawl terminated at shutdown after %.0f s", name, result.seconds
            )
        elif result.returncode != 0:
            last = result.stderr.strip().splitlines()[-1:] or ["no output"]
            log.error("source %s: crawl failed (exit %d): %s", name, result.returncode, last[0])
        else:
            summary = result.stdout.strip().splitlines()
            if summary:
                log.info("%s (%.1f s)", summary[0], result.seconds)

    def deliver(self) -> None:
        """One delivery round of due alerts (serialised; a no-op once stopping)."""
        with self._dispatch_lock:
            summary = self._dispatcher.deliver_due()
            if self._notices is not None and not self.stopping.is_set():
                # Ops notices too: the crawl children leave console ones to this process.
                self._notices(self.config)
        if summary.delivered or summary.failed or summary.retrying:
            log.info(
                "delivery: %d delivered, %d to retry, %d failed",
                summary.delivered,
                summary.retrying,
                summary.failed,
            )

    def heartbeat(self) -> None:
        """One line on stderr: sources, crawls running, run counters, queued alerts."""
        try:
            queued: int | str = self._queued()
        except Exception as exc:  # the heartbeat must not die with the database
            queued = f"? ({type(exc).__name__})"
        self._say(
            f"alive; {len(self.config.sources)} sources, {len(self._running)} crawling; "
            f"{self.stats.line()}; {queued} alerts queued"
        )

    def watch_files(self) -> None:
        """Reload when the config file or a watchlist changed on disk since last seen."""
        current = files_fingerprint(self.config)
        if current != self._fingerprint:
            self._fingerprint = current
            self.reload("file change")

    # -- reload ---------------------------------------------------------------------------

    def reload(self, why: str = "SIGHUP") -> bool:
        """Read the config again; apply it if it checks, else keep the running one.
        Returns whether it was applied.  Prints one line either way."""
        with self._reload_lock:
            try:
                fresh = load_config(self.config.path)
                check_config(fresh)
            except ConfigError as exc:
                self._say(f"reload ({why}) refused, still running the previous config: {exc}")
                return False
            except Exception as exc:  # a bug must not take the scheduler down with it
                self._say(f"reload ({why}) refused: {type(exc).__name__}: {exc}")
                return False
            self._fingerprint = files_fingerprint(fresh)
            with self._dispatch_lock:
                self._dispatcher.close()
                self._dispatcher = self._dispatcher_factory(fresh.channels)
                if self.stopping.is_set():
                    self._dispatcher.stop()
            self.config = fresh
            added, removed, changed = self._schedule_sources(fresh, first=False)
            self._say(
                f"reloaded {fresh.path} ({why}): {len(fresh.sources)} sources, "
                f"{added} added, {removed} removed, {changed} rescheduled"
            )
            return True

    def _schedule_sources(self, config: Config, *, first: bool) -> tuple[int, int, int]:
        wanted = {s.name: s for s in config.sources}
        removed = [n for n in self._schedules if n not in wanted]
        for name in removed:
            self.scheduler.remove_job(_SOURCE + name)
            del self._schedules[name]
            self._last_due.pop(name, None)
        added = changed = 0
        now = self._now()
        for i, source in enumerate(config.sources):
            key = (source.every, source.cron)
            if self._schedules.get(source.name) == key:
                continue  # unchanged: keep its timing (a reload does not trigger a run)
            trigger = trigger_for(source)
            self._last_due.pop(source.name, None)
            if source.name in self._schedules:
                self.scheduler.reschedule_job(_SOURCE + source.name, trigger=trigger)
                changed += 1
            else:
                offset = _spread(trigger, i, len(config.sources)) if first else timedelta(0)
                self.scheduler.add_job(
                    self.crawl,
                    trigger,
                    args=[source.name],
                    id=_SOURCE + source.name,
                    name=source.name,
                    executor="crawl",
                    next_run_time=now + offset,
                )
                added += 1
            self._schedules[source.name] = key
        return added, len(removed), changed

    def _on_event(self, event: JobEvent) -> None:
        if not event.job_id.startswith(_SOURCE):
            return
        name = event.job_id[len(_SOURCE) :]
        if event.code == EVENT_JOB_MISSED:
            self.stats.add(due=1, missed=1)
            log.warning(
                "source %s: run due at %s missed by more than %d s; waiting for the next one",
                name,
                _hms(event.scheduled_run_time),
                MISFIRE_GRACE,
            )
            return
        assert isinstance(event, JobSubmissionEvent)
        times = list(event.scheduled_run_times)
        # APScheduler hands a coalesced job only its latest run time; the ones folded into
        # it are the trigger's fire times since the previous run time this job was given.
        folded, first = self._folded(name, times[0])
        self._last_due[name] = times[-1]
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self.stats.add(due=len(times) + folded, skipped=len(times), coalesced=folded)
            since = self._running.get(name)
            log.warning(
                "source %s: skipping the run due at %s: the previous run is still %s",
                name,
                _hms(times[-1]),
                f"going (started {_hms(since)})" if since else "waiting for a free worker",
            )
            return
        self.stats.add(due=len(times) + folded, coalesced=folded)
        if folded:
            log.warning(
                "source %s: %d runs were due since %s (downtime?); one catch-up run",
                name,
                folded + len(times),
                _hms(first),
            )

    def _folded(self, name: str, due: datetime) -> tuple[int, datetime | None]:
        """How many fire times of ``name`` lie strictly between its last run time and
        ``due``, and the first of them (0 for its first run, or after a reschedule)."""
        last = self._last_due.get(name)
        job = self.scheduler.get_job(_SOURCE + name)
        if last is None or job is None:
            return 0, None
        first = when = job.trigger.get_next_fire_time(last, last)
        count = 0
        while when is not None and when < due and count < 1_000_000:
            count += 1
            when = job.trigger.get_next_fire_time(when, when)
        return count, first

    # -- start / stop ---------------------------------------------------------------------

    def request_stop(self, *_: Any) -> None:
        """Signal handler: first call stops gracefully, a second one hurries the crawls."""
        if self.stopping.is_set():
            self._stop_grace = 0.0
            self._say(f"stopping now: terminating {len(self._running)} running crawls")
            return
        self.stopping.set()
        self._dispatcher.stop()
        self._say(
            f"stopping: {len(self._running)} running crawls get {self._stop_grace:.0f} s "
            "to finish (Ctrl-C again to end them now)"
        )
        # shutdown(wait=True) joins the worker threads: never from the signal handler.
        self._stop_thread = threading.Thread(target=self.scheduler.shutdown, name="wirewatch-stop")
        self._stop_thread.start()

    def start(self) -> None:
        """Run until stopped (``BlockingScheduler``) and wait for the crawls to end."""
        self._say(
            f"running {len(self.config.sources)} sources, up to {self.concurrency} crawls "
            "at once; Ctrl-C to stop"
        )
        self.scheduler.start()
        if self._stop_thread is not None:
            self._stop_thread.join()
        with self._dispatch_lock:
            self._dispatcher.close()
        self._say(f"stopped; {self.stats.line()}")

    def _say(self, line: str) -> None:
        print(f"wirewatch: {line}", file=self._out or sys.stderr, flush=True)


def files_fingerprint(config: Config) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of the config file and every watchlist; -1 when missing."""
    paths: Iterable[Any] = [config.path, *config.watchlists] if config.path else []
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


def default_concurrency() -> int:
    """``WIREWATCH_CONCURRENCY`` if set, else the CPU count: each crawl child is a Python
    with Scrapy loaded (~1–3 s of CPU to start), so more would only queue on the cores."""
    value = os.environ.get("WIREWATCH_CONCURRENCY", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError("WIREWATCH_CONCURRENCY", None, f"{value!r} is not a positive number")
        return int(value)
    return max(1, os.cpu_count() or 1)


class _SaidBetterFilter(logging.Filter):
    """Drops APScheduler's own skip/miss warnings: :class:`Runner` logs each one with the
    source name, when the previous run started and what happens next."""

    _PREFIXES = ('Execution of job "%s" skipped', 'Run time of job "%s" was missed')

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._PREFIXES)


def run(config: Config, *, concurrency: int | None = None) -> int:
    """Schedule every source and the delivery loop; return 0 after SIGINT/SIGTERM."""
    from sqlalchemy import func, select

    from alerts.dispatch import Dispatcher
    from alerts.ops import deliver_notices
    from crawler.app import App
    from crawler.models import Alert

    app = App.open(config)
    check_config(config)  # a broken schedule or watchlist is reported before any crawl

    def queued() -> int:
        with app.sessions() as session:
            query = select(func.count()).select_from(Alert).where(Alert.status == "queued")
            return int(session.scalar(query) or 0)

    for name in ("apscheduler.scheduler", "apscheduler.executors.crawl"):
        logging.getLogger(name).addFilter(_SaidBetterFilter())
    runner = Runner(
        config,
        dispatcher_factory=lambda channels: Dispatcher(app.sessions, channels),
        notices=lambda cfg: deliver_notices(app.sessions, cfg),
        queued=queued,
        concurrency=concurrency or default_concurrency(),
    )
    signal.signal(signal.SIGINT, runner.request_stop)
    signal.signal(signal.SIGTERM, runner.request_stop)
    if hasattr(signal, "SIGHUP"):
        # The handler runs on the main thread, which may hold the scheduler's job-store
        # lock; the reload takes it from a thread of its own.
        signal.signal(
            signal.SIGHUP,
            lambda *_: threading.Thread(target=runner.reload, args=("SIGHUP",)).start(),
        )
    runner.start()
    return 0


def _spread(trigger: IntervalTrigger | CronTrigger, i: int, n: int) -> timedelta:
    # Source i of n starts at i/n of the spread window: a restart with 200 sources does
    # not fork 200 crawls in one second, and one source still starts at once.
    window = START_SPREAD
    if isinstance(trigger, IntervalTrigger):
        window = min(window, trigger.interval)
    return window * i / n if n else timedelta(0)


def _hms(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%H:%M:%S") if when else "?"
