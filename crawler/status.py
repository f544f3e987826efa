"""``wirewatch status``: every configured source with its last run, health and next run,
the alert outbox counts and the ops notices not yet delivered.

:func:`build_status` reads the database (no writes) into a :class:`Status`; the CLI prints
it as text or, with ``--json``, as ``Status.to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import Config
from crawler.health import HealthPolicy, assess, consecutive_failures
from crawler.health_record import latest_notice, recent_runs
from crawler.models import Alert, OpsNotice

__all__ = ["NoticeStatus", "SourceStatus", "Status", "build_status", "next_run"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class SourceStatus:
    """One source: ``schedule`` is ``every 15m`` or ``cron */5 * * * *``; ``last_*`` are
    ``None`` before the first run; ``health`` as :class:`crawler.health.Health` states."""

    name: str
    type: str
    schedule: str
    last_run: datetime | None
    last_outcome: str | None
    last_error: str | None
    items_found: int | None
    stored: int | None
    consecutive_failures: int
    health: str
    health_reason: str | None
    next_run: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "schedule": self.schedule,
            "last_run": _iso(self.last_run),
            "last_outcome": self.last_outcome,
            "last_error": self.last_error,
            "items_found": self.items_found,
            "stored": self.stored,
            "consecutive_failures": self.consecutive_failures,
            "health": self.health,
            "health_reason": self.health_reason,
            "next_run": _iso(self.next_run),
        }


@dataclass(frozen=True)
class NoticeStatus:
    """An ops notice not yet delivered (``queued`` or ``failed``)."""

    source: str
    kind: str
    reason: str
    status: str
    attempts: int
    created_at: datetime
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "reason": self.reason,
            "status": self.status,
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "last_error": self.last_error,
        }


@dataclass
class Status:
    sources: list[SourceStatus] = field(default_factory=list)
    # queued / delivered / failed, and ``waiting``: queued but not due yet (held for a
    # digest, quiet hours or a cooldown, or backing off after a failed try)
    alerts: dict[str, int] = field(default_factory=dict)
    next_due: datetime | None = None  # when the earliest waiting alert is due
    disabled: list[str] = field(default_factory=list)  # webhook channels whose URL gave 410
    notices: list[NoticeStatus] = field(default_factory=list)
    channel: str | None = None  # health.channel

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": [s.to_json() for s in self.sources],
            "alerts": {**self.alerts, "next_due": _iso(self.next_due)},
            "disabled_channels": list(self.disabled),
            "ops_notices": {
                "channel": self.channel,
                "pending": [n.to_json() for n in self.notices],
            },
        }


def schedule_text(source: Any) -> str:
    if source.cron:
        return f"cron {source.cron}"
    return f"every {source.every}" if source.every else "every 15m (default)"


def next_run(source: Any, last_started: datetime | None, now: datetime) -> datetime | None:
    """When ``wirewatch run`` would crawl ``source`` next: an interval after the last start
    (never run: now, as the scheduler starts every source at once); for cron, the next
    fire time after the last finish (or now). Raises ``ConfigError`` for a bad schedule."""
    from crawler.schedule import trigger_for

    trigger = trigger_for(source)
    if isinstance(trigger, IntervalTrigger):
        if last_started is None:
            return now
        fire: datetime | None = trigger.get_next_fire_time(last_started, now)
        return fire
    cron_fire: datetime | None = trigger.get_next_fire_time(None, last_started or now)
    return cron_fire


def build_status(sessions: sessionmaker[Session], config: Config, now: datetime) -> Status:
    """Read everything ``wirewatch status`` shows (see the module docstring)."""
    from alerts.ledger import disabled_channels
    from alerts.outbox import counts

    policy = HealthPolicy.from_config(config)
    status = Status(channel=config.health.channel)
    with sessions() as session:
        for source in config.sources:
            runs = recent_runs(session, source.name, max(policy.window, 50))
            notice = latest_notice(session, source.name)
            broken = notice is not None and notice.kind == "broken"
            health = assess(runs, broken)
            reason = notice.reason if broken and notice is not None else health.reason
            last = runs[-1] if runs else None
            status.sources.append(
                SourceStatus(
                    name=source.name,
                    type=source.type,
                    schedule=schedule_text(source),
                    last_run=last.finished_at if last else None,
                    last_outcome=last.outcome if last else None,
                    last_error=last.error if last else None,
                    items_found=last.items_found if last else None,
                    stored=last.stored if last else None,
                    consecutive_failures=consecutive_failures(runs),
                    health=health.state,
                    health_reason=reason,
                    next_run=next_run(source, last.started_at if last else None, now),
                )
            )
        status.alerts = {k.split("/", 1)[1]: v for k, v in counts(session).items()}
        waiting = session.execute(
            select(func.count(), func.min(Alert.next_attempt_at)).where(
                Alert.status == "queued", Alert.next_attempt_at > now
            )
        ).one()
        status.alerts["waiting"] = int(waiting[0])
        status.next_due = waiting[1]
        status.disabled = sorted(disabled_channels(session, config.channels))
        rows = session.scalars(
            select(OpsNotice)
            .where(OpsNotice.status.in_(("queued", "failed")))
            .order_by(OpsNotice.id)
        ).all()
        status.notices = [
            NoticeStatus(
                source=r.source,
                kind=r.kind,
                reason=r.reason,
                status=r.status,
                attempts=r.attempts,
                created_at=r.created_at,
                last_error=r.last_error,
            )
            for r in rows
        ]
    return status
