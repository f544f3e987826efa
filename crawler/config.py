"""YAML → typed, validated configuration: the only place that reads YAML.

``read_yaml`` parses safely (no Python tags, bounded size and alias expansion) and keeps
the line of every node, so that every mistake is reported as ``file:line: problem``.
``load_config`` turns ``wirewatch.yaml`` into a ``Config``: ``${NAME}`` is replaced from the
environment, relative paths resolve against the file's folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_YAML_NODES = 200_000

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
YamlPath = tuple[str | int, ...]
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class ConfigError(Exception):
    """A user mistake in a YAML file; ``str()`` is the one line to print."""

    def __init__(self, file: str | Path, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.file = str(file)
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}"


@dataclass
class YamlDoc:
    """Parsed YAML plus the 1-based line of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    # The source text of unquoted scalars YAML 1.1 turned into something other than text
    # (``NO`` → False, ``22:00`` → 1320), so strict keys can refuse or reread them.
    plain: dict[YamlPath, str] = field(default_factory=dict)

    def line(self, at: YamlPath) -> int | None:
        """The line of ``at``, or of its nearest ancestor that has one."""
        for end in range(len(at), -1, -1):
            found = self.lines.get(tuple(at[:end]))
            if found:
                return found
        return None

    def error(self, at: YamlPath, problem: str) -> ConfigError:
        return ConfigError(self.path, self.line(at), problem)


class _Reader:
    def __init__(self, path: Path, expand_env: bool) -> None:
        self.path = path
        self.expand_env = expand_env
        self.lines: dict[YamlPath, int] = {}
        self.plain: dict[YamlPath, str] = {}
        self.nodes = 0

    def build(self, node: yaml.Node, at: YamlPath, loader: yaml.SafeLoader) -> Any:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise ConfigError(
                self.path,
                node.start_mark.line + 1,
                f"too many YAML nodes (over {MAX_YAML_NODES}; an alias bomb?)",
            )
        self.lines.setdefault(at, node.start_mark.line + 1)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            raise ConfigError(
                self.path, node.start_mark.line + 1, f"tag {node.tag!r} is not allowed"
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConfigError(
                        self.path, key_node.start_mark.line + 1, "merge keys (<<) are not supported"
                    )
                key = loader.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int)):
                    raise ConfigError(
                        self.path,
                        key_node.start_mark.line + 1,
                        f"mapping keys must be text, not {key!r}",
                    )
                if key in out:
                    raise ConfigError(
                        self.path, key_node.start_mark.line + 1, f"duplicate key {key!r}"
                    )
                self.lines[(*at, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*at, key), loader)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*at, i), loader) for i, item in enumerate(node.value)]
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str) and self.expand_env:
            value = self._expand(value, node.start_mark.line + 1)
        elif not isinstance(value, str) and value is not None and node.style is None:
            self.plain[at] = str(node.value)
        return value

    def _expand(self, value: str, line: int) -> str:
        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(self.path, line, f"environment variable {name} is not set")
            return os.environ[name]

        return _ENV.sub(replace, value)


def read_yaml(path: str | Path, *, expand_env: bool = False) -> YamlDoc:
    """Parse one YAML file safely.  Raises ``ConfigError`` for anything wrong with it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(path, None, f"file too large ({len(raw)} bytes, limit {MAX_YAML_BYTES})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "not UTF-8 text") from None
    loader = yaml.SafeLoader(text)
    reader = _Reader(path, expand_env)
    try:
        node = loader.get_single_node()
        data = None if node is None else reader.build(node, (), loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"tag {exc.problem.split('tag ')[-1]} is not allowed"
        raise ConfigError(path, where, problem) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDoc(path=path, data=data, lines=reader.lines, plain=reader.plain)


# --- the wirewatch.yaml schema -------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Schedule(_Model):
    every: str | None = None  # "15m", "1h", "30s"
    cron: str | None = None
    timeout: str | None = None  # hard limit of one `wirewatch run` crawl, parsed like every

    @field_validator("every", "timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

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

    cooldown: str | None = None
    quiet_hours: QuietHours | None = None
    timezone: str = "UTC"

    @field_validator("cooldown")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

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


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``30s``, ``15m``, ``2h``, ``7d``, ``1w`` → timedelta; ValueError otherwise."""
    m = _DURATION.match(value)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 2h, 7d or 1w")
    return timedelta(**{_DURATION_UNITS[m.group(2)]: int(m.group(1))})


