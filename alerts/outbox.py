"""The outbox: alert rows written in the same transaction as the story that caused them.

One row per (rule, cluster, channel) — the table's unique constraint, enforced with
``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL alike, so a near-duplicate
of an already alerted story, a re-crawl or a concurrent worker adds nothing. Delivery is
the dispatcher's job (:mod:`alerts.dispatch`); nothing here does I/O beyond the caller's
session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler.models import Alert

__all__ = ["alert_key", "enqueue"]


def alert_key(rule: str, cluster_id: str, channel: str) -> str:
    """The stable id of the alert for (rule, cluster, channel): ``msg_`` + 32 hex chars.

    Derived, not random, so the same alert has the same id on every worker and after any
    restart; it becomes the webhook ``webhook-id`` and the email ``Message-ID``.
    """
    digest = hashlib.sha256("\x1f".join((rule, cluster_id, channel)).encode("utf-8"))
    return "msg_" + digest.hexdigest()[:32]


def enqueue(
    session: Session,
    *,
    rule: str,
    cluster_id: str,
    story_id: int,
    channels: Sequence[str],
    evidence: list[dict[str, Any]],
    now: datetime | None = None,
) -> int:
    """Queue one alert per channel for ``rule`` on ``cluster_id``; return the rows created.

    Runs inside the caller's transaction (it only executes statements on ``session``; it
    never commits), so the alert exists exactly when the story does. A row that already
    exists for (rule, cluster_id, channel) is left alone. The new rows are due at ``now``
    (default: the current UTC time). Duplicate channel names count once.
    """
    when = now or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("enqueue(now=...) needs a timezone-aware datetime")
    unique = list(dict.fromkeys(channels))
    if not unique:
        return 0
    rows = [
        {
            "key": alert_key(rule, cluster_id, channel),
            "rule": rule,
            "channel": channel,
            "cluster_id": cluster_id,
            "story_id": story_id,
            "evidence": list(evidence),
            "status": "queued",
            "attempts": 0,
            "created_at": when,
            "next_attempt_at": when,
        }
        for channel in unique
    ]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(Alert).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Alert).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends: check first, insert the rest
        return _enqueue_portable(session, rows)
    created = 0
    for row in rows:  # rowcount per statement is reliable on both dialects
        result = session.execute(stmt.values(**row))
        created += max(getattr(result, "rowcount", 0) or 0, 0)
    return created


def _enqueue_portable(session: Session, rows: list[dict[str, Any]]) -> int:
    from sqlalchemy import select

    created = 0
    for row in rows:
        exists = session.scalar(
            select(Alert.id).where(
                Alert.rule == row["rule"],
                Alert.cluster_id == row["cluster_id"],
                Alert.channel == row["channel"],
            )
        )
        if exists is None:
            session.execute(insert(Alert).values(**row))
            created += 1
    return created
