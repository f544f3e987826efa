"""When sources run under ``wirewatch run``: triggers, hard timeouts, the start spread.

Pure functions of the configured sources (``every:``, ``cron:``, ``timeout:``); each
raises ``ConfigError`` (one printable line) for a value it cannot use, so that
:func:`check_config` can refuse a config before anything changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config, ConfigError, parse_duration

DEFAULT_EVERY = timedelta(minutes=15)
START_SPREAD = timedelta(minutes=15)  # the default interval


def trigger_for(source: Any) -> IntervalTrigger | CronTrigger:
    """The APScheduler trigger of a configured source; ``ConfigError`` when it is invalid."""
    if source.cron:
        try:
            return CronTrigger.from_crontab(source.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError("config", None, f"source {source.name}: cron: {exc}") from None
    try:
        every = parse_duration(source.every) if source.every else DEFAULT_EVERY
    except ValueError as exc:
        raise ConfigError("config", None, f"source {source.name}: every: {exc}") from None
    return IntervalTrigger(seconds=every.total_seconds(), timezone="UTC")


def timeout_for(source: Any) -> float:
    """Seconds one crawl of ``source`` may take: its ``timeout:``, else its interval
    (at least a minute, at most an hour), else an hour for cron sources."""
    if getattr(source, "timeout", None):
        try:
            return parse_duration(source.timeout).total_seconds()
        except ValueError as exc:
            raise ConfigError("config", None, f"source {source.name}: timeout: {exc}") from None
    trigger = trigger_for(source)
    if isinstance(trigger, IntervalTrigger):
        return min(max(trigger.interval.total_seconds(), 60.0), 3600.0)
    return 3600.0


def check_config(config: Config) -> None:
    """Everything ``run`` needs from a config, checked up front: schedules, timeouts and
    the watchlists.  Raises ``ConfigError`` (one printable line)."""
    from pipelines.rules import load_watchlists

    for source in config.sources:
        trigger_for(source)
        timeout_for(source)
    load_watchlists(config.watchlists, channels=set(config.channels))


def spread(trigger: IntervalTrigger | CronTrigger, i: int, n: int) -> timedelta:
    """When source ``i`` of ``n`` first runs after a start: at ``i/n`` of
    ``min(interval, START_SPREAD)``, so a restart with 200 sources does not fork 200
    crawls in one second, and one source still starts at once."""
    window = START_SPREAD
    if isinstance(trigger, IntervalTrigger):
        window = min(window, trigger.interval)
    return window * i / n if n else timedelta(0)


def files_fingerprint(config: Config) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of the config file and every watchlist; -1 when missing."""
    paths: Iterable[Any] = [config.path, *config.watchlists] if config.path else []
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


def default_concurrency() -> int:
    """``WIREWATCH_CONCURRENCY`` if set, else the CPU count: each crawl child is a Python
    with Scrapy loaded (~2 s of CPU to start), so more would only queue on the cores."""
    value = os.environ.get("WIREWATCH_CONCURRENCY", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError("WIREWATCH_CONCURRENCY", None, f"{value!r} is not a positive number")
        return int(value)
    return max(1, os.cpu_count() or 1)