class DedupeConfig(_Model):
    """``dedupe:`` — how far back a story looks for the copies it joins (default 7 days)."""

    window: str = "7d"

    @field_validator("window")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

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


def _problem(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    if err["type"] == "union_tag_invalid":
        return (
            f"unknown type {err.get('input', {}).get('type')!r}"
            if isinstance(err.get("input"), dict)
            else msg
        )
    msg = msg.removeprefix("Value error, ")  # our own validators' messages stand alone
    return msg[0].lower() + msg[1:] if msg else "invalid value"


def validation_error(doc: YamlDoc, exc: ValidationError) -> ConfigError:
    """The first pydantic error as ``file:line: key: problem``."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not isinstance(p, str) or p in _keys_at(doc, err["loc"]))
    if err["type"] == "missing" and err["loc"] and isinstance(err["loc"][-1], str):
        loc = (*loc, err["loc"][-1])  # the key that is missing names the problem
    name = ".".join(str(p) for p in loc) or "top level"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "type")  # point at the `type:` line, not the entry's first line
    return doc.error(loc, f"{name}: {_problem(err)}")


def _keys_at(doc: YamlDoc, loc: tuple[Any, ...]) -> set[str]:
    # pydantic puts the discriminator value ("feed") into loc; keep only real keys.
    keys: set[str] = set()
    for path in doc.lines:
        keys.update(p for p in path if isinstance(p, str))
    return keys


def _resolve_sqlite(url: str, folder: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return prefix + str((folder / rest).resolve())
    return url


def _clock_times_as_text(doc: YamlDoc) -> None:
    """Give ``quiet_hours`` times back their text: YAML 1.1 reads an unquoted ``22:00`` as
    the base-60 number 1320, which no one meant."""
    channels = doc.data.get("channels") if isinstance(doc.data, dict) else None
    if not isinstance(channels, dict):
        return
    for name, channel in channels.items():
        quiet = channel.get("quiet_hours") if isinstance(channel, dict) else None
        if not isinstance(quiet, dict):
            continue
        for key in ("from", "to"):
            raw = doc.plain.get(("channels", name, "quiet_hours", key))
            if raw is not None and not isinstance(quiet.get(key), str):
                quiet[key] = raw


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file.

    Without ``path``: ``./wirewatch.yaml``, or the embedded default (``seeds/wirewatch.yaml``)
    when there is none, with its database in the current folder.
    """
    embedded = False
    if path is None:
        path = Path("wirewatch.yaml")
        if not path.exists():
            from seeds import EMBEDDED_CONFIG

            path, embedded = EMBEDDED_CONFIG, True
    doc = read_yaml(path, expand_env=True)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise doc.error((), "the top level must be a mapping of keys")
    _clock_times_as_text(doc)
    try:
        cfg = Config.model_validate({**doc.data, "path": None})
    except ValidationError as exc:
        raise validation_error(doc, exc) from None
    folder = doc.path.resolve().parent
    names = [s.name for s in cfg.sources]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise doc.error(("sources", i), f"duplicate source name {name!r}")
    channel = cfg.health.channel
    if channel is not None and channel not in cfg.channels:
        known = ", ".join(sorted(cfg.channels)) or "none"
        raise doc.error(
            ("health", "channel"), f"health.channel: unknown channel {channel!r} (known: {known})"
        )
    sources = [
        s.model_copy(update={"path": str(folder / s.path)}) if isinstance(s, FilesSource) else s
        for s in cfg.sources
    ]
    return cfg.model_copy(
        update={
            "path": doc.path.resolve(),
            "database": _resolve_sqlite(cfg.database, Path.cwd() if embedded else folder),
            "sources": sources,
            "watchlists": [str(folder / w) for w in cfg.watchlists],
        }
    )
