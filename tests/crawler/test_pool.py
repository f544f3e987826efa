"""The crawl pool: due runs batched into one child, results split per source.

Most tests drive the pool with a fake ``run`` (no process: it records the batches and
answers like a child would); the timeout test runs a real child that hangs with a
grandchild, and one test runs the real ``wirewatch crawl`` child over a batch with a
broken source, then reads the ``source_runs`` rows it stored.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from crawler.child import ChildResult, crawl_command, run_child
from crawler.pool import ChildConfig, CrawlPool, SourceResult, split_result
from tests.conftest import copy_seeds
from tests.crawler.test_schedule import HANG, _wait_gone


class FakeChildren:
    """Stands in for ``run_child``: records every batch (names, timeout, start and end on
    the monotonic clock), waits for ``gate`` on the first call, takes ``seconds``, and
    prints a summary line for every source but those in ``silent``; exits ``exit``."""

    def __init__(self, seconds: float = 0.0, silent: Sequence[str] = (), exit: int = 0) -> None:
        self.seconds = seconds
        self.silent = set(silent)
        self.exit = exit
        self.gate = threading.Event()
        self.gate.set()
        self.batches: list[tuple[list[str], float, float, float]] = []
        self.lock = threading.Lock()

    def __call__(self, cmd: list[str], *, timeout: float, **_: Any) -> ChildResult:
        names = cmd[1:]
        started = time.monotonic()
        if len(self.batches) == 0:
            self.gate.wait(10)
        time.sleep(self.seconds)
        with self.lock:
            self.batches.append((names, timeout, started, time.monotonic()))
        out = "".join(f"{n}: 1 pages\n" for n in names if n not in self.silent)
        return ChildResult(self.exit, out + "crawl done\n", "boom\n" if self.exit else "", 0.1)


def _pool(
    run: Any, *, workers: int = 1, batch: int = 50, known: Sequence[str] | None = None
) -> tuple[CrawlPool, threading.Event]:
    stopping = threading.Event()
    config = ChildConfig(Path("snapshot.yaml"), frozenset(known or "abcdefghijx"))
    pool = CrawlPool(
        lambda: config,
        workers=workers,
        batch=batch,
        stopping=stopping,
        command=lambda path, names: [str(path), *names],
        run=run,
    )
    return pool, stopping


def _crawl_all(pool: CrawlPool, runs: Sequence[tuple[str, float]]) -> dict[str, SourceResult]:
    """Each run from its own thread, as APScheduler's job threads do; wait for all."""
    results: dict[str, SourceResult] = {}
    lock = threading.Lock()

    def one(name: str, timeout: float) -> None:
        result = pool.crawl(name, timeout)
        with lock:
            results.setdefault(name, result)

    threads = [threading.Thread(target=one, args=run) for run in runs]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # in order: the queue is FIFO
    for thread in threads:
        thread.join(15)
    return results


def _hold(pool: CrawlPool, children: FakeChildren, name: str = "x") -> threading.Thread:
    """Start a run of ``name`` whose child holds the worker until ``children.gate`` opens
    (0.3 s from now): the runs started meanwhile wait, and go into the next child."""
    children.gate.clear()
    thread = threading.Thread(target=pool.crawl, args=(name, 60.0))
    thread.start()
    _until(lambda: name in pool.running)
    threading.Timer(0.3, children.gate.set).start()
    return thread


def _until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_runs_waiting_for_a_worker_go_into_one_child_each_with_its_own_result() -> None:
    children = FakeChildren()
    children.gate.clear()  # the first child holds the one worker until the others wait
    pool, _ = _pool(children)
    results: dict[str, SourceResult] = {}
    first = threading.Thread(target=lambda: results.update(a=pool.crawl("a", 60.0)))
    first.start()
    _until(lambda: "a" in pool.running)
    threading.Timer(0.3, children.gate.set).start()
    results.update(_crawl_all(pool, [("b", 120.0), ("c", 120.0), ("d", 120.0)]))
    first.join(5)
    assert [b[0] for b in children.batches] == [["a"], ["b", "c", "d"]]
    assert children.batches[1][1] == 120.0
    assert results["c"] == SourceResult(
        "c", seconds=0.1, batch=3, summary="c: 1 pages", timeout=120.0
    )
    assert [n for n, r in results.items() if r.leader] == ["a", "b"]  # one per child
    assert all(r.ok for r in results.values())
    assert pool.children == 2 and pool.running == {}


