"""The dispatcher: claim → send → record, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatch import Backoff, Dispatcher
from alerts.render import AlertView
from alerts.result import DeliveryResult
from crawler.config import ConsoleChannel
from crawler.db import transaction
from crawler.models import Alert, DeliveryAttempt
from tests.alerts.conftest import TITLE, Clock, add_story

CONSOLE = ConsoleChannel(type="console")


class Recording:
    """A sender that records what it was asked to send and answers from a script."""

    kind = "test"

    def __init__(self, results: list[DeliveryResult] | None = None, pause: float = 0.0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.results = list(results or [])
        self.pause = pause
        self.lock = threading.Lock()

    def send(self, key: str, view: AlertView) -> DeliveryResult:
        if self.pause:
            threading.Event().wait(self.pause)
        with self.lock:
            self.sent.append((key, view.url))
            return self.results.pop(0) if self.results else DeliveryResult.delivered()

    def close(self) -> None:
        pass


def alert_rows(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def test_console_line_per_alert_and_nothing_twice(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    add_story(sessions, title="عاجل:\nكوريا الشمالية ترسل قوات", channels=("terminal",))
    add_story(sessions, url="https://b.example/2", cluster="c2", channels=("terminal",))
    out = io.StringIO()
    with Dispatcher(sessions, {"terminal": CONSOLE}, now=clock, console=out) as dispatcher:
        first = dispatcher.deliver_due()
        second = dispatcher.deliver_due()
    assert (first.delivered, second.attempted, second.skipped) == (2, 0, 0)
    assert first.stats == {"alerts/console/delivered": 2}
    assert out.getvalue().splitlines() == [
        "[north-korea-russia-troops] عاجل: كوريا الشمالية ترسل قوات — https://news.example/a/1",
        f"[north-korea-russia-troops] {TITLE} — https://b.example/2",
    ]
    # a fresh dispatcher (a restart) sends nothing either
    with Dispatcher(sessions, {"terminal": CONSOLE}, now=clock, console=out) as again:
        assert again.deliver_due().attempted == 0
    assert len(out.getvalue().splitlines()) == 2


def test_console_defaults_to_stdout(
    sessions: sessionmaker[Session], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    add_story(sessions, channels=("terminal",))
    with Dispatcher(sessions, {"terminal": CONSOLE}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().delivered == 1
    assert capsys.readouterr().out == (
        f"[north-korea-russia-troops] {TITLE} — https://news.example/a/1\n"
    )


def test_a_dead_channel_does_not_hold_up_the_others(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    for n in range(3):
        add_story(
            sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("slow", "fast")
        )
    fast_done = threading.Event()
    fast = Recording()

    class Slow(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            # Blocks until the fast channel has sent all three (or gives up after 3 s).
            progressed = fast_done.wait(3.0)
            self.sent.append((key, view.url))
            return DeliveryResult.delivered() if progressed else DeliveryResult(False, True)

    class Fast(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            result = super().send(key, view)
            if len(self.sent) == 3:
                fast_done.set()
            return result

    fast = Fast()
    slow = Slow()
    channels = {"slow": CONSOLE, "fast": CONSOLE}
    with Dispatcher(
        sessions, channels, now=clock, senders={"slow": slow, "fast": fast}
    ) as dispatcher:
        summary = dispatcher.deliver_due()
    assert fast_done.is_set()
    assert summary.delivered == 6
    assert summary.stats == {"alerts/test/delivered": 6}


def test_expired_lease_is_resent_with_the_same_key(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    add_story(sessions, channels=("x",))
    # Another worker claimed the row and died before recording anything.
    with transaction(sessions) as s:
        row = s.scalars(select(Alert)).one()
        row.lease_until = clock() + timedelta(minutes=5)
    sender = Recording()
    with Dispatcher(sessions, {"x": CONSOLE}, now=clock, senders={"x": sender}) as dispatcher:
        assert dispatcher.deliver_due().attempted == 0
        clock.advance(minutes=4)
        assert dispatcher.deliver_due().attempted == 0
        clock.advance(minutes=1, seconds=1)
        assert dispatcher.deliver_due().delivered == 1
    assert [key for key, _ in sender.sent] == [row.key]


def test_backoff_grows_with_jitter_and_caps(sessions: sessionmaker[Session], clock: Clock) -> None:
    add_story(sessions, channels=("x",))
    failing = Recording([DeliveryResult(False, True, detail="down")] * 12)
    rng = iter([1.0, 0.0] * 6)
    delays: list[float] = []
    with Dispatcher(
        sessions, {"x": CONSOLE}, now=clock, senders={"x": failing}, rng=lambda: next(rng)
    ) as dispatcher:
        for _ in range(10):
            assert dispatcher.deliver_due().retrying == 1
            (row,) = alert_rows(sessions)
            delays.append((row.next_attempt_at - clock()).total_seconds())
            clock.now = row.next_attempt_at
    assert delays[:4] == [30.0, 30.0, 120.0, 120.0]  # equal jitter: [d/2, d]
    assert max(delays) <= 3600.0
    assert delays[-1] == 1800.0 and delays[-2] == 3600.0
    (row,) = alert_rows(sessions)
    assert row.attempts == 10 and row.status == "queued"


def test_backoff_table() -> None:
    backoff = Backoff()
    assert backoff.delay(1, None, lambda: 1.0) == timedelta(seconds=30)
    assert backoff.delay(2, None, lambda: 1.0) == timedelta(seconds=60)
    assert backoff.delay(20, None, lambda: 1.0) == timedelta(hours=1)
    assert backoff.delay(3, 5.0, lambda: 1.0) == timedelta(seconds=5)
    assert backoff.delay(3, 10**9, lambda: 1.0) == timedelta(hours=24)


def test_worker_stops_before_its_lease_runs_out(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    for n in range(3):
        add_story(sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("x",))

    class Slow(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            clock.advance(seconds=150)  # each send "takes" 2.5 minutes
            return super().send(key, view)

    sender = Slow()
    with Dispatcher(
        sessions, {"x": CONSOLE}, now=clock, senders={"x": sender}, lease=timedelta(minutes=5)
    ) as dispatcher:
        summary = dispatcher.deliver_due()
        assert (summary.delivered, summary.skipped) == (2, 1)
        assert summary.stats["alerts/skipped/lease_expiring"] == 1
        assert dispatcher.deliver_due().delivered == 1
    assert len(sender.sent) == 3


def test_unknown_channel_rows_stay_queued(sessions: sessionmaker[Session], clock: Clock) -> None:
    add_story(sessions, channels=("gone-from-config",))
    with Dispatcher(sessions, {"terminal": CONSOLE}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert (summary.attempted, summary.skipped) == (0, 1)
    assert summary.stats == {"alerts/skipped/unknown_channel": 1}
    (row,) = alert_rows(sessions)
    assert row.status == "queued" and row.lease_until is None


def test_a_sender_bug_is_recorded_as_retryable(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    add_story(sessions, channels=("x",))

    class Broken(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            raise RuntimeError("bug")

    with Dispatcher(sessions, {"x": CONSOLE}, now=clock, senders={"x": Broken()}) as dispatcher:
        summary = dispatcher.deliver_due()
    assert summary.retrying == 1
    assert summary.stats == {"alerts/test/retry/unknown": 1}
    (row,) = alert_rows(sessions)
    assert row.last_error == "unknown: RuntimeError: bug"


def check_concurrent_dispatchers_send_each_alert_once(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    for n in range(6):
        add_story(sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("x", "y"))
    sender = Recording(pause=0.02)
    workers = [
        Dispatcher(
            sessions, {"x": CONSOLE, "y": CONSOLE}, now=clock, senders={"x": sender, "y": sender}
        )
        for _ in range(3)
    ]
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda d=d: results.append(d.deliver_due())) for d in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(r.delivered for r in results) == 12
    assert len(sender.sent) == 12 and len(set(sender.sent)) == 12
    with sessions() as s:
        assert len(s.scalars(select(DeliveryAttempt)).all()) == 12
    assert {r.status for r in alert_rows(sessions)} == {"delivered"}


def test_concurrent_dispatchers(sessions: sessionmaker[Session], clock: Clock) -> None:
    check_concurrent_dispatchers_send_each_alert_once(sessions, clock)


def test_stop_finishes_the_alert_in_flight_and_gives_back_the_rest(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    for n in range(3):
        add_story(sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("x",))
    holder: list[Dispatcher] = []

    class StopAfterFirst(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            holder[0].stop()  # as a SIGTERM handler would, mid-batch
            return super().send(key, view)

    sender = StopAfterFirst()
    dispatcher = Dispatcher(sessions, {"x": CONSOLE}, now=clock, senders={"x": sender})
    holder.append(dispatcher)
    summary = dispatcher.deliver_due()
    assert (summary.delivered, summary.skipped) == (1, 2)
    assert summary.stats["alerts/skipped/stopping"] == 2
    assert dispatcher.deliver_due().attempted == 0
    rows = alert_rows(sessions)
    assert [r.status for r in rows] == ["delivered", "queued", "queued"]
    assert all(r.lease_until is None for r in rows)


def test_interrupt_releases_what_was_not_started(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    for n in range(3):
        add_story(sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("x",))

    class Interrupted(Recording):
        def send(self, key: str, view: AlertView) -> DeliveryResult:
            raise KeyboardInterrupt

    dispatcher = Dispatcher(sessions, {"x": CONSOLE}, now=clock, senders={"x": Interrupted()})
    with pytest.raises(KeyboardInterrupt):
        dispatcher.deliver_due()
    rows = alert_rows(sessions)
    # the one in flight keeps its lease (it may have gone out); the others are free now
    assert [r.lease_until is None for r in rows] == [False, True, True]
    assert {r.status for r in rows} == {"queued"} and {r.attempts for r in rows} == {0}
