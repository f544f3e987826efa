"""The notification log: claiming due alerts with a lease and recording what happened.

All database work of delivery lives here, in short transactions, so that no transaction
is ever open while a sender talks to the network (see :mod:`alerts.dispatch`):

- :meth:`Ledger.claim` — due rows (``status = 'queued'``, ``next_attempt_at <= now``,
  no live lease) get ``lease_until = now + lease`` (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises claimers) and are read into
  messages — one alert, or a digest of several (volume control: :mod:`alerts.claims`,
  :mod:`alerts.hold`);
- :meth:`Ledger.record` — a ``DeliveryAttempt`` row per alert plus the new state of every
  alert of the message, applied only while the claim's lease is still the rows' lease (a
  lost lease is logged, never overwritten);
- :meth:`Ledger.release` — an untried claim goes back to the queue, attempts unchanged;
- :meth:`Ledger.disabled_channels` — webhook channels whose current URL answered 410,
  found from the stored attempts, so it survives restarts.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.claims import Claim, claim_channel, due_filter
from alerts.hold import HoldReason, Volume
from alerts.result import DeliveryResult, FailureReason
from crawler.config import ConsoleChannel, EmailChannel, WebhookChannel
from crawler.db import transaction
from crawler.models import Alert, DeliveryAttempt

__all__ = [
    "Backoff",
    "ChannelConfig",
    "Claim",
    "DeliveryOutcome",
    "Ledger",
    "disabled_channels",
    "endpoint_fingerprint",
]

log = logging.getLogger("alerts.dispatch")

ChannelConfig = ConsoleChannel | EmailChannel | WebhookChannel


def endpoint_fingerprint(url: str) -> str:
    """A short, non-reversible tag for an endpoint URL (URLs may carry tokens)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Backoff:
    """Retry delays: ``base * factor**(attempts-1)`` capped at ``cap``, with "equal
    jitter" (a uniformly random point in the upper half), so retries of alerts that failed
    together spread out. ``Retry-After`` from the receiver replaces the computed delay,
    bounded by ``max_retry_after``."""

    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    max_retry_after: timedelta = timedelta(hours=24)

    def delay(
        self, attempts: int, retry_after: float | None, rng: Callable[[], float]
    ) -> timedelta:
        """Delay before the next try, given the attempts made so far (≥ 1)."""
        if retry_after is not None:
            # At least a second, so "Retry-After: 0" cannot turn into a busy loop.
            return min(timedelta(seconds=max(retry_after, 1.0)), self.max_retry_after)
        raw = self.base.total_seconds() * self.factor ** max(attempts - 1, 0)
        full = min(raw, self.cap.total_seconds())
        return timedelta(seconds=full / 2 + rng() * full / 2)


@dataclass(frozen=True)
class DeliveryOutcome:
    """One message's attempt as recorded: ``outcome`` is ``delivered`` | ``retry`` |
    ``failed``."""

    key: str
    rule: str
    channel: str
    outcome: str
    reason: str | None
    detail: str
    next_attempt_at: datetime | None = None
    count: int = 1  # alert rows the message carried (a digest carries several)


def disabled_channels(session: Session, channels: Mapping[str, ChannelConfig]) -> set[str]:
    """Webhook channels whose current URL answered 410 (a stored ``gone`` attempt): they
    stay disabled across restarts until the channel's URL changes."""
    found: set[str] = set()
    for name, cfg in channels.items():
        if not isinstance(cfg, WebhookChannel):
            continue
        tag = f"[endpoint {endpoint_fingerprint(cfg.url)}]"
        hit = session.scalar(
            select(DeliveryAttempt.id)
            .join(Alert, Alert.id == DeliveryAttempt.alert_id)
            .where(
                Alert.channel == name,
                DeliveryAttempt.reason == FailureReason.GONE.value,
                DeliveryAttempt.detail.contains(tag, autoescape=True),
            )
            .limit(1)
        )
        if hit is not None:
            found.add(name)
    return found


