"""``wirewatch status``: next-run computation and what ``build_status`` reads (both backends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.ledger import endpoint_fingerprint
from crawler.cli import main
from crawler.config import FeedSource, load_config
from crawler.db import transaction
from crawler.health import HealthPolicy, SourceRun
from crawler.health_record import record_runs
from crawler.models import Alert, DeliveryAttempt
from crawler.status import build_status, next_run
from tests.alerts.conftest import add_story

NOW = datetime(2026, 11, 23, 12, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("every", "cron", "last", "expected"),
    [
        ("10m", None, None, NOW),  # never run: the scheduler starts it at once
        ("10m", None, NOW - timedelta(minutes=3), NOW + timedelta(minutes=7)),
        (None, None, NOW - timedelta(minutes=1), NOW + timedelta(minutes=14)),  # default 15m
        (None, "*/5 * * * *", None, datetime(2026, 11, 23, 12, 10, tzinfo=timezone.utc)),
        (
            None,
            "0 * * * *",
            NOW - timedelta(minutes=1),
            datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc),
        ),
    ],
)
def test_next_run(
    every: str | None, cron: str | None, last: datetime | None, expected: datetime
) -> None:
    source = FeedSource(type="feed", name="w", url="http://x/f", every=every, cron=cron)
    assert next_run(source, last, NOW) == expected


def test_build_status(sessions: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"database: {database_url}\n"
        "sources:\n"
        "  - {name: wire, type: feed, url: 'http://127.0.0.1:1/f.xml', every: 5m}\n"
        "  - {name: seeds, type: files, path: 'seeds/*.txt', cron: '0 * * * *'}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    for i in range(3):
        at = NOW - timedelta(minutes=30 - 5 * i)
        record_runs(
            sessions,
            [SourceRun("wire", at, at + timedelta(seconds=2), "failed", error="HTTP 503")],
            policy=HealthPolicy(),
        )
    status = build_status(sessions, config, NOW).to_json()
    wire, seeds = status["sources"]
    assert wire["health"] == "broken"
    assert wire["consecutive_failures"] == 3
    assert wire["last_error"] == "HTTP 503"
    assert wire["health_reason"] == "HTTP 503 (3 failed runs in a row)"
    assert wire["schedule"] == "every 5m"
    assert seeds["health"] == "unknown" and seeds["last_run"] is None
    assert seeds["schedule"] == "cron 0 * * * *"
    assert status["alerts"] == {
        "queued": 0,
        "delivered": 0,
        "failed": 0,
        "waiting": 0,
        "next_due": None,
    }
    assert status["disabled_channels"] == []
    pending = status["ops_notices"]["pending"]
    assert [(n["source"], n["kind"], n["status"]) for n in pending] == [
        ("wire", "broken", "queued")
    ]
    assert status["ops_notices"]["channel"] is None


def test_status_shows_waiting_alerts_and_disabled_channels(
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"database: {database_url}\n"
        "channels:\n"
        "  hook: {type: webhook, url: 'http://127.0.0.1:1/hook', secret: whsec_MTIz}\n"
        "  other: {type: webhook, url: 'http://127.0.0.1:1/other', secret: whsec_MTIz}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    add_story(sessions, url="https://n.example/1", cluster="c1", channels=("hook",), now=NOW)
    add_story(sessions, url="https://n.example/2", cluster="c2", channels=("other",), now=NOW)
    later = NOW + timedelta(minutes=53)  # held for an hourly digest, say
    with transaction(sessions) as session:
        session.execute(update(Alert).where(Alert.channel == "other").values(next_attempt_at=later))
        hook_alert = session.scalar(select(Alert.id).where(Alert.channel == "hook"))
        tag = f"[endpoint {endpoint_fingerprint('http://127.0.0.1:1/hook')}]"
        session.add(
            DeliveryAttempt(
                alert_id=hook_alert, outcome="failed", reason="gone", detail=f"HTTP 410 {tag}"
            )
        )
    status = build_status(sessions, config, NOW).to_json()
    assert status["alerts"]["queued"] == 2
    assert status["alerts"]["waiting"] == 1
    assert status["alerts"]["next_due"] == later.isoformat()
    assert status["disabled_channels"] == ["hook"]

    due = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0)
    with transaction(sessions) as session:
        session.execute(update(Alert).where(Alert.channel == "other").values(next_attempt_at=due))
    assert main(["-c", str(path), "status"]) == 0  # the CLI reads the real clock
    text = capsys.readouterr().out
    assert f"alerts: 2 queued (1 waiting, next due {due:%Y-%m-%d %H:%M:%S} UTC)" in text
    assert "channel hook disabled: its URL answered 410 Gone" in text
