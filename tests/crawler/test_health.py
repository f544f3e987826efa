"""Source health: the rules as tables, reading Scrapy stats, and the database side
(``record_runs`` + ops notices + their delivery) on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.ops import deliver_notices, notice_title
from alerts.render import AlertView
from alerts.result import DeliveryResult, FailureReason
from crawler.config import ConfigError, load_config
from crawler.health import (
    HealthPolicy,
    SourceRun,
    assess,
    broken_reason,
    one_line_error,
    run_from_report,
    transition,
)
from crawler.health_record import record_runs
from crawler.models import OpsNotice
from crawler.models import SourceRun as SourceRunRow
from crawler.runner import SourceReport

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
POLICY = HealthPolicy(failures=3, empty_after=3)


def runs(spec: str, source: str = "wire") -> list[SourceRun]:
    """``"ookxx"``: o = ok with items, 0 = ok with no item, x = failed; oldest first."""
    out = []
    for i, c in enumerate(spec):
        at = T0 + timedelta(minutes=15 * i)
        out.append(
            SourceRun(
                source=source,
                started_at=at,
                finished_at=at + timedelta(seconds=5),
                outcome="failed" if c == "x" else "ok",
                items_found=5 if c == "o" else 0,
                error="HTTP 404" if c == "x" else None,
            )
        )
    return out


# --- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "broken"),
    [
        ("", False),
        ("x", False),
        ("xx", False),
        ("xxx", True),  # N failures in a row
        ("oooxxx", True),
        ("xxoxx", False),  # not in a row
        ("xxxxx", True),
        ("ooo0", True),  # suddenly nothing after K runs with items
        ("oo0", False),  # not enough history to call it sudden
        ("oxo0", False),  # one of the K runs before failed
        ("o0o0", False),
        ("oooo0", True),
        ("ooo00", False),  # the second empty run is not sudden any more
        ("ooo", False),
        ("000", False),  # a quiet source is not broken
    ],
)
def test_broken_reason(spec: str, broken: bool) -> None:
    assert (broken_reason(runs(spec), POLICY) is not None) is broken


def test_reasons_say_why() -> None:
    assert broken_reason(runs("xxx"), POLICY) == "HTTP 404 (3 failed runs in a row)"
    assert broken_reason(runs("ooo0"), POLICY) == (
        "no items found (the 3 runs before found 5, 5, 5)"
    )
    assert broken_reason(runs("x"), HealthPolicy(failures=1)) is not None
    assert broken_reason(runs("o0"), HealthPolicy(empty_after=1)) is not None


@pytest.mark.parametrize(
    ("spec", "was_broken", "expected"),
    [
        ("xxx", False, "broken"),
        ("xxxx", True, None),  # still broken: said once
        ("xxxo", True, "recovered"),  # the first healthy run
        ("xxx0", True, None),  # answers again but finds nothing: not yet recovered
        ("xxxoo", False, None),  # recovered already
        ("ooo0", False, "broken"),
        ("ooo00", True, None),
        ("ooo0o", True, "recovered"),
        ("o", False, None),
        ("", True, None),
    ],
)
def test_transition(spec: str, was_broken: bool, expected: str | None) -> None:
    change = transition(runs(spec), was_broken, POLICY)
    assert (change.kind if change else None) == expected


def test_one_notice_per_transition_over_a_whole_history() -> None:
    """Replay runs one by one, as the crawls would: broken once, recovered once, again."""
    history = runs("ooxxxxxxoooo0000oxxxo")
    broken = False
    kinds = []
    for i in range(1, len(history) + 1):
        change = transition(history[:i], broken, POLICY)
        if change:
            kinds.append(change.kind)
            broken = change.kind == "broken"
    assert kinds == ["broken", "recovered", "broken", "recovered", "broken", "recovered"]


@pytest.mark.parametrize(
    ("spec", "was_broken", "state", "failures"),
    [
        ("", False, "unknown", 0),
        ("o", False, "ok", 0),
        ("ox", False, "failing", 1),
        ("oxx", False, "failing", 2),
        ("xxx", True, "broken", 3),
        ("o0", False, "empty", 0),
    ],
)
def test_assess(spec: str, was_broken: bool, state: str, failures: int) -> None:
    health = assess(runs(spec), was_broken)
    assert (health.state, health.consecutive_failures) == (state, failures)


# --- reading a crawl's stats -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "error", "outcome", "reason"),
    [
        (
            {
                "response_received_count": 6,
                "robotstxt/response_count": 1,
                "feed/items": 4,
                "extract/stories": 4,
                "store/stored": 3,
            },
            None,
            "ok",
            None,
        ),
        # The feed answers 404 (and so does robots.txt, which does not count).
        (
            {
                "response_received_count": 2,
                "robotstxt/response_count": 1,
                "robotstxt/response_status_count/404": 1,
                "downloader/response_status_count/404": 2,
                "fetch/failed": 1,
            },
            None,
            "failed",
            "HTTP 404",
        ),
        # Only robots.txt is missing, the feed is empty: a quiet run, not a failure.
        (
            {
                "response_received_count": 2,
                "robotstxt/response_count": 1,
                "robotstxt/response_status_count/404": 1,
                "downloader/response_status_count/404": 1,
                "downloader/response_status_count/200": 1,
            },
            None,
            "ok",
            None,
        ),
        (
            {
                "downloader/exception_type_count/twisted.internet.error.ConnectionRefusedError": 6,
                "fetch/failed": 1,
            },
            None,
            "failed",
            "no answer: ConnectionRefusedError",
        ),
        (
            {"response_received_count": 1, "feed/malformed": 1},
            None,
            "failed",
            "the feed is malformed",
        ),
        ({"files/none": 1}, None, "failed", "no file matches the path"),
        # robots.txt timed out, the (empty) feed answered: not a failed run.
        (
            {"response_received_count": 1, "downloader/exception_type_count/x.TimeoutError": 3},
            None,
            "ok",
            None,
        ),
        ({}, None, "failed", "nothing fetched"),
        # Some articles 404 while the feed works: counted, not a failed run.
        (
            {"response_received_count": 5, "feed/items": 4, "fetch/failed": 2},
            None,
            "ok",
            None,
        ),
        ({"feed/items": 3}, "boom\nhttp://u:pw@h/x", "failed", "boom http://<secret>@h/x"),
    ],
)
def test_run_from_report(
    stats: dict[str, Any], error: str | None, outcome: str, reason: str | None
) -> None:
    run = run_from_report(SourceReport("wire", stats, error), T0, T0 + timedelta(seconds=3))
    assert (run.outcome, run.error) == (outcome, reason)


def test_run_from_report_counts() -> None:
    stats = {
        "response_received_count": 9,
        "robotstxt/response_count": 1,
        "sitemap/items": 7,
        "extract/stories": 5,
        "store/stored": 4,
        "extract/empty_body": 1,
        "extract/no_date": 2,
        "extract/mojibake": 1,
        "fetch/failed": 1,
    }
    run = run_from_report(SourceReport("s", stats), T0, T0)
    assert (
        run.pages,
        run.http_errors,
        run.items_found,
        run.items_extracted,
        run.stored,
        run.empty_bodies,
        run.missing_dates,
        run.mojibake,
    ) == (8, 1, 7, 5, 4, 1, 2, 1)


def test_errors_are_one_line_without_secrets() -> None:
    text = "x\r\nGET https://me:hunter2@h/feed?api_key=K1&page=2\n" + "y" * 500
    line = one_line_error(text)
    assert "\n" not in line and "hunter2" not in line and "K1" not in line
    assert "page=2" in line and len(line) <= 300


# --- config ------------------------------------------------------------------------------------


def test_health_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "channels:\n  ops: {type: console}\nhealth:\n  channel: ops\n  failures: 5\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert (config.health.channel, config.health.failures, config.health.empty_after) == (
        "ops",
        5,
        3,
    )
    assert load_config(tmp_path / "c.yaml").health.channel == "ops"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "channels:\n  ops: {type: console}\nhealth:\n  channel: pager\n",
            "c.yaml:4: health.channel: unknown channel 'pager' (known: ops)",
        ),
        ("health:\n  failures: 0\n", "c.yaml:2: health.failures"),
        ("health:\n  retries: 2\n", "c.yaml:2: health.retries: unknown key 'retries'"),
    ],
)
def test_health_config_mistakes(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(str(tmp_path / problem)), str(err.value)


# --- database: record_runs + notices (SQLite and PostgreSQL) ----------------------------------


def _notices(sessions: sessionmaker[Session]) -> list[OpsNotice]:
    with sessions() as session:
        return list(session.scalars(select(OpsNotice).order_by(OpsNotice.id)))


def test_record_runs_queues_one_notice_per_transition(sessions: sessionmaker[Session]) -> None:
    history = runs("oxxxxxoo")
    other = runs("oooooooo", source="seeds")
    queued = []
    for mine, theirs in zip(history, other, strict=True):
        queued += record_runs(sessions, [mine, theirs], policy=POLICY, now=lambda: T0)
    assert [(n.source, n.kind) for n in queued] == [("wire", "broken"), ("wire", "recovered")]
    rows = _notices(sessions)
    assert [(r.source, r.kind, r.status, r.attempts) for r in rows] == [
        ("wire", "broken", "queued", 0),
        ("wire", "recovered", "queued", 0),
    ]
    assert rows[0].reason == "HTTP 404 (3 failed runs in a row)"
    assert rows[0].key != rows[1].key
    with sessions() as session:
        stored = session.scalars(select(SourceRunRow).where(SourceRunRow.source == "wire")).all()
    assert [r.outcome for r in stored] == ["ok"] + ["failed"] * 5 + ["ok"] * 2
    assert stored[1].error == "HTTP 404"
    assert stored[0].started_at == T0


@dataclass
class FakeSender:
    """Answers with ``results`` in turn (then delivered), recording every send."""

    results: list[DeliveryResult] = field(default_factory=list)
    sent: list[tuple[str, AlertView]] = field(default_factory=list)
    kind: str = "fake"

    def send(self, key: str, view: AlertView) -> DeliveryResult:
        self.sent.append((key, view))
        return self.results.pop(0) if self.results else DeliveryResult.delivered()

    def close(self) -> None:
        pass


def _config(tmp_path: Path, database_url: str, channel: str | None = "ops") -> Any:
    path = tmp_path / "c.yaml"
    health = f"health: {{channel: {channel}}}\n" if channel else ""
    path.write_text(
        f"database: {database_url}\n"
        "sources:\n  - {name: wire, type: feed, url: 'http://127.0.0.1:1/f.xml?token=t0p'}\n"
        f"channels:\n  ops: {{type: console}}\n{health}",
        encoding="utf-8",
    )
    return load_config(path)


def _break(sessions: sessionmaker[Session], spec: str = "xxx") -> None:
    for run in runs(spec):
        record_runs(sessions, [run], policy=POLICY, now=lambda: T0)


def test_notices_are_delivered_once_with_retry(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, database_url)
    _break(sessions)
    sender = FakeSender(
        [DeliveryResult(False, True, FailureReason.SERVER_ERROR, "HTTP 503", retry_after=60)]
    )
    clock = [T0]

    def deliver() -> Any:
        return deliver_notices(
            sessions, config, now=lambda: clock[0], senders={"ops": sender}, rng=lambda: 0.0
        )

    first = deliver()
    assert (first.delivered, first.retrying) == (0, 1)
    row = _notices(sessions)[0]
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "server_error: HTTP 503")
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    assert deliver().delivered == 0  # not due yet
    clock[0] = T0 + timedelta(seconds=61)
    assert deliver().delivered == 1
    assert deliver().delivered == 0  # never twice
    assert len(sender.sent) == 2
    (key1, view), (key2, _) = sender.sent
    assert key1 == key2 == row.key  # the same webhook-id / Message-ID on every attempt
    assert view.rule == "ops:wire"
    assert view.title == "source wire is failing: HTTP 404 (3 failed runs in a row)"
    assert view.url == "http://127.0.0.1:1/f.xml?token=<secret>"
    assert view.evidence == []
    row = _notices(sessions)[0]
    assert (row.status, row.attempts, row.channel) == ("delivered", 2, "ops")


def test_permanent_failure_is_not_retried(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, database_url)
    _break(sessions, "xxxo")
    sender = FakeSender([DeliveryResult(False, False, FailureReason.CLIENT_ERROR, "HTTP 400")])
    summary = deliver_notices(sessions, config, senders={"ops": sender}, now=lambda: T0)
    assert (summary.failed, summary.delivered) == (1, 1)
    assert [(r.kind, r.status) for r in _notices(sessions)] == [
        ("broken", "failed"),
        ("recovered", "delivered"),
    ]


def test_without_a_channel_notices_wait(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, database_url, channel=None)
    _break(sessions)
    assert deliver_notices(sessions, config, now=lambda: T0).delivered == 0
    assert [r.status for r in _notices(sessions)] == ["queued"]


def test_console_channel_prints_one_line(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, database_url)
    _break(sessions)
    out = io.StringIO()
    assert deliver_notices(sessions, config, console=out, now=lambda: T0).delivered == 1
    assert out.getvalue() == (
        "[ops:wire] source wire is failing: HTTP 404 (3 failed runs in a row) — "
        "http://127.0.0.1:1/f.xml?token=<secret>\n"
    )


def test_notice_title() -> None:
    assert notice_title("wire", "recovered", "5 items found") == "source wire recovered"
