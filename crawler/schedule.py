"""``wirewatch run``: every source on its own schedule, delivery in between, until stopped.

Crawls run in child processes (the Twisted reactor cannot restart in a process, and a hung
crawl must be killable), batched by the crawl pool (:mod:`crawler.pool`): ``concurrency``
workers (``WIREWATCH_CONCURRENCY``, default: CPU count), each running one child at a time
for up to ``WIREWATCH_BATCH`` runs that waited for it, killable with its process group
(:mod:`crawler.child`), reading the config this process accepted (:mod:`crawler.snapshot`).
Every alert is in the database before a child exits: stopping or killing a crawl never
loses one that was stored.  One delivery round follows every batch, on a thread of its own.

APScheduler 3.x, with the defaults changed where crawls need it: ``max_instances=1`` (no two
runs of one source at once; a run longer than its interval, waiting in the pool included,
makes the next one skip, with a warning), ``coalesce=True`` (after downtime one catch-up
run, not a burst) and a ``misfire_grace_time`` of an hour.  Delivery, the heartbeat and the
config watch run on a separate small pool.  First runs after a start are spread over
``min(interval, START_SPREAD)`` in config order (:func:`crawler.triggers.spread`).

Reload: on SIGHUP, or when the config file or a watchlist changes on disk (polled every
``WATCH_EVERY``), the config is read and checked before anything changes; a broken one is
refused with one line and the running one stays.  Unchanged sources keep their timing.

Stop: the first SIGINT/SIGTERM stops new crawls and delivery, lets running crawls finish
for ``STOP_GRACE``, then terminates their process groups (SIGTERM, then SIGKILL); a second
signal terminates them at once.  Alerts not yet delivered stay queued for the next start.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from crawler.child import STOP_GRACE, crawl_command
from crawler.config import Config, ConfigError, load_config
from crawler.pool import (
    DEFAULT_BATCH,
    CrawlPool,
    PoolExecutor,
    Rounds,
    SourceResult,
    default_batch,
)
from crawler.runstats import RunCounter, RunStats, SaidBetterFilter
from crawler.snapshot import ConfigSnapshots, SnapshotChanged
from crawler.triggers import DEFAULT_EVERY as DEFAULT_EVERY
from crawler.triggers import START_SPREAD as START_SPREAD
from crawler.triggers import (
    check_config,
    default_concurrency,
    files_fingerprint,
    spread,
    timeout_for,
    trigger_for,
)

log = logging.getLogger(__name__)

DELIVER_EVERY = timedelta(seconds=30)
HEARTBEAT_EVERY = timedelta(minutes=5)
WATCH_EVERY = timedelta(seconds=5)
MISFIRE_GRACE = 3600
_SOURCE = "source:"


class Runner:
    """``wirewatch run`` as an object: a scheduler, a crawl pool, a dispatcher and the live
    config.

    ``dispatcher_factory(channels)`` builds an ``alerts.dispatch.Dispatcher`` (rebuilt on
    reload); ``queued()`` counts alerts waiting for delivery; ``now`` is the scheduler's
    wall clock (UTC).  ``scheduler`` defaults to a ``BlockingScheduler``; tests pass a
    ``BackgroundScheduler`` or never start it.  ``command(config_path, names)`` is the
    crawl child's command line (:func:`crawler.child.crawl_command`); ``workdir`` holds the
    config snapshots (default: a private temporary folder).  Nothing runs until
    :meth:`start`.
    """

    def __init__(
        self,
        config: Config,
        *,
        dispatcher_factory: Callable[[Any], Any],
        queued: Callable[[], int],
        concurrency: int,
        batch: int = DEFAULT_BATCH,
        scheduler: BaseScheduler | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        stop_grace: float = STOP_GRACE,
        out: TextIO | None = None,
        command: Callable[[Path, Sequence[str]], list[str]] | None = None,
        notices: Callable[[Config], Any] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.config = config
        self._notices = notices
        self.stats = RunStats()
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self._snapshots = ConfigSnapshots(check_config, workdir)
        self._child = self._snapshots.take(config)
        self.pool = CrawlPool(
            lambda: self._child,
            workers=concurrency,
            batch=batch,
            stopping=self.stopping,
            grace=lambda: self._stop_grace,
            command=command or crawl_command,
            now=now,
        )
        self._dispatcher_factory = dispatcher_factory
        self._dispatcher = dispatcher_factory(config.channels)
        self._queued = queued
        self._now = now
        self._stop_grace = stop_grace
        self._out = out
        self._dispatch_lock = threading.Lock()
        # After a batch: a delivery round on a thread of its own (never a scheduler call:
        # the scheduler's shutdown holds its locks while it waits for the crawls).
        self._deliver_soon = Rounds(self.deliver, "wirewatch-deliver")
        self._reload_lock = threading.Lock()
        self._stop_thread: threading.Thread | None = None
        self._schedules: dict[str, tuple[Any, ...]] = {}
        self._fingerprint = files_fingerprint(config)
        self.scheduler = scheduler or BlockingScheduler()
        self._runs = RunCounter(
            self.stats,
            job=lambda name: self.scheduler.get_job(_SOURCE + name),
            running=self.pool.running.get,
            misfire_grace=MISFIRE_GRACE,
        )
        self.scheduler.configure(
            timezone="UTC",
            executors={
                "default": ThreadPoolExecutor(4),
                "crawl": PoolExecutor(self._submit),
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

    @property
    def child_config(self) -> Path:
        """The config file the next crawl child reads (a snapshot of ``config``)."""
        return self._child.path

    # -- jobs ---------------------------------------------------------------------------

    def crawl(self, name: str) -> None:
        """One run of source ``name``, waited for on the calling thread; scheduled runs
        take the same way (:meth:`_submit`) without holding a thread."""
        over = threading.Event()
        self._submit(SimpleNamespace(args=[name]), over.set)
        over.wait()

    def _submit(self, job: Any, done: Callable[[], None]) -> None:
        """A scheduled run of a source job (:class:`~crawler.pool.PoolExecutor`): queue it
        in the pool; when it is over, record it and call ``done``.  The first member of a
        batch asks for a delivery round."""
        name = job.args[0]

        def finished(result: SourceResult) -> None:
            try:
                if self._runs.record(result):
                    self._deliver_soon.ask()
            finally:
                done()

        try:
            source = self.config.source(name)
        except ConfigError:  # removed by a reload just now
            source = None
        if self.stopping.is_set() or source is None:
            gone = SourceResult(name, abandoned=True, removed=source is None)
            threading.Thread(target=finished, args=(gone,), daemon=True).start()
            return
        self.pool.submit(name, timeout_for(source), finished)

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
            f"alive; {len(self.config.sources)} sources, {len(self.pool.running)} crawling; "
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
                child = self._snapshots.take(fresh)
            except SnapshotChanged:
                self._fingerprint = ()  # edited while read: the next watch reads it again
                return False
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
            self._child = child
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
            self._runs.forget(name)
        added = changed = 0
        now = self._now()
        for i, source in enumerate(config.sources):
            key = (source.every, source.cron)
            if self._schedules.get(source.name) == key:
                continue  # unchanged: keep its timing (a reload does not trigger a run)
            trigger = trigger_for(source)
            self._runs.forget(source.name)
            if source.name in self._schedules:
                self.scheduler.reschedule_job(_SOURCE + source.name, trigger=trigger)
                changed += 1
            else:
                offset = spread(trigger, i, len(config.sources)) if first else timedelta(0)
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
        if event.job_id.startswith(_SOURCE):
            self._runs.on_event(event.job_id[len(_SOURCE) :], event)

    # -- start / stop ---------------------------------------------------------------------

    def request_stop(self, *_: Any) -> None:
        """Signal handler: first call stops gracefully, a second one hurries the crawls."""
        if self.stopping.is_set():
            self._stop_grace = 0.0
            self._say(f"stopping now: terminating {len(self.pool.running)} running crawls")
            return
        self.stopping.set()
        self._dispatcher.stop()
        self._say(
            f"stopping: {len(self.pool.running)} running crawls get {self._stop_grace:.0f} s "
            "to finish (Ctrl-C again to end them now)"
        )
        # shutdown(wait=True) waits for the crawls: never from the signal handler.
        self._stop_thread = threading.Thread(target=self._shutdown, name="wirewatch-stop")
        self._stop_thread.start()

    def _shutdown(self) -> None:
        self.pool.stop()  # the runs still waiting for a batch are not started
        self.scheduler.shutdown()

    def start(self) -> None:
        """Run until stopped (``BlockingScheduler``) and wait for the crawls to end."""
        self._say(
            f"running {len(self.config.sources)} sources, up to {self.concurrency} crawl "
            f"children at once, up to {self.pool.batch} sources each; Ctrl-C to stop"
        )
        try:
            self.scheduler.start()
            if self._stop_thread is not None:
                self._stop_thread.join()
        finally:
            self.close()
        self._say(f"stopped; {self.stats.line()}")

    def close(self) -> None:
        """End the pool's workers, remove the config snapshots, close the dispatcher."""
        self._deliver_soon.close()
        self.pool.close()
        self._snapshots.close()
        with self._dispatch_lock:
            self._dispatcher.close()

    def _say(self, line: str) -> None:
        print(f"wirewatch: {line}", file=self._out or sys.stderr, flush=True)


def run(config: Config, *, concurrency: int | None = None) -> int:
    """Schedule every source and the delivery loop; return 0 after SIGINT/SIGTERM."""
    from sqlalchemy import func, select

    from alerts.dispatch import Dispatcher
    from alerts.ops import deliver_notices
    from crawler.app import App
    from crawler.models import Alert

    app = App.open(config)

    def queued() -> int:
        with app.sessions() as session:
            query = select(func.count()).select_from(Alert).where(Alert.status == "queued")
            return int(session.scalar(query) or 0)

    for name in ("apscheduler.scheduler", "apscheduler.executors.crawl"):
        logging.getLogger(name).addFilter(SaidBetterFilter())
    # A broken schedule or watchlist is reported here, before any crawl.
    runner = Runner(
        config,
        dispatcher_factory=lambda channels: Dispatcher(app.sessions, channels),
        notices=lambda cfg: deliver_notices(app.sessions, cfg),
        queued=queued,
        concurrency=concurrency or default_concurrency(),
        batch=default_batch(),
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
