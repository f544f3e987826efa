"""The crawl pool of ``wirewatch run``: due sources batched into crawl children.

A crawl child costs about two seconds of CPU before it fetches anything (Python, Scrapy,
the config, the watchlist compile, the dedupe index rebuild) and some 30 ms per source
after that.  So the runs that wait for a free worker are collected, and the next free
worker starts ONE child for all of them, oldest first, up to ``batch`` sources
(``WIREWATCH_BATCH``, default :data:`DEFAULT_BATCH`)::

    python -m crawler -c SNAPSHOT crawl --source A --source B ... --no-deliver --parent PID

A crowd of due sources then costs one start-up per batch instead of one per source, and
the longer the queue, the cheaper each run in it.  A worker that is free when a run comes
due starts it at once, alone: batching never delays a run.

Per source nothing changes.  Each source stays one APScheduler job whose run lasts until
its crawl is over: :class:`PoolExecutor` queues the run here and tells APScheduler when it
ended, so ``max_instances=1``, skip warnings and coalescing work as before, and a waiting
run holds no thread (the scheduler's memory stays flat however many wait).  The pool
also never puts a source into a batch while it is in another one.  The child crawls each
source with its own Scrapy crawler (one failing source does not stop the others), stores
one ``source_runs`` row per source and prints one summary line per source, which
:func:`split_result` hands to each member as its :class:`SourceResult`.  A child that
exits non-zero (it crashed, or could not open the database) fails every member; one that
exits 0 without a member's line fails that member only.  The members of a batch share
one ``timeout`` (runs with another one wait for another batch), so every source keeps its
own hard timeout; a batch killed at it (or at the stop grace) counts every member as timed
out (or stopped).

Workers are threads that each wait for one child at a time; they live as long as the pool,
which matters for :func:`crawler.child.die_with_parent`: Linux sends a child's death
signal when the *thread* that forked it ends.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from apscheduler.executors.base import BaseExecutor

from crawler.child import STOP_GRACE, ChildResult, crawl_command, run_child
from crawler.config import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BATCH = 50  # ~2 s start-up + 50 × ~30 ms: half the cost is still the start-up


@dataclass(frozen=True)
class ChildConfig:
    """The config file the crawl children read (a snapshot of the accepted config) and
    the source names it has."""

    path: Path
    sources: frozenset[str]


@dataclass(frozen=True)
class SourceResult:
    """How one source's crawl ended, as a member of a batch of ``batch`` sources.

    ``summary`` is the child's line for the source; ``error`` says why it failed;
    ``timed_out`` / ``stopped``: the scheduler killed the batch (hard timeout / stop grace
    over); ``abandoned``: it never started (stop, or the source was removed by a reload
    while it waited); ``leader``: the first member of its batch (one delivery round per
    batch); ``timeout``: the batch's hard timeout."""

    name: str
    returncode: int = 0
    seconds: float = 0.0
    batch: int = 1
    summary: str = ""
    error: str = ""
    timed_out: bool = False
    stopped: bool = False
    abandoned: bool = False
    removed: bool = False
    leader: bool = False
    timeout: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0
            and not self.error
            and not (self.timed_out or self.stopped or self.abandoned)
        )


def split_result(names: Sequence[str], result: ChildResult, timeout: float) -> list[SourceResult]:
    """One :class:`SourceResult` per member of a batch, from how its child ended.

    The child prints ``NAME: ...`` for every source it crawled (``wirewatch crawl``), in the
    order given; a member whose line is missing from a child that exited 0 failed."""
    lines = result.stdout.splitlines()
    last_err = (result.stderr.strip().splitlines() or ["no output"])[-1]
    out = []
    for i, name in enumerate(names):
        summary = next((ln for ln in lines if ln.startswith(f"{name}: ")), "")
        if result.timed_out or result.stopped:
            error = "timed out" if result.timed_out else "terminated at shutdown"
        elif result.returncode != 0:
            error = last_err
        elif not summary:
            error = "no result for this source in the crawl's output"
        else:
            error = ""
        out.append(
            SourceResult(
                name=name,
                returncode=result.returncode,
                seconds=result.seconds,
                batch=len(names),
                summary=summary,
                error=error,
                timed_out=result.timed_out,
                stopped=result.stopped,
                leader=i == 0,
                timeout=timeout,
            )
        )
    return out


