"""The notification log: claiming due alerts with a lease and recording what happened.

All database work of delivery lives here, in short transactions, so that no transaction
is ever open while a sender talks to the network (see :mod:`alerts.dispatch`):

- :meth:`Ledger.claim` — due rows (``status = 'queued'``, ``next_attempt_at <= now``,
  no live lease) get ``lease_until = now + lease`` (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises claimers) and are read into
  :class:`~alerts.render.AlertView`\\ s;
- :meth:`Ledger.record` — a ``DeliveryAttempt`` row plus the new state, applied only while
  the claim's lease is still the row's lease (a lost lease is logged, never overwritten);
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

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.render import AlertView, build_view
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
    """One attempt as recorded: ``outcome`` is ``delivered`` | ``retry`` | ``failed``."""

    key: str
    rule: str
    channel: str
    outcome: str
    reason: str | None
    detail: str
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """A row this worker holds until ``lease_until``, with what its sender needs."""

    id: int
    key: str
    rule: str
    channel: str
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime
    view: AlertView


class Ledger:
    """Claims and records alert deliveries on ``sessions``; ``now`` is the clock,
    ``rng`` feeds the backoff jitter."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        now: Callable[[], datetime],
        lease: timedelta,
        batch: int,
        backoff: Backoff,
        rng: Callable[[], float],
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._lease = lease
        self._batch = batch
        self._backoff = backoff
        self._rng = rng

    def disabled_channels(self, channels: Mapping[str, ChannelConfig]) -> set[str]:
        """Webhook channels whose current URL answered 410 (a stored ``gone`` attempt)."""
        found: set[str] = set()
        hooks = {name: cfg for name, cfg in channels.items() if isinstance(cfg, WebhookChannel)}
        if not hooks:
            return found
        with self._sessions() as session:
            for name, cfg in hooks.items():
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

    def claim(self, names: Iterable[str], disabled: set[str]) -> tuple[list[Claim], Counter[str]]:
        """Lease up to ``batch`` due rows per channel in ``names`` (oldest due first).

        Returns the claims and, for due rows of other channels, how many were left alone
        and why (``disabled`` when the channel is in ``disabled``, else
        ``unknown_channel``). A row whose story is gone is failed with reason ``render``.
        """
        now = self._now()
        until = now + self._lease
        due = (
            Alert.status == "queued",
            Alert.next_attempt_at <= now,
            or_(Alert.lease_until.is_(None), Alert.lease_until < now),
        )
        claims: list[Claim] = []
        skipped: Counter[str] = Counter()
        names = list(names)
        with transaction(self._sessions) as session:
            for name in names:
                rows = session.scalars(
                    select(Alert)
                    .where(Alert.channel == name, *due)
                    .order_by(Alert.next_attempt_at, Alert.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                ).all()
                for alert in rows:
                    try:
                        view = build_view(session, alert)
                    except LookupError as exc:
                        self._fail_now(session, alert, now, str(exc))
                        continue
                    alert.lease_until = until
                    claims.append(
                        Claim(
                            id=alert.id,
                            key=alert.key,
                            rule=alert.rule,
                            channel=alert.channel,
                            attempts=alert.attempts,
                            next_attempt_at=alert.next_attempt_at,
                            lease_until=until,
                            view=view,
                        )
                    )
            others = session.execute(
                select(Alert.channel, func.count())
                .where(Alert.channel.not_in(names), *due)
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
        return claims, skipped

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
        now = self._now()
        attempts = claim.attempts + 1
        reason = result.reason.value if result.reason else None
        detail = result.detail
        if result.reason is FailureReason.GONE and isinstance(config, WebhookChannel):
            tag = endpoint_fingerprint(config.url)
            detail = f"{detail}; endpoint disabled [endpoint {tag}]"
        values: dict[str, object] = {"attempts": attempts, "lease_until": None}
        next_at: datetime | None = None
        if result.ok:
            values.update(status="delivered", delivered_at=now, last_error=None)
        elif result.retryable:
            next_at = now + self._backoff.delay(attempts, result.retry_after, self._rng)
            values.update(next_attempt_at=next_at, last_error=f"{reason}: {detail}")
        else:
            values.update(status="failed", last_error=f"{reason}: {detail}")
        with transaction(self._sessions) as session:
            session.add(
                DeliveryAttempt(
                    alert_id=claim.id,
                    at=now,
                    outcome=result.outcome,
                    reason=reason,
                    detail=detail[:2000],
                )
            )
            done = session.execute(
                update(Alert)
                .where(
                    Alert.id == claim.id,
                    Alert.status == "queued",
                    Alert.lease_until == claim.lease_until,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not getattr(done, "rowcount", 1):
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
        )

    def release(self, claim: Claim, not_before: datetime) -> None:
        """Give an untried claim back: lease cleared, attempts unchanged."""
        next_at = max(claim.next_attempt_at, not_before)
        with transaction(self._sessions) as session:
            session.execute(
                update(Alert)
                .where(Alert.id == claim.id, Alert.lease_until == claim.lease_until)
                .values(lease_until=None, next_attempt_at=next_at)
                .execution_options(synchronize_session=False)
            )
