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

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crawler.models import Alert

__all__ = ["MODES", "alert_key", "counts", "enqueue", "next_due", "rule_mode"]

#: Delivery modes of an alert row: at once, or in the hourly / daily digest.
MODES = ("now", "hourly", "daily")


def rule_mode(digest: str | None) -> str:
    """The row ``mode`` for a rule's ``digest`` key (absent → ``now``)."""
    return digest or "now"


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
    mode: str = "now",
    urgent: bool = False,
) -> int:
    """Queue one alert per channel for ``rule`` on ``cluster_id``; return the rows created.

    Runs inside the caller's transaction (it only executes statements on ``session``; it
    never commits), so the alert exists exactly when the story does. A row that already
    exists for (rule, cluster_id, channel) is left alone. The new rows are due at ``now``
    (default: the current UTC time). Duplicate channel names count once. ``mode`` (the
    rule's ``digest``: ``now`` | ``hourly`` | ``daily``) and ``urgent`` are stored on the
    rows, so delivery needs no rules (see :mod:`alerts.hold`). ValueError for an unknown
    mode or a naive ``now``.
    """
    when = now or datetime.now(timezone.utc)
    if when.tzinfo is None:
        raise ValueError("enqueue(now=...) needs a timezone-aware datetime")
    if mode not in MODES:
        raise ValueError(f"enqueue(mode={mode!r}): mode must be one of {', '.join(MODES)}")
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
            "mode": mode,
            "urgent": urgent,
        }
        for channel in unique
    ]
    table: Table = Alert.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends: check first, insert the rest
        return _enqueue_portable(session, rows)
    created = 0
    for row in rows:
        # RETURNING yields a row only for an actual insert (rowcount is not reliable
        # for ON CONFLICT DO NOTHING across drivers).
        result = session.execute(stmt.values(**row).returning(table.c.id))
        created += len(result.all())
    return created


def counts(session: Session) -> dict[str, int]:
    """Alert rows by status, as stats keys: ``alerts/queued``, ``alerts/delivered``,
    ``alerts/failed`` (each present, 0 when none) — for ``wirewatch status``."""
    found = {"alerts/queued": 0, "alerts/delivered": 0, "alerts/failed": 0}
    for status, number in session.execute(
        select(Alert.status, func.count()).group_by(Alert.status)
    ).all():
        found[f"alerts/{status}"] = int(number)
    return found


def next_due(session: Session) -> datetime | None:
    """When the earliest queued alert becomes due (``None`` when nothing is queued); a
    scheduler can sleep until then. Leases are ignored: a leased row is due again at the
    latest when its lease runs out, which is after this time."""
    return session.scalar(select(func.min(Alert.next_attempt_at)).where(Alert.status == "queued"))


def _enqueue_portable(session: Session, rows: list[dict[str, Any]]) -> int:
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
