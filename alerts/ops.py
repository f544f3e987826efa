"""Ops notices (a source broke or recovered) sent through the ordinary channel senders.

An ops notice is not a news alert: it has no story and no cluster, and it lives in its own
table (``ops_notices``, queued by :func:`crawler.health_record.record_runs`). It goes out on the
one channel named by ``health.channel``, as a :class:`~alerts.messages.NoticeView` of its
own type: the webhook body is ``{"type": "wirewatch.ops", "source", "kind", "reason",
...}``, the email has its own template (no evidence block), the console line reads
``[ops:<source>] <what happened> — <source URL>``. Its title says what happened
(``source wire is failing: HTTP 404 (3 runs in a row)`` / ``source wire recovered``) and
its key (``webhook-id`` / ``Message-ID``) is the notice key, stable across retries.

The stages are those of :mod:`alerts.dispatch`, on a small scale: claim a due row with a
lease (a conditional ``UPDATE``, atomic on every backend, so two crawls finishing at once
never both send it) → send outside any transaction → record. A retryable failure
(:func:`alerts.result.classify`) puts the notice back with the outbox's
:class:`~alerts.ledger.Backoff` and stops the round (the channel is down); a permanent one
marks it ``failed`` with the reason. Without ``health.channel`` nothing is sent: notices
stay queued and ``wirewatch status`` shows them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.ledger import Backoff
from alerts.messages import NoticeView
from alerts.result import DeliveryResult, FailureReason, Sender
from crawler.db import transaction
from crawler.health import redact
from crawler.models import OpsNotice

__all__ = ["OpsSummary", "deliver_notices", "notice_title", "notice_view"]

log = logging.getLogger(__name__)

BATCH = 50


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class OpsSummary:
    """What one :func:`deliver_notices` round did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def notice_title(source: str, kind: str, reason: str) -> str:
    """``source wire is failing: HTTP 404 (3 runs in a row)`` or ``source wire recovered``."""
    if kind == "recovered":
        return f"source {source} recovered"
    return f"source {source} is failing: {reason}"


def notice_view(row: OpsNotice, channel: str, where: str) -> NoticeView:
    """The message for one notice; ``where`` is the source URL or path (redacted)."""
    return NoticeView(
        key=row.key,
        channel=channel,
        source=row.source,
        kind=row.kind,
        reason=row.reason,
        title=notice_title(row.source, row.kind, row.reason),
        url=where,
        created_at=row.created_at.isoformat() if row.created_at else None,
    )


def _where(config: Any, source: str) -> str:
    for item in config.sources:
        if item.name == source:
            return redact(str(getattr(item, "url", None) or getattr(item, "path", "")))
    return ""


def _claim(
    sessions: sessionmaker[Session], now: datetime, lease: timedelta
) -> list[tuple[OpsNotice, datetime]]:
    """Due notices this process now holds until the returned lease time."""
    until = now + lease
    claimed: list[tuple[OpsNotice, datetime]] = []
    with transaction(sessions) as session:
        rows = session.scalars(
            select(OpsNotice)
            .where(
                OpsNotice.status == "queued",
                OpsNotice.next_attempt_at <= now,
                or_(OpsNotice.lease_until.is_(None), OpsNotice.lease_until < now),
            )
            .order_by(OpsNotice.id)
            .limit(BATCH)
        ).all()
        for row in rows:
            done = session.execute(
                update(OpsNotice)
                .where(
                    OpsNotice.id == row.id,
                    OpsNotice.status == "queued",
                    or_(OpsNotice.lease_until.is_(None), OpsNotice.lease_until < now),
                )
                .values(lease_until=until)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 0) == 1:
                claimed.append((row, until))
    return claimed


def _record(
    sessions: sessionmaker[Session],
    row: OpsNotice,
    lease: datetime | None,
    channel: str,
    result: DeliveryResult | None,
    next_at: datetime,
    now: datetime,
) -> None:
    """Store the outcome (``result=None``: released untried), only while the lease holds."""
    values: dict[str, Any] = {"lease_until": None}
    if result is not None:
        values.update(attempts=OpsNotice.attempts + 1, channel=channel)
        if result.ok:
            values.update(status="delivered", delivered_at=now, last_error=None)
        else:
            reason = (result.reason or FailureReason.UNKNOWN).value
            values["last_error"] = f"{reason}: {result.detail}"[:500]
            values["status"] = "queued" if result.retryable else "failed"
            values["next_attempt_at"] = next_at
    with transaction(sessions) as session:
        session.execute(
            update(OpsNotice)
            .where(OpsNotice.id == row.id, OpsNotice.lease_until == lease)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def deliver_notices(
    sessions: sessionmaker[Session],
    config: Any,
    *,
    now: Callable[[], datetime] = _utcnow,
    senders: Mapping[str, Sender] | None = None,
    console: TextIO | None = None,
    backoff: Backoff | None = None,
    rng: Callable[[], float] = random.random,
    lease: timedelta = timedelta(minutes=5),
) -> OpsSummary:
    """Send the due ops notices on ``config.health.channel``; return the counts.

    ``senders`` overrides a channel's sender by name (tests); otherwise the sender is
    built as :class:`~alerts.dispatch.Dispatcher` builds it. Never raises for delivery
    problems (they are recorded); database errors propagate.
    """
    summary = OpsSummary()
    channel = config.health.channel
    if channel is None:
        return summary
    backoff = backoff or Backoff()
    claims = _claim(sessions, now(), lease)
    if not claims:
        return summary
    from alerts.dispatch import Dispatcher

    factory = Dispatcher(sessions, config.channels, now=now, senders=senders, console=console)
    try:
        try:
            sender = factory.sender(channel)
        except Exception:
            log.exception("ops: cannot build the sender of channel %s", channel)
            for row, until in claims:
                _record(sessions, row, until, channel, None, row.next_attempt_at, now())
            return summary
        down = False
        for row, until in claims:
            if down:
                _record(sessions, row, until, channel, None, row.next_attempt_at, now())
                continue
            try:
                result = sender.send(row.key, notice_view(row, channel, _where(config, row.source)))
            except Exception as exc:  # a sender bug must not lose the notice
                log.exception("ops: sender for channel %s raised", channel)
                result = DeliveryResult(False, True, FailureReason.UNKNOWN, type(exc).__name__)
            at = now()
            delay = backoff.delay(row.attempts + 1, result.retry_after, rng)
            _record(sessions, row, until, channel, result, at + delay, at)
            if result.ok:
                summary.delivered += 1
            elif result.retryable:
                summary.retrying += 1
                down = True
                log.warning(
                    "ops: notice %s via %s failed (%s: %s); retry in %s",
                    row.key,
                    channel,
                    result.reason,
                    result.detail,
                    delay,
                )
            else:
                summary.failed += 1
                log.error(
                    "ops: notice %s via %s failed permanently (%s: %s)",
                    row.key,
                    channel,
                    result.reason,
                    result.detail,
                )
    finally:
        factory.close()
    return summary
