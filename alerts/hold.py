"""Volume control as pure functions: when a queued alert may go out, and with what.

Three things hold an alert back (Alertmanager's ``group_interval`` and mute times, per
channel):

- its rule's **digest** (``digest: hourly|daily``): until the end of the period it was
  queued in — the top of the next hour, or the next midnight, in the channel's timezone;
- the channel's **quiet hours** (``quiet_hours: {from: "22:00", to: "07:00"}``, local
  time, may wrap midnight): until they end, unless the rule is ``urgent``;
- the channel's **cooldown** (``cooldown: 10m``): until that long after the channel's
  last delivered message, unless the rule is ``urgent``.

:func:`hold_until` answers "until when, and why" for one alert; :func:`plan` splits the
due, never-sent alerts of one channel into the held ones, the ones sent on their own
(urgent ones, and immediate ones when nothing asks for grouping — today's one message
per alert) and the one digest that carries everything else. The ledger does the
database work; nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from alerts.result import Reason

__all__ = [
    "HoldReason",
    "Pending",
    "Plan",
    "Volume",
    "digest_key",
    "hold_until",
    "in_quiet_hours",
    "period_bounds",
    "plan",
    "quiet_hours_end",
]

UTC = timezone.utc


class HoldReason(Reason):
    """Why an alert waits; the value is the last part of the ``alerts/held/...`` stats."""

    DIGEST = "digest"
    QUIET_HOURS = "quiet_hours"
    COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Volume:
    """A channel's volume settings: ``zone`` for quiet hours and digest periods,
    ``quiet`` as (from, to) local times or ``None``, ``cooldown`` or ``None``."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    quiet: tuple[time, time] | None = None
    cooldown: timedelta | None = None

    @classmethod
    def of(cls, channel: object) -> Volume:
        """The settings of a channel config (any object with the ``_Volume`` keys)."""
        quiet = getattr(channel, "quiet_hours", None)
        return cls(
            zone=getattr(channel, "zone", None) or ZoneInfo("UTC"),
            quiet=quiet.window if quiet is not None else None,
            cooldown=getattr(channel, "cooldown_delta", None),
        )

    @property
    def groups(self) -> bool:
        """Whether this channel ever holds alerts back (digests aside)."""
        return self.quiet is not None or self.cooldown is not None


