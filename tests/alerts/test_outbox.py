"""The outbox: one row per (rule, cluster, channel), written in the story's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import alert_key, enqueue
from crawler.db import transaction
from crawler.models import Alert, Story
from tests.alerts.conftest import EVIDENCE, START, add_story


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Alert)) or 0)


def _enqueue_again(sessions: sessionmaker[Session], story_id: int, *channels: str) -> int:
    with transaction(sessions) as s:
        return enqueue(
            s,
            rule="north-korea-russia-troops",
            cluster_id="c1",
            story_id=story_id,
            channels=channels,
            evidence=EVIDENCE,
            now=START,
        )


def check_outbox(sessions: sessionmaker[Session]) -> None:
    story = add_story(sessions, channels=("mail", "hook", "mail"))
    assert _count(sessions) == 2
    # the same cluster again (a near-duplicate or a re-crawl): nothing new
    dup = add_story(sessions, url="https://copy.example/1", channels=("mail", "hook"))
    assert _count(sessions) == 2
    assert _enqueue_again(sessions, dup, "hook", "console") == 1
    assert _count(sessions) == 3
    with sessions() as s:
        rows = s.scalars(select(Alert).order_by(Alert.channel)).all()
    assert [r.channel for r in rows] == ["console", "hook", "mail"]
    for row in rows:
        assert row.status == "queued" and row.attempts == 0
        assert row.next_attempt_at == START
        assert row.key == alert_key("north-korea-russia-troops", "c1", row.channel)
        assert row.evidence == EVIDENCE
    assert {r.story_id for r in rows} == {story, dup}


def test_enqueue_once_per_rule_cluster_channel(sessions: sessionmaker[Session]) -> None:
    check_outbox(sessions)


def test_rolled_back_story_leaves_no_alert(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as s:
        from crawler.models import Cluster

        s.add(Cluster(id="c9", first_seen=START))
        story = Story(url="u", source="t", title="t", body="b", cluster_id="c9", body_hash="h")
        s.add(story)
        s.flush()
        enqueue(s, rule="r", cluster_id="c9", story_id=story.id, channels=["x"], evidence=[])
        raise RuntimeError("crash before commit")
    assert _count(sessions) == 0


def test_key_is_stable_and_distinct() -> None:
    a = alert_key("r", "c", "mail")
    assert a == alert_key("r", "c", "mail")
    assert a.startswith("msg_") and len(a) <= 64
    assert len({a, alert_key("r", "c", "hook"), alert_key("r", "c2", "mail")}) == 3


def test_naive_now_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s, pytest.raises(ValueError):
        enqueue(
            s,
            rule="r",
            cluster_id="c",
            story_id=1,
            channels=["x"],
            evidence=[],
            now=START.replace(tzinfo=None),
        )


def test_counts_and_next_due(sessions: sessionmaker[Session]) -> None:
    from datetime import timedelta

    from alerts.outbox import counts, next_due

    with sessions() as s:
        assert next_due(s) is None
        assert counts(s) == {"alerts/queued": 0, "alerts/delivered": 0, "alerts/failed": 0}
    add_story(sessions, channels=("a", "b"))
    with transaction(sessions) as s:
        first, second = s.scalars(select(Alert).order_by(Alert.id)).all()
        first.status = "delivered"
        second.next_attempt_at = START + timedelta(minutes=3)
    with sessions() as s:
        assert next_due(s) == START + timedelta(minutes=3)
        assert counts(s) == {"alerts/queued": 1, "alerts/delivered": 1, "alerts/failed": 0}


def test_enqueue_stores_mode_and_urgency(sessions: sessionmaker[Session]) -> None:
    add_story(sessions, channels=("a",), mode="daily")
    add_story(sessions, url="https://b.example/2", cluster="c2", channels=("a",), urgent=True)
    with sessions() as s:
        found = [
            (r.mode, r.urgent, r.batch_key) for r in s.scalars(select(Alert).order_by(Alert.id))
        ]
    assert found == [("daily", False, None), ("now", True, None)]
    with pytest.raises(ValueError, match="mode must be one of now, hourly, daily"):
        add_story(sessions, url="https://c.example/3", cluster="c3", channels=("a",), mode="weekly")


def test_migration_0003_keeps_queued_alerts_immediate(database_url: str) -> None:
    """A database from before volume control: its queued alerts become immediate, not
    urgent, with no message yet — and are delivered as before."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import text

    from crawler.db import MIGRATIONS, make_engine, open_database

    engine = make_engine(database_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO clusters (id, first_seen) VALUES ('c1', :t)"), {"t": START})
        conn.execute(
            text(
                "INSERT INTO stories (url, source, title, body, language, fetched_at, "
                "cluster_id, body_hash) VALUES ('https://old.example/1', 's', 't', 'b', 'ar', "
                ":t, 'c1', 'h')"
            ),
            {"t": START},
        )
        conn.execute(
            text(
                "INSERT INTO alerts (key, rule, channel, cluster_id, story_id, evidence, status, "
                "attempts, created_at, next_attempt_at) VALUES ('msg_old', 'r', 'a', 'c1', "
                "(SELECT id FROM stories), '[]', 'queued', 0, :t, :t)"
            ),
            {"t": START},
        )
    engine.dispose()
    sessions = open_database(database_url)  # upgrades to head
    with sessions() as s:
        row = s.scalars(select(Alert)).one()
    assert (row.key, row.mode, row.urgent, row.batch_key) == ("msg_old", "now", False, None)
