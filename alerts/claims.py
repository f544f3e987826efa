"""Claiming one channel's due alerts as messages: singles, digests and re-sends.

Runs inside :meth:`alerts.ledger.Ledger.claim`'s transaction, on rows locked with
``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises claimers).

A due row is one of two kinds:

- **already put into a message** (``batch_key`` set; it was claimed before and may have
  been sent): it is claimed again as that same message — with every other queued row of
  the same ``batch_key`` — and re-sent with the same key, never re-split or regrouped. Only
  the quiet hours hold it back (a re-send is not a new message, so no cooldown);
- **fresh** (never claimed): :func:`alerts.hold.plan` holds it (its ``next_attempt_at``
  moves to the end of the hold, attempts unchanged), sends it on its own, or puts it into
  the channel's one digest of this round. The chosen rows get their ``batch_key`` — their
  own key, or the digest's ``dig_...`` key — in this same transaction, before any send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from alerts.hold import (
    HoldReason,
    Pending,
    Volume,
    digest_key,
    digest_period,
    hold_until,
    plan,
)
from alerts.messages import DigestView
from alerts.render import AlertView, Message, build_view
from crawler.models import Alert

__all__ = ["Claim", "claim_channel", "due_filter"]


@dataclass(frozen=True)
class Claim:
    """A message this worker holds until ``lease_until``: one alert, or a digest of
    several (``ids``: every row it carries; ``id`` the first). ``key`` is the message id
    (``webhook-id`` / ``Message-ID``); ``rule`` names its rule(s)."""

    id: int
    key: str
    rule: str
    channel: str
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime
    view: Message
    ids: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        """How many alert rows this message carries."""
        return len(self.ids) or 1

    @property
    def rows(self) -> tuple[int, ...]:
        return self.ids or (self.id,)


def due_filter(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clauses of a row that may be claimed now."""
    return (
        Alert.status == "queued",
        Alert.next_attempt_at <= now,
        or_(Alert.lease_until.is_(None), Alert.lease_until < now),
    )


Fail = Callable[[Session, Alert, datetime, str], None]


def claim_channel(
    session: Session,
    name: str,
    *,
    now: datetime,
    until: datetime,
    limit: int,
    volume: Volume,
    fail: Fail,
) -> tuple[list[Claim], Counter[HoldReason]]:
    """Claim up to ``limit`` due rows of channel ``name`` (oldest due first) as messages.

    Returns the claims in due order and the held rows counted by reason (``digest``,
    ``quiet_hours``, ``cooldown``). ``fail`` marks a row whose story is gone as failed.
    """
    rows = session.scalars(
        select(Alert)
        .where(Alert.channel == name, *due_filter(now))
        .order_by(Alert.next_attempt_at, Alert.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claims: list[Claim] = []
    held: Counter[HoldReason] = Counter()
    batches: dict[str, list[Alert]] = {}
    fresh: list[Alert] = []
    for row in rows:
        if row.batch_key is None:
            fresh.append(row)
        else:
            batches.setdefault(row.batch_key, []).append(row)
    for key, members in batches.items():
        # Already a message (maybe sent): again as it was. Only quiet hours hold it back;
        # a re-send is not a new message, so no cooldown (last_sent=None).
        members = _complete(session, key, members, now)
        urgent = all(m.urgent for m in members)
        hold = hold_until(
            mode="now",
            urgent=urgent,
            created_at=members[0].created_at,
            now=now,
            volume=volume,
            last_sent=None,
        )
        if hold is not None:
            for member in members:
                member.next_attempt_at = hold[0]
            held[hold[1]] += len(members)
            continue
        claim = _claim(session, key, members, now, until, volume, fail)
        if claim is not None:
            claims.append(claim)
    if fresh:
        last_sent = None
        if volume.cooldown is not None:
            last_sent = session.scalar(
                select(func.max(Alert.delivered_at)).where(
                    Alert.channel == name, Alert.status == "delivered"
                )
            )
        by_id = {row.id: row for row in fresh}
        pending = [
            Pending(r.id, r.key, r.mode, r.urgent, r.created_at, r.next_attempt_at) for r in fresh
        ]
        decided = plan(pending, volume, last_sent, now)
        for item, release, why in decided.held:
            by_id[item.id].next_attempt_at = release
            held[why] += 1
        for item in decided.singles:
            row = by_id[item.id]
            claim = _claim(session, row.key, [row], now, until, volume, fail)
            if claim is not None:
                claims.append(claim)
        if decided.digest:
            members = [by_id[item.id] for item in decided.digest]
            key = digest_key(name, [m.key for m in members])
            claim = _claim(session, key, members, now, until, volume, fail)
            if claim is not None:
                claims.append(claim)
    claims.sort(key=lambda c: (c.next_attempt_at, c.id))
    return claims, held


def _complete(session: Session, key: str, members: list[Alert], now: datetime) -> list[Alert]:
    """All claimable rows of message ``key``: ``members`` plus any the row limit left out."""
    if not key.startswith("dig_"):
        return members
    known = [m.id for m in members]
    more = session.scalars(
        select(Alert)
        .where(Alert.batch_key == key, Alert.id.not_in(known), *due_filter(now))
        .with_for_update(skip_locked=True)
    ).all()
    return sorted([*members, *more], key=lambda m: m.id)


def _claim(
    session: Session,
    key: str,
    members: Sequence[Alert],
    now: datetime,
    until: datetime,
    volume: Volume,
    fail: Fail,
) -> Claim | None:
    """Lease ``members`` as message ``key`` and read what its sender needs; rows whose
    story is gone are failed (reason ``render``) and left out."""
    views: list[tuple[Alert, AlertView]] = []
    for member in sorted(members, key=lambda m: m.id):
        try:
            views.append((member, build_view(session, member)))
        except LookupError as exc:
            fail(session, member, now, str(exc))
    if not views:
        return None
    for member, _view in views:
        member.batch_key = key
        member.lease_until = until
    first = views[0][0]
    message: Message
    if key.startswith("dig_"):
        start, end = digest_period(((m.mode, m.created_at) for m, _ in views), volume.zone)
        newest = max(m.created_at for m, _ in views)
        message = DigestView(
            key=key,
            channel=first.channel,
            alerts=tuple(view for _, view in views),
            period_start=start.isoformat(),
            period_end=end.isoformat(),
            created_at=newest.isoformat(),
        )
    else:
        message = views[0][1]
    return Claim(
        id=first.id,
        key=key,
        rule=message.rule,
        channel=first.channel,
        attempts=max(m.attempts for m, _ in views),
        next_attempt_at=min(m.next_attempt_at for m, _ in views),
        lease_until=until,
        view=message,
        ids=tuple(m.id for m, _ in views),
    )