def _local_midnight(day: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: where midnight repeats, the first one; where it does not exist (a DST jump
    # at 00:00), zoneinfo maps it to the moment of the jump — the day's real start.
    return datetime.combine(day.date(), time(0), tzinfo=zone).astimezone(UTC)


def period_bounds(mode: str, at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The digest period (start, end) in UTC that contains ``at`` for ``mode``.

    ``hourly``: the local clock hour; ``daily``: the local calendar day (midnight to
    midnight, 23 or 25 hours long on DST days); ``now``: the instant itself.

    >>> from zoneinfo import ZoneInfo
    >>> at = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # 23:30 in London (BST)
    >>> [t.isoformat() for t in period_bounds("daily", at, ZoneInfo("Europe/London"))]
    ['2026-06-30T23:00:00+00:00', '2026-07-01T23:00:00+00:00']
    """
    if mode == "hourly":
        local = at.astimezone(zone)
        start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        return start, start + timedelta(hours=1)
    if mode == "daily":
        local = at.astimezone(zone)
        return (
            _local_midnight(local, zone),
            _local_midnight(local + timedelta(days=1), zone),
        )
    return at, at


def in_quiet_hours(at: datetime, window: tuple[time, time], zone: ZoneInfo) -> bool:
    """Whether ``at`` falls in the local window [from, to), which may wrap midnight."""
    start, end = window
    now = at.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def quiet_hours_end(at: datetime, window: tuple[time, time], zone: ZoneInfo) -> datetime:
    """The first end of the quiet hours after ``at`` (UTC): the next local ``to`` time."""
    local = at.astimezone(zone)
    end = datetime.combine(local.date(), window[1], tzinfo=zone).astimezone(UTC)
    while end <= at:
        local += timedelta(days=1)
        end = datetime.combine(local.date(), window[1], tzinfo=zone).astimezone(UTC)
    return end


def hold_until(
    *,
    mode: str,
    urgent: bool,
    created_at: datetime,
    now: datetime,
    volume: Volume,
    last_sent: datetime | None,
) -> tuple[datetime, HoldReason] | None:
    """When an alert may go out and why it waits, or ``None`` when it may go now.

    The time returned is free of every hold at once (a digest period that ends inside the
    quiet hours waits for their end). ``last_sent`` is the channel's last delivered
    message (``None``: no cooldown applies).
    """
    at = now
    why: HoldReason | None = None
    for _ in range(4):  # each hold moves ``at`` forward; they settle in a few rounds
        moved = False
        if mode != "now":
            end = period_bounds(mode, created_at, volume.zone)[1]
            if at < end:
                at, why, moved = end, why or HoldReason.DIGEST, True
        if not urgent and volume.quiet and in_quiet_hours(at, volume.quiet, volume.zone):
            at, why, moved = (
                quiet_hours_end(at, volume.quiet, volume.zone),
                why or HoldReason.QUIET_HOURS,
                True,
            )
        if not urgent and volume.cooldown and last_sent is not None:
            free = last_sent + volume.cooldown
            if at < free:
                at, why, moved = free, why or HoldReason.COOLDOWN, True
        if not moved:
            break
    return (at, why) if why is not None and at > now else None


@dataclass(frozen=True)
class Pending:
    """A due alert of one channel that has never been put into a message."""

    id: int
    key: str
    mode: str
    urgent: bool
    created_at: datetime
    next_attempt_at: datetime

    @property
    def was_held(self) -> bool:
        """A fresh row is due at its creation; a later due time is a hold it sat out."""
        return self.next_attempt_at > self.created_at


@dataclass
class Plan:
    """What to do with one channel's fresh due alerts (see :func:`plan`)."""

    held: list[tuple[Pending, datetime, HoldReason]] = field(default_factory=list)
    singles: list[Pending] = field(default_factory=list)
    digest: list[Pending] = field(default_factory=list)


def plan(
    rows: Sequence[Pending], volume: Volume, last_sent: datetime | None, now: datetime
) -> Plan:
    """Split fresh due alerts into held, single messages and one digest.

    Urgent alerts are singles. The rest form one digest when any is a digest rule's, or
    when two or more are due and the channel asked for fewer messages (a cooldown) or
    they were held (quiet hours, a cooldown); one immediate alert alone is a single.
    Otherwise every alert is a single, as without volume control.
    """
    out = Plan()
    ready: list[Pending] = []
    for row in rows:
        held = hold_until(
            mode=row.mode,
            urgent=row.urgent,
            created_at=row.created_at,
            now=now,
            volume=volume,
            last_sent=last_sent,
        )
        if held is None:
            ready.append(row)
        else:
            out.held.append((row, *held))
    calm = [row for row in ready if not row.urgent]
    out.singles = [row for row in ready if row.urgent]
    grouped = any(row.mode != "now" for row in calm) or (
        len(calm) > 1 and (volume.cooldown is not None or any(row.was_held for row in calm))
    )
    if grouped:
        out.digest = calm
    else:
        out.singles.extend(calm)
        out.singles.sort(key=lambda row: (row.next_attempt_at, row.id))
    return out


def digest_key(channel: str, alert_keys: Iterable[str]) -> str:
    """The id of the digest carrying ``alert_keys`` on ``channel``: ``dig_`` + 32 hex.

    Derived from its contents, so the same batch has the same ``webhook-id`` /
    ``Message-ID`` on every attempt and after a crash.
    """
    text = "\x1f".join((channel, *sorted(alert_keys)))
    return "dig_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def digest_period(
    rows: Iterable[tuple[str, datetime]], zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The span a digest covers: from the start of the earliest period of its (mode,
    created_at) rows to the end of the latest (an immediate alert's period is its own
    creation time)."""
    bounds = [period_bounds(mode, created, zone) for mode, created in rows]
    return min(b[0] for b in bounds), max(b[1] for b in bounds)
