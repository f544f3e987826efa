"""Volume control as pure functions: digest periods, quiet hours, cooldowns, grouping."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from alerts.hold import (
    Pending,
    Volume,
    digest_key,
    digest_period,
    hold_until,
    in_quiet_hours,
    period_bounds,
    plan,
    quiet_hours_end,
)

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "at", "zone", "start", "end"),
    [
        ("hourly", utc(2026, 11, 23, 12, 5), UTC, utc(2026, 11, 23, 12), utc(2026, 11, 23, 13)),
        ("hourly", utc(2026, 11, 23, 12, 0), UTC, utc(2026, 11, 23, 12), utc(2026, 11, 23, 13)),
        # +05:30: the local hour starts at half past in UTC
        (
            "hourly",
            utc(2026, 11, 23, 12, 5),
            KOLKATA,
            utc(2026, 11, 23, 11, 30),
            utc(2026, 11, 23, 12, 30),
        ),
        ("daily", utc(2026, 11, 23, 12), UTC, utc(2026, 11, 23), utc(2026, 11, 24)),
        # New York in November is UTC-5: the local day runs 05:00 to 05:00 UTC
        ("daily", utc(2026, 11, 23, 12), NEW_YORK, utc(2026, 11, 23, 5), utc(2026, 11, 24, 5)),
        ("daily", utc(2026, 11, 23, 3), NEW_YORK, utc(2026, 11, 22, 5), utc(2026, 11, 23, 5)),
        # London summer time (BST, UTC+1): 23:30 local is still the same day
        ("daily", utc(2026, 7, 1, 22, 30), LONDON, utc(2026, 6, 30, 23), utc(2026, 7, 1, 23)),
        # the spring-forward day in London has 23 hours, the autumn one 25
        ("daily", utc(2026, 3, 29, 12), LONDON, utc(2026, 3, 29, 0), utc(2026, 3, 29, 23)),
        ("daily", utc(2026, 10, 25, 12), LONDON, utc(2026, 10, 24, 23), utc(2026, 10, 26, 0)),
        ("now", utc(2026, 11, 23, 12, 5), UTC, utc(2026, 11, 23, 12, 5), utc(2026, 11, 23, 12, 5)),
    ],
)
def test_period_bounds(
    mode: str, at: datetime, zone: ZoneInfo, start: datetime, end: datetime
) -> None:
    assert period_bounds(mode, at, zone) == (start, end)


NIGHT = (time(22, 0), time(7, 0))
LUNCH = (time(12, 0), time(13, 30))


@pytest.mark.parametrize(
    ("at", "window", "zone", "quiet"),
    [
        (utc(2026, 11, 23, 21, 59), NIGHT, UTC, False),
        (utc(2026, 11, 23, 22, 0), NIGHT, UTC, True),
        (utc(2026, 11, 23, 3, 0), NIGHT, UTC, True),
        (utc(2026, 11, 23, 6, 59), NIGHT, UTC, True),
        (utc(2026, 11, 23, 7, 0), NIGHT, UTC, False),
        (utc(2026, 11, 23, 12, 0), LUNCH, UTC, True),
        (utc(2026, 11, 23, 13, 30), LUNCH, UTC, False),
        (utc(2026, 11, 23, 11, 59), LUNCH, UTC, False),
        # 21:30 UTC is 22:30 in London in summer, 21:30 in winter
        (utc(2026, 7, 1, 21, 30), NIGHT, LONDON, True),
        (utc(2026, 11, 23, 21, 30), NIGHT, LONDON, False),
    ],
)
def test_in_quiet_hours(
    at: datetime, window: tuple[time, time], zone: ZoneInfo, quiet: bool
) -> None:
    assert in_quiet_hours(at, window, zone) is quiet


@pytest.mark.parametrize(
    ("at", "zone", "end"),
    [
        (utc(2026, 11, 23, 23, 0), UTC, utc(2026, 11, 24, 7)),
        (utc(2026, 11, 24, 3, 0), UTC, utc(2026, 11, 24, 7)),
        (utc(2026, 7, 1, 23, 0), LONDON, utc(2026, 7, 2, 6)),  # 07:00 BST
    ],
)
def test_quiet_hours_end(at: datetime, zone: ZoneInfo, end: datetime) -> None:
    assert quiet_hours_end(at, NIGHT, zone) == end


T = utc(2026, 11, 23, 12, 5)
QUIET = Volume(quiet=NIGHT)
COOL = Volume(cooldown=timedelta(minutes=10))


@pytest.mark.parametrize(
    ("mode", "urgent", "now", "volume", "last_sent", "expected"),
    [
        ("now", False, T, Volume(), None, None),
        ("hourly", False, T, Volume(), None, (utc(2026, 11, 23, 13), "digest")),
        ("hourly", False, utc(2026, 11, 23, 13), Volume(), None, None),
        ("daily", False, T, Volume(), None, (utc(2026, 11, 24), "digest")),
        # a daily digest that ends at midnight inside the quiet hours waits for 07:00
        ("daily", False, T, QUIET, None, (utc(2026, 11, 24, 7), "digest")),
        ("now", False, utc(2026, 11, 23, 23), QUIET, None, (utc(2026, 11, 24, 7), "quiet_hours")),
        ("now", True, utc(2026, 11, 23, 23), QUIET, None, None),
        ("now", False, T, COOL, utc(2026, 11, 23, 12), (utc(2026, 11, 23, 12, 10), "cooldown")),
        ("now", False, T, COOL, utc(2026, 11, 23, 11, 55), None),
        ("now", True, T, COOL, utc(2026, 11, 23, 12), None),
        ("now", False, T, COOL, None, None),
    ],
)
def test_hold_until(
    mode: str,
    urgent: bool,
    now: datetime,
    volume: Volume,
    last_sent: datetime | None,
    expected: tuple[datetime, str] | None,
) -> None:
    held = hold_until(
        mode=mode, urgent=urgent, created_at=T, now=now, volume=volume, last_sent=last_sent
    )
    assert held == expected


def pending(i: int, mode: str = "now", urgent: bool = False, held: bool = False) -> Pending:
    created = utc(2026, 11, 23, 11, 0) + timedelta(minutes=i)
    due = utc(2026, 11, 23, 12, 0) if held else created
    return Pending(i, f"msg_{i}", mode, urgent, created, due)


NOW = utc(2026, 11, 23, 12, 0)


@pytest.mark.parametrize(
    ("rows", "volume", "last_sent", "held", "singles", "digest"),
    [
        # no volume control: one message per alert, as always
        ([pending(1), pending(2), pending(3)], Volume(), None, [], [1, 2, 3], []),
        # released from a hold together: one digest; alone: a message of its own
        ([pending(1, held=True), pending(2, held=True)], QUIET, None, [], [], [1, 2]),
        ([pending(1, held=True)], QUIET, None, [], [1], []),
        # a cooldown channel sends what is due together as one message
        ([pending(1), pending(2)], COOL, None, [], [], [1, 2]),
        # digest rows always go as a digest, and take the other due alerts along
        ([pending(1, "hourly")], Volume(), None, [], [], [1]),
        ([pending(1, "hourly"), pending(2)], Volume(), None, [], [], [1, 2]),
        # urgent alerts go on their own, even beside a digest
        ([pending(1, "hourly"), pending(2, urgent=True)], Volume(), None, [], [2], [1]),
        # a cooldown still running holds the calm ones, not the urgent one
        (
            [pending(1), pending(2, urgent=True)],
            COOL,
            utc(2026, 11, 23, 11, 58),
            [1],
            [2],
            [],
        ),
    ],
)
def test_plan(
    rows: list[Pending],
    volume: Volume,
    last_sent: datetime | None,
    held: list[int],
    singles: list[int],
    digest: list[int],
) -> None:
    # pending() rows were created between 11:01 and 11:03: hourly periods ended at 12:00
    result = plan(rows, volume, last_sent, NOW)
    assert [row.id for row, _until, _why in result.held] == held
    assert [row.id for row in result.singles] == singles
    assert [row.id for row in result.digest] == digest


def test_digest_key_is_stable_and_order_free() -> None:
    key = digest_key("hook", ["msg_b", "msg_a"])
    assert key == digest_key("hook", ["msg_a", "msg_b"])
    assert key.startswith("dig_") and len(key) == 36
    assert key != digest_key("mail", ["msg_a", "msg_b"])
    assert key != digest_key("hook", ["msg_a"])


def test_digest_period_spans_the_periods_covered() -> None:
    rows = [("hourly", utc(2026, 11, 23, 10, 30)), ("hourly", utc(2026, 11, 23, 11, 10))]
    assert digest_period(rows, UTC) == (utc(2026, 11, 23, 10), utc(2026, 11, 23, 12))
    assert digest_period([("now", T)], UTC) == (T, T)