class Ledger:
    """Claims and records alert deliveries on ``sessions``; ``now`` is the clock,
    ``rng`` feeds the backoff jitter, ``volumes`` holds each channel's volume control
    (:class:`~alerts.hold.Volume`; a channel not in it has none)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        now: Callable[[], datetime],
        lease: timedelta,
        batch: int,
        backoff: Backoff,
        rng: Callable[[], float],
        volumes: Mapping[str, Volume] | None = None,
    ) -> None:
        self._volumes = dict(volumes or {})
        self._sessions = sessions
        self._now = now
        self._lease = lease
        self._batch = batch
        self._backoff = backoff
        self._rng = rng

    def disabled_channels(self, channels: Mapping[str, ChannelConfig]) -> set[str]:
        """Webhook channels whose current URL answered 410 (see :func:`disabled_channels`)."""
        if not any(isinstance(cfg, WebhookChannel) for cfg in channels.values()):
            return set()
        with self._sessions() as session:
            return disabled_channels(session, channels)

    def claim(
        self, names: Iterable[str], disabled: set[str]
    ) -> tuple[list[Claim], Counter[str], Counter[HoldReason]]:
        """Lease the due alerts of the channels in ``names`` as messages (at most
        ``batch`` rows per channel, oldest due first; see :mod:`alerts.claims`).

        Returns the claims; for due rows of other channels, how many were left alone and
        why (``disabled`` when the channel is in ``disabled``, else ``unknown_channel``);
        and how many rows were held back by volume control, by reason (``digest``,
        ``quiet_hours``, ``cooldown``). A row whose story is gone is failed with reason
        ``render``.
        """
        now = self._now()
        until = now + self._lease
        claims: list[Claim] = []
        skipped: Counter[str] = Counter()
        held: Counter[HoldReason] = Counter()
        names = list(names)
        with transaction(self._sessions) as session:
            for name in names:
                found, waiting = claim_channel(
                    session,
                    name,
                    now=now,
                    until=until,
                    limit=self._batch,
                    volume=self._volumes.get(name) or Volume(),
                    fail=self._fail_now,
                )
                claims.extend(found)
                held.update(waiting)
            others = session.execute(
                select(Alert.channel, func.count())
                .where(Alert.channel.not_in(names), *due_filter(now))
                .group_by(Alert.channel)
            ).all()
        for channel, count in others:
            why = "disabled" if channel in disabled else "unknown_channel"
            if why == "unknown_channel":
                log.warning(
                    "alerts: %d queued alert(s) for channel %r, which is not configured; "
                    "they stay queued",
                    count,
                    channel,
                )
            skipped[why] += int(count)
        return claims, skipped, held

    def _fail_now(self, session: Session, alert: Alert, now: datetime, detail: str) -> None:
        log.error("alerts: %s cannot be rendered: %s", alert.key, detail)
        session.add(
            DeliveryAttempt(
                alert_id=alert.id,
                at=now,
                outcome="failed",
                reason=FailureReason.RENDER.value,
                detail=detail,
            )
        )
        alert.status = "failed"
        alert.last_error = f"{FailureReason.RENDER.value}: {detail}"
        alert.lease_until = None

    def record(
        self, claim: Claim, result: DeliveryResult, config: ChannelConfig | None
    ) -> DeliveryOutcome:
        """Store the outcome of sending ``claim`` on every row it carries: an attempt row
        each and the new state, applied only while the claim's lease is the rows' lease."""
        now = self._now()
        attempts = claim.attempts + 1
        reason = result.reason.value if result.reason else None
        detail = result.detail
        if result.reason is FailureReason.GONE and isinstance(config, WebhookChannel):
            tag = endpoint_fingerprint(config.url)
            detail = f"{detail}; endpoint disabled [endpoint {tag}]"
        values: dict[str, object] = {"attempts": Alert.attempts + 1, "lease_until": None}
        next_at: datetime | None = None
        if result.ok:
            values.update(status="delivered", delivered_at=now, last_error=None)
        elif result.retryable:
            next_at = now + self._backoff.delay(attempts, result.retry_after, self._rng)
            values.update(next_attempt_at=next_at, last_error=f"{reason}: {detail}")
        else:
            values.update(status="failed", last_error=f"{reason}: {detail}")
        rows = claim.rows
        with transaction(self._sessions) as session:
            session.add_all(
                DeliveryAttempt(
                    alert_id=row,
                    at=now,
                    outcome=result.outcome,
                    reason=reason,
                    detail=detail[:2000],
                )
                for row in rows
            )
            done = session.execute(
                update(Alert)
                .where(
                    Alert.id.in_(rows),
                    Alert.status == "queued",
                    Alert.lease_until == claim.lease_until,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", len(rows)) < len(rows):
                log.warning(
                    "alerts: lease on %s was lost before its outcome (%s) was recorded",
                    claim.key,
                    result.outcome,
                )
        return DeliveryOutcome(
            key=claim.key,
            rule=claim.rule,
            channel=claim.channel,
            outcome=result.outcome,
            reason=reason,
            detail=detail,
            next_attempt_at=next_at,
            count=claim.size,
        )

    def release(self, claim: Claim, not_before: datetime) -> None:
        """Give an untried claim back: lease cleared, attempts unchanged; its rows keep
        their message (``batch_key``)."""
        next_at = max(claim.next_attempt_at, not_before)
        with transaction(self._sessions) as session:
            session.execute(
                update(Alert)
                .where(Alert.id.in_(claim.rows), Alert.lease_until == claim.lease_until)
                .values(lease_until=None, next_attempt_at=next_at)
                .execution_options(synchronize_session=False)
            )