def test_a_batch_holds_only_runs_with_the_same_timeout() -> None:
    children = FakeChildren()
    pool, _ = _pool(children)
    _hold(pool, children, "a")
    _crawl_all(pool, [("b", 60.0), ("c", 900.0), ("d", 60.0), ("e", 900.0)])
    assert [(b[0], b[1]) for b in children.batches] == [
        (["a"], 60.0),
        (["b", "d"], 60.0),  # a hung «b» is still killed after its own minute
        (["c", "e"], 900.0),
    ]


def test_a_batch_holds_at_most_the_cap_oldest_first() -> None:
    children = FakeChildren()
    pool, _ = _pool(children, batch=2)
    _hold(pool, children, "a")
    _crawl_all(pool, [(n, 60.0) for n in "bcde"])
    assert [b[0] for b in children.batches] == [["a"], ["b", "c"], ["d", "e"]]


def test_no_source_is_in_two_batches_at_once() -> None:
    children = FakeChildren(seconds=0.2)
    pool, _ = _pool(children, workers=3, batch=2)
    # "a" is due again and again while its run waits or runs; so is "b".
    runs = [(n, 60.0) for n in "aabacabdab"]
    threads = [threading.Thread(target=pool.crawl, args=run) for run in runs]
    for thread in threads:
        thread.start()
        time.sleep(0.03)
    for thread in threads:
        thread.join(15)
    assert sum(len(b[0]) for b in children.batches) == len(runs)
    for names, *_ in children.batches:
        assert len(names) == len(set(names))  # never twice in one child
    for name in "ab":
        spans = sorted((s, e) for names, _, s, e in children.batches if name in names)
        assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans)), name


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        # exit 0: a source with its line worked, one without failed alone
        (
            ChildResult(0, "a: 3 pages\nb: 0 pages, 1 errors (refused)\ncrawl done\n", "", 2.0),
            [("a", True, ""), ("b", True, ""), ("c", False, "no result for this source")],
        ),
        # the child crashed or could not open the database: every member failed
        (
            ChildResult(2, "", "Traceback\nwirewatch: error: database is locked\n", 1.0),
            [(n, False, "wirewatch: error: database is locked") for n in "abc"],
        ),
        # killed at the batch's timeout: every member timed out, even with its line
        (
            ChildResult(-15, "a: 3 pages\n", "", 60.0, timed_out=True),
            [(n, False, "timed out") for n in "abc"],
        ),
        (
            ChildResult(-15, "", "", 30.0, stopped=True),
            [(n, False, "terminated at shutdown") for n in "abc"],
        ),
    ],
)
def test_split_result(child: ChildResult, expected: list[tuple[str, bool, str]]) -> None:
    results = split_result(["a", "b", "c"], child, 60.0)
    assert [(r.name, r.ok) for r in results] == [(n, ok) for n, ok, _ in expected]
    for result, (_, _, error) in zip(results, expected, strict=True):
        assert result.error.startswith(error)
        assert result.timed_out == child.timed_out and result.stopped == child.stopped
        assert result.batch == 3 and result.timeout == 60.0
    assert [r.leader for r in results] == [True, False, False]


def test_a_source_that_fails_in_a_batch_does_not_fail_the_others() -> None:
    children = FakeChildren(silent=["b"])
    pool, _ = _pool(children)
    _hold(pool, children)
    results = _crawl_all(pool, [("a", 60.0), ("b", 60.0), ("c", 60.0)])
    assert children.batches[1][0] == ["a", "b", "c"]
    assert {n: r.ok for n, r in results.items()} == {"a": True, "b": False, "c": True}
    assert results["b"].error == "no result for this source in the crawl's output"


def test_a_crashed_child_fails_every_member_and_says_why() -> None:
    pool, _ = _pool(FakeChildren(exit=2))
    result = pool.crawl("a", 60.0)
    assert not result.ok and result.returncode == 2 and result.error == "boom"


def test_a_child_that_cannot_start_fails_its_members_and_the_pool_goes_on() -> None:
    calls = []

    def run(cmd: list[str], **_: Any) -> ChildResult:
        calls.append(cmd)
        if len(calls) == 1:
            raise OSError(11, "Resource temporarily unavailable")
        return ChildResult(0, "b: 1 pages\n", "", 0.1)

    pool, _ = _pool(run)
    failed = pool.crawl("a", 60.0)
    assert not failed.ok and "Resource temporarily unavailable" in failed.error
    assert pool.crawl("b", 60.0).ok
    assert pool.running == {}


