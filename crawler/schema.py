"""The shape of ``wirewatch.yaml``: sources, channels, health and dedupe (pydantic).

Every model forbids unknown keys and is frozen; validators raise ``ValueError`` with the
message a user reads after ``file:line: key:`` (see ``crawler.yamlfile.validation_error``).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from crawler.yamlfile import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``30s``, ``15m``, ``2h``, ``7d``, ``1w`` → timedelta; ValueError otherwise."""
    m = _DURATION.match(value)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 2h, 7d or 1w")
    return timedelta(**{_DURATION_UNITS[m.group(2)]: int(m.group(1))})


def _duration(value: str) -> str:
    parse_duration(value)
    return value


# A duration as written in wirewatch.yaml («15m»), checked when the file is read.
Duration = Annotated[str, AfterValidator(_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Schedule(_Model):
    every: Duration | None = None  # "15m", "1h", "30s"
    cron: str | None = None
    timeout: Duration | None = None  # hard limit of one `wirewatch run` crawl, parsed like every

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(value, timezone="UTC")
        return value


class FilesSource(_Schedule):
    type: Literal["files"]
    name: str
    path: str  # glob; made absolute by load_config


class FeedSource(_Schedule):
    type: Literal["feed"]
    name: str
    url: str
    allow_hosts: list[str] = []  # other hosts whose article links may be followed
    encoding: str | None = None  # override when a site lies about its charset


class SitemapSource(_Schedule):
    type: Literal["sitemap"]
    name: str
    url: str
    allow_hosts: list[str] = []
    encoding: str | None = None


Source = Annotated[FilesSource | FeedSource | SitemapSource, Field(discriminator="type")]


_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_clock(value: str) -> time:
    """``"22:00"`` → ``time(22, 0)``; ValueError unless it is ``HH:MM`` on a 24-hour clock."""
    m = _CLOCK_TIME.match(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a time of day such as 07:00 or 22:30 (HH:MM)")
    return time(int(m.group(1)), int(m.group(2)))


class QuietHours(_Model):
    """``quiet_hours: {from: "22:00", to: "07:00"}`` — local times; ``from`` after ``to``
    wraps midnight. ``from`` is inclusive, ``to`` exclusive."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if parse_clock(self.start) == parse_clock(self.end):
            raise ValueError("from and to are the same time: quiet hours would be empty")
        return self

    @property
    def window(self) -> tuple[time, time]:
        return parse_clock(self.start), parse_clock(self.end)


class _Volume(_Model):
    """Volume control, the same keys on every channel type (see :mod:`alerts.hold`).

    ``cooldown``: the least time between two messages on the channel (a duration such as
    ``10m``); ``quiet_hours``: when only ``urgent`` rules' alerts go out; ``timezone``: a
    zoneinfo name (default UTC) for the quiet hours and for aligning digest periods.
    """

    cooldown: Duration | None = None
    quiet_hours: QuietHours | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone_of(value)
        return value

    @property
    def cooldown_delta(self) -> timedelta | None:
        return parse_duration(self.cooldown) if self.cooldown else None

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.timezone)


def zone_of(name: str) -> ZoneInfo:
    """The zoneinfo zone ``name`` (``Europe/London``); ValueError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (use a zoneinfo name such as UTC or Europe/London)"
        ) from None


class ConsoleChannel(_Volume):
    type: Literal["console"]


class EmailChannel(_Volume):
    type: Literal["email"]
    host: str
    port: int = 25
    sender: str
    to: list[str]
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @field_validator("to")
    @classmethod
    def _some_recipient(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one recipient")
        return value


class WebhookChannel(_Volume):
    type: Literal["webhook"]
    url: str
    secret: SecretStr
    timeout: float = 10.0


Channel = Annotated[ConsoleChannel | EmailChannel | WebhookChannel, Field(discriminator="type")]


class HealthConfig(_Model):
    """``health:`` — when a source counts as broken and where ops notices go.

    ``channel``: a configured channel name (unset: notices are recorded, not sent);
    ``failures``: failed runs in a row that make a source broken; ``empty_after``: a run
    that finds no item after this many runs that each found some makes it broken too.
    """

    channel: str | None = None
    failures: int = Field(default=3, ge=1)
    empty_after: int = Field(default=3, ge=1)


class DedupeConfig(_Model):
    """``dedupe:`` — how far back a story looks for the copies it joins (default 7 days)."""

    window: Duration = "7d"

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)


class Config(_Model):
    database: str = "sqlite:///wirewatch.db"
    dedupe: DedupeConfig = DedupeConfig()
    sources: list[Source] = []
    watchlists: list[str] = []
    channels: dict[str, Channel] = {}
    health: HealthConfig = HealthConfig()
    path: Path | None = None  # the file this came from

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def source(self, name: str) -> FilesSource | FeedSource | SitemapSource:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(self.path or "config", None, f"unknown source {name!r} (known: {known})")