@dataclass
class _Ticket:
    """One run of one source waiting for, or in, a batch; ``done(result)`` is called once
    when it is over."""

    name: str
    timeout: float
    done: Callable[[SourceResult], None]
    resolved: bool = False

    def resolve(self, result: SourceResult) -> None:
        if self.resolved:
            return
        self.resolved = True
        try:
            self.done(result)
        except Exception:  # a bookkeeping bug must not kill the worker
            log.exception("source %s: recording its run failed", self.name)


class CrawlPool:
    """``workers`` threads, each running one crawl child at a time for a batch of runs.

    ``child_config()`` is the config snapshot the next child reads (and the sources it
    knows); ``command(path, names)`` builds its command line; ``run`` runs it
    (:func:`crawler.child.run_child`).  ``stopping`` and ``grace()`` are the scheduler's:
    after a stop no batch starts and waiting runs are abandoned.
    """

    def __init__(
        self,
        child_config: Callable[[], ChildConfig],
        *,
        workers: int,
        batch: int = DEFAULT_BATCH,
        stopping: threading.Event,
        grace: Callable[[], float] = lambda: STOP_GRACE,
        command: Callable[[Path, Sequence[str]], list[str]] = crawl_command,
        run: Callable[..., ChildResult] = run_child,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.workers = workers
        self.batch = max(1, batch)
        self.stopping = stopping
        self.children = 0  # batches started
        self.running: dict[str, datetime] = {}  # source → when its batch started
        self._child_config = child_config
        self._grace = grace
        self._command = command
        self._run = run
        self._now = now
        self._queue: deque[_Ticket] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def crawl(self, name: str, timeout: float) -> SourceResult:
        """Queue one run of source ``name`` and wait until its batch is over."""
        over = threading.Event()
        results: list[SourceResult] = []

        def done(result: SourceResult) -> None:
            results.append(result)
            over.set()

        self.submit(name, timeout, done)
        over.wait()
        return results[0]

    def submit(self, name: str, timeout: float, done: Callable[[SourceResult], None]) -> None:
        """Queue one run of source ``name``; ``done(result)`` is called when it is over, on
        the worker thread (at once when the pool is stopping or closed)."""
        ticket = _Ticket(name, timeout, done)
        with self._cond:
            if self.stopping.is_set() or self._closed:
                queued = False
            else:
                queued = True
                self._queue.append(ticket)
            if len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"wirewatch-crawl-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        if not queued:
            ticket.resolve(SourceResult(name, abandoned=True))

    @property
    def waiting(self) -> int:
        """Runs queued for a batch."""
        return len(self._queue)

    def stop(self) -> None:
        """Abandon the waiting runs (the stop); running batches end as ``run`` decides."""
        with self._cond:
            abandoned = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        for ticket in abandoned:
            ticket.resolve(SourceResult(ticket.name, abandoned=True))

    def close(self) -> None:
        """Let the workers end once the queue is empty (after :meth:`stop`: at once)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- the workers -------------------------------------------------------------------

    def _take(self) -> list[_Ticket]:
        """Up to ``batch`` waiting runs, oldest first, of distinct sources not running,
        all with the oldest one's timeout."""
        taken: list[_Ticket] = []
        names: set[str] = set()
        for ticket in list(self._queue):
            if len(taken) >= self.batch:
                break
            if ticket.name in self.running or ticket.name in names:
                continue  # never one source in two batches, nor twice in one
            if taken and ticket.timeout != taken[0].timeout:
                continue  # every source keeps its own hard timeout
            self._queue.remove(ticket)
            taken.append(ticket)
            names.add(ticket.name)
        return taken

    def _work(self) -> None:
        while True:
            dropped: list[tuple[_Ticket, SourceResult]] = []
            with self._cond:
                tickets = self._take()
                while not tickets:
                    if self._closed and not self._queue:
                        return
                    self._cond.wait(timeout=1.0)
                    tickets = self._take()
                config = self._child_config()
                for ticket in tickets:
                    if self.stopping.is_set():
                        dropped.append((ticket, SourceResult(ticket.name, abandoned=True)))
                    elif ticket.name not in config.sources:  # removed by a reload meanwhile
                        removed = SourceResult(ticket.name, abandoned=True, removed=True)
                        dropped.append((ticket, removed))
                tickets = [t for t in tickets if all(t is not d for d, _ in dropped)]
                started = self._now()
                for ticket in tickets:
                    self.running[ticket.name] = started
                if tickets:
                    self.children += 1
            for ticket, result in dropped:
                ticket.resolve(result)
            if tickets:
                self._run_batch(config, tickets)

    def _run_batch(self, config: ChildConfig, tickets: list[_Ticket]) -> None:
        names = [t.name for t in tickets]
        timeout = max(t.timeout for t in tickets)
        for name in names:
            log.info("source %s: crawl started (in a batch of %d)", name, len(names))
        result = ChildResult(-1, "", "the crawl worker failed", 0.0)
        try:
            result = self._run(
                self._command(config.path, names),
                timeout=timeout,
                stopping=self.stopping,
                grace=self._grace,
            )
        except Exception as exc:  # fork failed (EAGAIN, ENOMEM), ...: these runs failed
            result = ChildResult(-1, "", f"could not run the crawl: {exc!r}", 0.0)
        finally:  # whatever happened, every member learns how its run ended
            with self._cond:
                for name in names:
                    self.running.pop(name, None)
                self._cond.notify_all()  # runs of these sources may wait behind them
            for ticket, member in zip(tickets, split_result(names, result, timeout), strict=True):
                ticket.resolve(member)


class Rounds:
    """Runs ``func`` on a thread of its own whenever :meth:`ask` is called; asks that
    come while a round runs are folded into one more round.  The thread starts on the
    first ask and ends at :meth:`close`."""

    def __init__(self, func: Callable[[], None], name: str) -> None:
        self._func = func
        self._name = name
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ask(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._wanted.set()

    def close(self) -> None:
        self._closed.set()

    def _loop(self) -> None:
        while not self._closed.is_set():
            if self._wanted.wait(1.0) and not self._closed.is_set():
                self._wanted.clear()
                try:
                    self._func()
                except Exception:  # the next round tries again
                    log.exception("%s: round failed", self._name)


class PoolExecutor(BaseExecutor):  # type: ignore[misc]
    """The APScheduler executor of the source jobs: hands each run to ``submit(job, done)``
    (which queues it in a :class:`CrawlPool`) instead of running the job function on a
    thread of its own, so a run waiting for a batch holds no thread: a crowd of waiting
    runs costs no memory to speak of, and the scheduler's RSS stays flat.

    ``done()`` must be called once per run when it is over (never from within ``submit``):
    until then the run counts for ``max_instances``.  :meth:`shutdown` waits for them.
    APScheduler's misfire check at execution time is not made: the scheduler's own check
    at submission (``misfire_grace_time``) stands.
    """

    def __init__(self, submit: Callable[[Any, Callable[[], None]], None]) -> None:
        super().__init__()
        self._submit = submit
        self._pending = 0
        self._idle = threading.Condition()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        with self._idle:
            self._pending += 1

        def done() -> None:
            self._run_job_success(job.id, [])
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

        try:
            self._submit(job, done)
        except Exception:  # not queued: APScheduler logs it and does not count the run
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            raise

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            with self._idle:
                while self._pending:
                    self._idle.wait()


def default_batch() -> int:
    """``WIREWATCH_BATCH`` if set (1 turns batching off: one child per run), else
    :data:`DEFAULT_BATCH`."""
    value = os.environ.get("WIREWATCH_BATCH", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError("WIREWATCH_BATCH", None, f"{value!r} is not a positive number")
        return int(value)
    return DEFAULT_BATCH
