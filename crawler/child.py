"""One crawl in a child process that can always be ended, with its grandchildren.

``wirewatch run`` starts every crawl as ``python -m crawler -c SNAPSHOT crawl --source NAME
... --no-deliver --parent PID`` (see :mod:`crawler.schedule` for why a process per crawl,
:mod:`crawler.pool` for the batches).  The child gets a session of its own, so a
terminal's Ctrl-C reaches only the scheduler, which then lets the crawl finish or ends it;
ending means SIGTERM to the whole process group (Scrapy then closes its spiders and
pipelines, storing the batch in flight), SIGKILL after a grace.

A scheduler killed with SIGKILL cannot end its children: with ``--parent PID`` the child
asks Linux for SIGKILL when its parent goes (:func:`die_with_parent`), and does not start
at all when the scheduler is already gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE = 30.0  # seconds a running crawl may still take after a stop request
TERM_GRACE = 10.0  # seconds between SIGTERM and SIGKILL of a crawl's process group
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class ChildResult:
    """How a crawl child ended.  ``returncode`` is negative for a signal; ``timed_out`` /
    ``stopped`` say the scheduler killed it (hard timeout / stop grace over)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.stopped


def run_child(
    cmd: list[str],
    *,
    timeout: float,
    stopping: threading.Event,
    grace: Callable[[], float] = lambda: STOP_GRACE,
    term_grace: float = TERM_GRACE,
    clock: Callable[[], float] = time.monotonic,
    poll: float = 0.25,
    cwd: str | Path | None = None,
) -> ChildResult:
    """Run ``cmd`` in a new session and wait for it.

    After ``timeout`` seconds, or ``grace()`` seconds after ``stopping`` is set, the
    child's whole process group gets SIGTERM, then SIGKILL after ``term_grace``; no
    grandchild survives.  ``grace`` is read on every poll so a second Ctrl-C can shorten it.
    """
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C does not reach it directly
    )
    started = clock()
    stop_seen: float | None = None
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=poll)
                return ChildResult(proc.returncode, out, err, clock() - started)
            except subprocess.TimeoutExpired:
                pass
            now = clock()
            if stopping.is_set() and stop_seen is None:
                stop_seen = now
            timed_out = now - started >= timeout
            stopped = stop_seen is not None and now - stop_seen >= grace()
            if timed_out or stopped:
                out, err = _kill_group(proc, term_grace)
                return ChildResult(
                    proc.returncode, out, err, clock() - started, timed_out, not timed_out
                )
    finally:
        if proc.poll() is None:  # an exception in this thread: never leave the child behind
            _kill_group(proc, 0.0)


def _kill_group(proc: subprocess.Popen[str], term_grace: float) -> tuple[str, str]:
    """SIGTERM the process group (Scrapy then closes its spiders and pipelines, so a
    batch in flight is stored), SIGKILL it after ``term_grace``; return the output."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=term_grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    # Grandchildren may outlive a leader that obeyed SIGTERM.
    _signal_group(proc.pid, signal.SIGKILL)
    return out or "", err or ""


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, sig)


def crawl_command(config: Path, names: Sequence[str]) -> list[str]:
    """The child command line for one crawl of the sources ``names`` with the config file
    ``config`` (the scheduler's snapshot), ended with the scheduler (``--parent``)."""
    sources = [arg for name in names for arg in ("--source", name)]
    return [
        sys.executable,
        "-m",
        "crawler",
        "-c",
        str(config),
        "crawl",
        *sources,
        "--no-deliver",
        "--parent",
        str(os.getpid()),
    ]


class ParentGone(Exception):
    """The scheduler that started this crawl is no longer there."""


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Have Linux send ``sig`` to this process when its parent ends (``PR_SET_PDEATHSIG``:
    when the parent *thread* that forked it ends; the scheduler's crawl workers live as
    long as the scheduler), then check that ``parent`` is still the parent: it may have
    died before the request.  SIGKILL, not SIGTERM: nobody is left to wait for a graceful
    close (which waits for the downloads in flight), and nothing is lost: stories and
    their alerts are stored in one transaction, and what was not stored is fetched again
    by the next run.  Raises :class:`ParentGone`; elsewhere than Linux only the check is
    done."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        raise ParentGone(f"the scheduler (pid {parent}) is gone; not crawling")
