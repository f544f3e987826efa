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