def test_stop_abandons_the_runs_still_waiting() -> None:
    children = FakeChildren()
    children.gate.clear()
    pool, stopping = _pool(children)
    results: dict[str, SourceResult] = {}
    threads = [
        threading.Thread(target=lambda n=n: results.update({n: pool.crawl(n, 60.0)})) for n in "abc"
    ]
    threads[0].start()
    _until(lambda: "a" in pool.running)
    threads[1].start()
    threads[2].start()
    _until(lambda: pool.waiting == 2)
    stopping.set()
    pool.stop()
    children.gate.set()
    for thread in threads:
        thread.join(5)
    assert results["a"].ok and not results["a"].abandoned
    assert results["b"].abandoned and results["c"].abandoned
    assert pool.crawl("d", 60.0).abandoned  # nothing starts after the stop
    assert [b[0] for b in children.batches] == [["a"]]


def test_a_source_removed_while_it_waited_is_not_crawled() -> None:
    children = FakeChildren()
    pool, _ = _pool(children, known=["a"])
    removed = pool.crawl("gone", 60.0)
    assert removed.abandoned and removed.removed
    assert pool.crawl("a", 60.0).ok
    assert [b[0] for b in children.batches] == [["a"]]


def test_a_batch_killed_at_its_timeout_times_out_every_member() -> None:
    holder = FakeChildren()  # the first child holds the worker while a, b and c queue
    holder.gate.clear()
    killed: list[tuple[float, ChildResult]] = []

    def run(cmd: list[str], *, timeout: float, **kwargs: Any) -> ChildResult:
        if not holder.batches:
            return holder(cmd, timeout=timeout)
        result = run_child(HANG, timeout=timeout, term_grace=2.0, **kwargs)
        killed.append((timeout, result))
        return result

    pool, _ = _pool(run)
    first = threading.Thread(target=pool.crawl, args=("x", 60.0))
    first.start()
    _until(lambda: "x" in pool.running)
    threading.Timer(0.3, holder.gate.set).start()
    started = time.monotonic()
    results = _crawl_all(pool, [("a", 1.0), ("b", 1.0), ("c", 1.0)])
    first.join(5)
    assert [t for t, _ in killed] == [1.0]  # one child, killed at the members' timeout
    assert 1.0 <= time.monotonic() - started < 8.0
    for name in "abc":
        result = results[name]
        assert result.timed_out and not result.ok and result.batch == 3
        assert result.returncode == -signal.SIGTERM and result.timeout == 1.0
    grandchild = int(killed[0][1].stdout.split()[0])
    assert _wait_gone(grandchild)  # the whole process group went
    assert pool.running == {}


def test_a_real_batch_records_each_source_and_a_broken_one_fails_alone(tmp_path: Path) -> None:
    copy_seeds(tmp_path)
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        "database: sqlite:///w.db\nsources:\n"
        "  - {name: one, type: files, path: seeds/*.txt}\n"
        "  - {name: broken, type: files, path: nowhere/*.txt}\n"
        "  - {name: two, type: files, path: seeds/*.txt}\n"
        "  - {name: refused, type: feed, url: 'http://127.0.0.1:9/feed.xml'}\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    commands: list[list[str]] = []

    def command(path: Path, names: Sequence[str]) -> list[str]:
        commands.append(crawl_command(path, names))
        return commands[-1]

    stopping = threading.Event()
    child = ChildConfig(config, frozenset(["one", "broken", "two", "refused"]))
    pool = CrawlPool(lambda: child, workers=1, stopping=stopping, command=command)
    gate = threading.Event()
    original = pool._run

    def run(cmd: list[str], **kwargs: Any) -> ChildResult:
        gate.wait(30)
        return original(cmd, **kwargs)

    pool._run = run
    results: dict[str, SourceResult] = {}
    threads = [
        threading.Thread(target=lambda n=n: results.update({n: pool.crawl(n, 120.0)}))
        for n in ("one", "broken", "two", "refused")
    ]
    for thread in threads:
        thread.start()
    _until(lambda: len(pool.running) + pool.waiting == 4)
    gate.set()
    for thread in threads:
        thread.join(60)
    assert sum(c.count("--source") for c in commands) == 4
    assert len(commands) <= 2  # the ones that waited went into one child
    assert all(r.ok for r in results.values()), results  # the child reported each
    # its own summary (how many of its pages were new depends on whether "two" ran first)
    assert results["one"].summary.startswith("one: 2 pages,")
    with sqlite3.connect(tmp_path / "w.db") as db:
        rows = dict(db.execute("SELECT source, outcome FROM source_runs").fetchall())
        errors = dict(db.execute("SELECT source, error FROM source_runs").fetchall())
    assert rows == {"one": "ok", "two": "ok", "broken": "failed", "refused": "failed"}
    assert errors["broken"] == "no file matches the path"
    assert errors["refused"].startswith("no answer")
