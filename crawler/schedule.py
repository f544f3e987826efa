"""``wirewatch run``: every source on its own schedule, delivery in between, until stopped.

Why a subprocess per crawl: the Twisted reactor under Scrapy cannot be restarted in a
process, and a crawl that hangs must be killable.  Each due source runs as
``python -m crawler -c CONFIG crawl --source NAME --no-deliver`` with a hard timeout; the
scheduler process itself only triggers crawls and delivers the outbox.

APScheduler 3.x, with the defaults changed where crawls need it: ``max_instances=1`` (no two
runs of one source at once; a run longer than its interval makes APScheduler skip the next
with a logged warning), ``coalesce=True`` (after downtime one catch-up run, not a burst) and
a ``misfire_grace_time`` of an hour instead of one second.
"""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config, ConfigError, load_config

log = logging.getLogger(__name__)

DEFAULT_EVERY = timedelta(minutes=15)
DELIVER_EVERY = timedelta(seconds=30)
HEARTBEAT_EVERY = timedelta(minutes=5)
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_every(value: str) -> timedelta:
    """``30s``, ``15m``, ``2h``, ``1d`` → timedelta; ValueError otherwise."""
    m = _DURATION.match(value)
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"every: {value!r} is not a duration such as 30s, 15m, 2h or 1d")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def trigger_for(source: Any) -> IntervalTrigger | CronTrigger:
    if source.cron:
        try:
            return CronTrigger.from_crontab(source.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError("config", None, f"source {source.name}: cron: {exc}") from None
    try:
        every = parse_every(source.every) if source.every else DEFAULT_EVERY
    except ValueError as exc:
        raise ConfigError("config", None, f"source {source.name}: {exc}") from None
    return IntervalTrigger(seconds=every.total_seconds(), timezone="UTC")


def crawl_source(config: Config, name: str, timeout: float) -> None:
    """One crawl of one source, in a child process that is killed after ``timeout``."""
    cmd = [
        sys.executable,
        "-m",
        "crawler",
        "-c",
        str(config.path),
        "crawl",
        "--source",
        name,
        "--no-deliver",
    ]
    try:
        done = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, check=False)
    except subprocess.TimeoutExpired:
        log.warning("source %s: crawl killed after %.0f s", name, timeout)
        return
    summary = done.stdout.strip().splitlines()
    if done.returncode != 0:
        log.error(
            "source %s: crawl failed (exit %d): %s",
            name,
            done.returncode,
            done.stderr.strip().splitlines()[-1:] or "",
        )
    elif summary:
        log.info("%s", summary[0])


def run(config: Config) -> int:
    """Schedule every source and the delivery loop; return on SIGINT/SIGTERM."""
    from alerts.dispatch import Dispatcher
    from crawler.app import App

    app = App.open(config)
    app.rules  # noqa: B018 - a broken watchlist is reported before the first crawl
    scheduler = BlockingScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    state = {"dispatcher": Dispatcher(app.sessions, config.channels)}
    dispatch_lock = threading.Lock()

    def deliver() -> None:
        with dispatch_lock:
            summary = state["dispatcher"].deliver_due()
        if summary.delivered or summary.failed or summary.retrying:
            log.info(
                "delivery: %d delivered, %d to retry, %d failed",
                summary.delivered,
                summary.retrying,
                summary.failed,
            )

    def schedule_sources(cfg: Config) -> None:
        for job in scheduler.get_jobs():
            if job.id.startswith("source:"):
                job.remove()
        for source in cfg.sources:
            trigger = trigger_for(source)
            timeout = _timeout_for(trigger)
            scheduler.add_job(
                _crawl_then_deliver,
                trigger,
                args=[cfg, source.name, timeout, deliver],
                id=f"source:{source.name}",
                name=source.name,
                next_run_time=_now(),
            )

    def reload(*_: Any) -> None:
        try:
            fresh = load_config(config.path)
            trigger_check = [trigger_for(s) for s in fresh.sources]
            del trigger_check
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return
        with dispatch_lock:
            state["dispatcher"].close()
            state["dispatcher"] = Dispatcher(app.sessions, fresh.channels)
        schedule_sources(fresh)
        print(f"wirewatch: reloaded {config.path}", file=sys.stderr, flush=True)

    def stop(*_: Any) -> None:
        print("wirewatch: stopping after the running crawls…", file=sys.stderr, flush=True)
        state["dispatcher"].stop()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    def heartbeat() -> None:
        jobs = [j for j in scheduler.get_jobs() if j.id.startswith("source:")]
        print(f"wirewatch: alive, {len(jobs)} sources scheduled", file=sys.stderr, flush=True)

    schedule_sources(config)
    scheduler.add_job(
        deliver,
        IntervalTrigger(seconds=DELIVER_EVERY.total_seconds()),
        id="deliver",
        name="deliver",
    )
    scheduler.add_job(
        heartbeat,
        IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
        id="heartbeat",
        name="heartbeat",
    )
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload)
    print(
        f"wirewatch: running {len(config.sources)} sources; Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    scheduler.start()
    state["dispatcher"].close()
    return 0


def _crawl_then_deliver(config: Config, name: str, timeout: float, deliver: Any) -> None:
    crawl_source(config, name, timeout)
    deliver()


def _timeout_for(trigger: IntervalTrigger | CronTrigger) -> float:
    # A crawl may take at most its interval (at least a minute, at most an hour).
    if isinstance(trigger, IntervalTrigger):
        return min(max(trigger.interval.total_seconds(), 60.0), 3600.0)
    return 3600.0


def _now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
