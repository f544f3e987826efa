"""Source health in the database: runs recorded, state changes turned into ops notices.

:func:`record_runs` stores each :class:`~crawler.health.SourceRun` and, when the rules of
:mod:`crawler.health` say the source changed state (ok → broken, broken → recovered),
queues exactly one ops notice (:mod:`alerts.ops` sends it).  The state lives in the
database as the kind of the source's latest notice, so the same state never notifies
twice, across processes and restarts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crawler.db import transaction
from crawler.health import HealthPolicy, SourceRun, one_line_error, transition
from crawler.models import OpsNotice
from crawler.models import SourceRun as SourceRunRow

__all__ = ["Notice", "is_broken", "latest_notice", "recent_runs", "record_runs"]

log = logging.getLogger("crawler.health")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Notice:
    """An ops notice as queued by :func:`record_runs`."""

    key: str
    source: str
    kind: str
    reason: str
    created_at: datetime


def notice_key(source: str, sequence: int, kind: str) -> str:
    """Stable id of the ``sequence``-th notice of ``source`` (webhook-id, Message-ID)."""
    digest = hashlib.sha256(f"{source}\n{sequence}\n{kind}".encode()).hexdigest()
    return "ops_" + digest[:40]


def _as_run(row: SourceRunRow) -> SourceRun:
    return SourceRun(
        source=row.source,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome="failed" if row.outcome == "failed" else "ok",
        pages=row.pages,
        http_errors=row.http_errors,
        items_found=row.items_found,
        items_extracted=row.items_extracted,
        stored=row.stored,
        empty_bodies=row.empty_bodies,
        missing_dates=row.missing_dates,
        mojibake=row.mojibake,
        error=row.error,
    )


def recent_runs(session: Session, source: str, limit: int) -> list[SourceRun]:
    """The latest ``limit`` runs of ``source``, oldest first."""
    rows = session.scalars(
        select(SourceRunRow)
        .where(SourceRunRow.source == source)
        .order_by(SourceRunRow.started_at.desc(), SourceRunRow.id.desc())
        .limit(limit)
    ).all()
    return [_as_run(row) for row in reversed(rows)]


def latest_notice(session: Session, source: str) -> OpsNotice | None:
    """``source``'s latest ops notice (its recorded state), or ``None``."""
    return session.scalars(
        select(OpsNotice).where(OpsNotice.source == source).order_by(OpsNotice.id.desc()).limit(1)
    ).first()


def is_broken(session: Session, source: str) -> bool:
    """Whether ``source``'s latest notice says it is broken."""
    notice = latest_notice(session, source)
    return notice is not None and notice.kind == "broken"


def record_runs(
    sessions: sessionmaker[Session],
    runs: Sequence[SourceRun],
    *,
    policy: HealthPolicy | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> list[Notice]:
    """Store ``runs`` (one transaction) and queue one ops notice per source whose state
    changed; return the notices queued. Two processes recording the same transition at
    once queue it once (the notice key is unique)."""
    policy = policy or HealthPolicy()
    notices: list[Notice] = []
    with transaction(sessions) as session:
        for run in runs:
            session.add(SourceRunRow(**asdict(run)))
        session.flush()
        for source in dict.fromkeys(run.source for run in runs):
            change = transition(
                recent_runs(session, source, policy.window), is_broken(session, source), policy
            )
            if change is None:
                continue
            sequence = session.scalar(
                select(func.count()).select_from(OpsNotice).where(OpsNotice.source == source)
            )
            notice = Notice(
                key=notice_key(source, int(sequence or 0) + 1, change.kind),
                source=source,
                kind=change.kind,
                reason=one_line_error(change.reason),
                created_at=now(),
            )
            try:
                with session.begin_nested():
                    session.add(
                        OpsNotice(
                            key=notice.key,
                            source=source,
                            kind=notice.kind,
                            reason=notice.reason,
                            created_at=notice.created_at,
                            next_attempt_at=notice.created_at,
                        )
                    )
            except IntegrityError:
                log.info("health: notice %s for %s already queued", notice.key, source)
                continue
            log.warning("health: source %s is %s: %s", source, notice.kind, notice.reason)
            notices.append(notice)
    return notices
