"""YAML → typed, validated configuration: ``load_config`` reads ``wirewatch.yaml``.

The file is parsed by ``crawler.yamlfile`` (safe, with lines) and validated against
``crawler.schema``; ``${NAME}`` is replaced from the environment, relative paths resolve
against the file's folder, and every mistake is one ``file:line: key: problem`` line.
The names of both modules are exported from here as well: this is the configuration's
front door.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from crawler.schema import (
    Config,
    ConsoleChannel,
    DedupeConfig,
    EmailChannel,
    FeedSource,
    FilesSource,
    HealthConfig,
    QuietHours,
    SitemapSource,
    WebhookChannel,
    parse_clock,
    parse_duration,
    zone_of,
)
from crawler.yamlfile import ConfigError, YamlDoc, read_yaml, validation_error

__all__ = [
    "Config",
    "ConfigError",
    "ConsoleChannel",
    "DedupeConfig",
    "EmailChannel",
    "FeedSource",
    "FilesSource",
    "HealthConfig",
    "QuietHours",
    "SitemapSource",
    "WebhookChannel",
    "YamlDoc",
    "load_config",
    "parse_clock",
    "parse_duration",
    "read_yaml",
    "validation_error",
    "zone_of",
]


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
