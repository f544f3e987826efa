"""What ``wirewatch run`` did with the source jobs: counters, kept from APScheduler's
events, and the warnings it says better than APScheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobSubmissionEvent,
)

from crawler.pool import SourceResult

log = logging.getLogger("crawler.schedule")  # the scheduler's warnings, under its name


@dataclass
class RunStats:
    """What the scheduler did with the source jobs (thread-safe).

    ``due`` counts scheduled run times; of them ``skipped`` were dropped because the
    previous run was still going (or queued), ``missed`` came later than the misfire
    grace, ``coalesced`` were folded into one catch-up run.  ``done`` counts finished runs,
    of which ``failed`` failed (their batch's child exited non-zero, or gave no result
    for them), ``timed_out`` hit the hard timeout and ``stopped`` were terminated at
    shutdown; ``abandoned`` were queued when the stop came.  ``children`` counts the crawl
    children that ran them (one per batch).
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
    children: int = 0
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
                f"{self.abandoned} not started before the stop; "
                f"{self.children} crawl children"
            )


class SaidBetterFilter(logging.Filter):
    """Drops APScheduler's own skip/miss warnings: :class:`~crawler.schedule.Runner` logs
    each one with the source name, when the previous run started and what happens next."""

    _PREFIXES = ('Execution of job "%s" skipped', 'Run time of job "%s" was missed')

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._PREFIXES)


class RunCounter:
    """Counts the runs of the source jobs into ``stats`` from APScheduler's events, and
    logs each skip, miss and catch-up run with the source name.  ``job(name)`` is the
    source's job (for its trigger), ``running(name)`` when its current crawl started
    (``None``: waiting for a worker)."""

    def __init__(
        self,
        stats: RunStats,
        *,
        job: Callable[[str], Any],
        running: Callable[[str], datetime | None],
        misfire_grace: int,
    ) -> None:
        self.stats = stats
        self._job = job
        self._running = running
        self._misfire_grace = misfire_grace
        self._last_due: dict[str, datetime] = {}  # source → its latest scheduled run time

    def record(self, result: SourceResult) -> bool:
        """Count one finished (or abandoned) run and say how it went, in one line; return
        whether it led its batch (then a delivery round is due)."""
        name = result.name
        if result.abandoned:  # a removed source is not counted at all
            self.stats.add(abandoned=int(not result.removed))
            return False
        self.stats.add(started=1)
        self.stats.add(
            done=1,
            failed=int(not result.ok),
            timed_out=int(result.timed_out),
            stopped=int(result.stopped),
            children=int(result.leader),
        )
        batch = f" in a batch of {result.batch}" if result.batch > 1 else ""
        if result.timed_out:
            log.warning(
                "source %s: crawl killed at its %.0f s timeout%s (set `timeout:` to allow more)",
                name,
                result.timeout,
                batch,
            )
        elif result.stopped:
            log.warning(
                "source %s: crawl terminated at shutdown after %.0f s%s",
                name,
                result.seconds,
                batch,
            )
        elif not result.ok:
            log.error(
                "source %s: crawl failed (exit %d%s): %s",
                name,
                result.returncode,
                batch,
                result.error,
            )
        else:
            log.info("%s (%.1f s%s)", result.summary, result.seconds, batch)
        return result.leader

    def forget(self, name: str) -> None:
        """``name`` was removed or rescheduled: its next run folds nothing."""
        self._last_due.pop(name, None)

    def on_event(self, name: str, event: JobEvent) -> None:
        """Count one submission (or skip, or miss) of source ``name``'s job."""
        if event.code == EVENT_JOB_MISSED:
            self.stats.add(due=1, missed=1)
            log.warning(
                "source %s: run due at %s missed by more than %d s; waiting for the next one",
                name,
                _hms(event.scheduled_run_time),
                self._misfire_grace,
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
            since = self._running(name)
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
        job = self._job(name)
        if last is None or job is None:
            return 0, None
        first = when = job.trigger.get_next_fire_time(last, last)
        count = 0
        while when is not None and when < due and count < 1_000_000:
            count += 1
            when = job.trigger.get_next_fire_time(when, when)
        return count, first


def _hms(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%H:%M:%S") if when else "?"
