"""``wirewatch``: the command line.

Every error a user can cause (bad YAML, unknown source or channel, unreachable database)
is printed as one line on stderr with exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from crawler.config import Config, ConfigError, load_config, parse_duration
from crawler.db import DatabaseError

log = logging.getLogger("wirewatch")


class OneLineFormatter(logging.Formatter):
    """Log records without their tracebacks: a source that is down is one line, not fifty
    (``-v`` shows them)."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.exc_info = record.exc_text = record.stack_info = None
        return super().format(record)


class UsageError(Exception):
    """A mistake on the command line; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Scrapy resets the root logger's level; the handler's level keeps its output quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
        if not args.verbose:
            handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    try:
        return int(args.func(args) or 0)
    except (ConfigError, DatabaseError, UsageError) as exc:
        print(f"wirewatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wirewatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `wirewatch stories | head`
        sys.stderr.close()
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch", description="Monitor Arabic news wires and alert on watch rules."
    )
    parser.add_argument("-c", "--config", type=Path, help="config file (default: ./wirewatch.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what Scrapy does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crawl", help="crawl every (or the named) source once, then deliver")
    p.add_argument("--source", action="append", default=[], metavar="NAME")
    p.add_argument("--no-deliver", action="store_true", help=argparse.SUPPRESS)
    # `wirewatch run`'s children: end with the scheduler that started them (its pid).
    p.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("run", help="crawl every source on its schedule until stopped")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("deliver", help="retry queued alerts now")
    p.set_defaults(func=cmd_deliver)

    p = sub.add_parser("status", help="sources, their last and next runs, health, outbox")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("stories", help="list stored stories")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rule", help="only stories this rule matched")
    p.add_argument("--since", help="ISO date/time, or an age such as 24h or 7d")
    p.add_argument("--limit", type=int, default=None)
    p.set_defaults(func=cmd_stories)

    p = sub.add_parser("alerts", help="the alert log")
    p.add_argument("--json", action="store_true")
    p.add_argument("--status", choices=["queued", "delivered", "failed"])
    p.set_defaults(func=cmd_alerts)

    rules = sub.add_parser("rules", help="check or try watchlists")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")
    p = rsub.add_parser("check", help="validate a watchlist")
    p.add_argument("watchlist", type=Path)
    p.set_defaults(func=cmd_rules_check)
    p = rsub.add_parser("test", help="run a watchlist over text files")
    p.add_argument("watchlist", type=Path)
    p.add_argument("files", type=Path, nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_test)
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _app(args: argparse.Namespace) -> Any:
    from crawler.app import App

    return App.open(_config(args))


# --- crawl / deliver ---------------------------------------------------------------------


def cmd_crawl(args: argparse.Namespace) -> int:
    if args.parent is not None:
        from crawler.child import ParentGone, die_with_parent

        try:
            die_with_parent(args.parent)
        except ParentGone as exc:
            print(f"wirewatch: {exc}", file=sys.stderr)
            return 3
    from crawler.runner import crawl

    app = _app(args)
    config = app.config
    sources = [config.source(name) for name in args.source] if args.source else config.sources
    if not sources:
        raise UsageError(f"{config.path}: no sources configured")
    app.rules  # noqa: B018 - a broken watchlist is reported before anything is fetched
    started = datetime.now(timezone.utc)
    reports = crawl(config, sources, {"LOG_LEVEL": "INFO" if args.verbose else "WARNING"})
    _record_health(app, reports, started, console=not args.no_deliver)
    summary = None if args.no_deliver else _dispatcher(app).deliver_due()
    for report in reports:
        print(
            f"{report.name}: {report.get('response_received_count')} pages, "
            f"{report.get('store/stored')} new stories "
            f"({report.get('dedupe/near_duplicate')} near-duplicates), "
            f"{report.get('seen/skipped')} already seen, "
            f"{report.get('alerts/queued')} alerts queued, {report.errors} errors"
            + (f" ({report.error})" if report.error else "")
        )
    total = sum(r.get("store/stored") for r in reports)
    queued = sum(r.get("alerts/queued") for r in reports)
    line = f"crawl done: {len(reports)} sources, {total} new stories, {queued} alerts queued"
    if summary is not None:
        line += (
            f"; delivery: {summary.delivered} delivered, {summary.retrying} to retry, "
            f"{summary.failed} failed"
        )
    print(line)
    return 0


def _record_health(app: Any, reports: list[Any], started: datetime, *, console: bool) -> None:
    """Store one ``source_runs`` row per report, queue ops notices for sources that broke
    or recovered, and send the due notices — also under ``--no-deliver`` (the scheduler's
    children: it delivers news alerts only), except on a console channel there, whose
    output the scheduler captures; those wait for the next ``crawl`` or ``deliver``."""
    from alerts.ops import deliver_notices
    from crawler.config import ConsoleChannel
    from crawler.health import HealthPolicy, run_from_report
    from crawler.health_record import record_runs

    finished = datetime.now(timezone.utc)
    runs = [run_from_report(report, started, finished) for report in reports]
    record_runs(app.sessions, runs, policy=HealthPolicy.from_config(app.config))
    channel = app.config.channels.get(app.config.health.channel or "")
    if console or not isinstance(channel, ConsoleChannel):
        deliver_notices(app.sessions, app.config)


def _dispatcher(app: Any) -> Any:
    from alerts.dispatch import Dispatcher

    return Dispatcher(app.sessions, app.config.channels)


def cmd_deliver(args: argparse.Namespace) -> int:
    from alerts.ops import deliver_notices

    app = _app(args)
    summary = _dispatcher(app).deliver_due()
    ops = deliver_notices(app.sessions, app.config)
    print(
        f"delivery: {summary.delivered} delivered, {summary.retrying} to retry, "
        f"{summary.failed} failed"
        + (
            f"; ops notices: {ops.delivered} delivered, {ops.retrying} to retry, "
            f"{ops.failed} failed"
            if ops.delivered or ops.retrying or ops.failed
            else ""
        )
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from crawler.schedule import run

    return run(_config(args))


# --- stories / alerts -----------------------------------------------------------------------


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``24h``/``7d``/``30m`` ago, or an ISO 8601 date/time (UTC when no offset)."""
    now = now or datetime.now(timezone.utc)
    with contextlib.suppress(ValueError):
        return now - parse_duration(value.strip().lower())
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use an ISO date such as 2024-11-01, or 24h/7d"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def cmd_stories(args: argparse.Namespace) -> int:
    from crawler.listing import list_stories

    app = _app(args)
    since = parse_since(args.since) if args.since else None
    rows = list_stories(app.sessions, rule=args.rule, since=since, limit=args.limit)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        when = r.published.date().isoformat() if r.published else "----------"
        print(f"{when}  {r.agency or '-':<8} {r.title}\n            {r.url}")
        if r.cluster_size > 1:
            seen = r.cluster_first_seen.strftime("%Y-%m-%d %H:%M") if r.cluster_first_seen else "?"
            agencies = ", ".join(r.cluster_agencies) or "-"
            print(
                f"            cluster {r.cluster}: {r.cluster_size} copies since {seen} UTC "
                f"({agencies})"
            )
    print(f"{len(rows)} stories", file=sys.stderr)
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from crawler.listing import list_alerts

    app = _app(args)
    rows = list_alerts(app.sessions, status=args.status)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        error = f"  ({r.last_error})" if r.last_error and r.status != "delivered" else ""
        print(f"{r.status:<9} {r.attempts}x  {r.rule} → {r.channel}  {r.story}{error}")
    print(f"{len(rows)} alerts", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.status import build_status

    app = _app(args)
    now = datetime.now(timezone.utc)
    status = build_status(app.sessions, app.config, now)
    if args.json:
        print(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
        return 0
    for s in status.sources:
        last = (
            f"last run {_when(s.last_run)} {s.last_outcome}, "
            f"{s.items_found} items found, {s.stored} stored"
            if s.last_run
            else "never run"
        )
        health = s.health + (
            f" ({s.consecutive_failures} failures in a row)" if s.consecutive_failures else ""
        )
        print(f"{s.name} [{s.type}, {s.schedule}]: {health}; {last}; next {_when(s.next_run)}")
        if s.health_reason and s.health != "ok":
            print(f"    {s.health_reason}")
    alerts = status.alerts
    waiting = alerts.get("waiting", 0)
    held = f" ({waiting} waiting, next due {_when(status.next_due)})" if waiting else ""
    print(
        f"alerts: {alerts.get('queued', 0)} queued{held}, {alerts.get('failed', 0)} failed, "
        f"{alerts.get('delivered', 0)} delivered"
    )
    for name in status.disabled:
        print(f"channel {name} disabled: its URL answered 410 Gone (a new URL enables it again)")
    where = f"channel {status.channel}" if status.channel else "no health.channel: not sent"
    print(f"ops notices pending: {len(status.notices)} ({where})")
    for n in status.notices:
        error = f" — {n.last_error}" if n.last_error else ""
        print(f"    {n.status:<7} {n.attempts}x  {n.source} {n.kind}: {n.reason}{error}")
    return 0


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


# --- rules ----------------------------------------------------------------------------------


def _known_channels(args: argparse.Namespace) -> set[str] | None:
    if args.config is None and not Path("wirewatch.yaml").exists():
        return None
    return set(_config(args).channels)


def cmd_rules_check(args: argparse.Namespace) -> int:
    from pipelines.rules import check_watchlist

    found = check_watchlist(args.watchlist, channels=_known_channels(args))
    for problem in found:
        print(problem, file=sys.stderr)
    # A warning (a likely typo that still loads) is shown but does not fail the check.
    if any(not p.problem.startswith("warning:") for p in found):
        return 1
    rules = _rule_count(args.watchlist)
    print(f"{args.watchlist}: ok ({rules} rules)")
    return 0


def _rule_count(path: Path) -> int:
    from pipelines.rules import load_watchlists

    return len(load_watchlists([path]).rules)


def cmd_rules_test(args: argparse.Namespace) -> int:
    from crawler.textstory import matched_body, parse_text_story
    from pipelines.rules import load_watchlists

    ruleset = load_watchlists([args.watchlist])
    results: list[dict[str, Any]] = []
    for path in args.files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
        story = parse_text_story(text)
        for match in ruleset.match(story.title, matched_body(story.body, story.dateline)):
            results.append(
                {
                    "file": str(path),
                    "rule": match.rule,
                    "evidence": [e.to_json() for e in match.evidence],
                }
            )
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            terms = ", ".join(
                f"{e['term']}={'/'.join(e['forms'])}" for e in r["evidence"] if e["forms"]
            )
            print(f"{r['file']}: {r['rule']}  {terms}")
        print(f"{len(results)} match{'' if len(results) == 1 else 'es'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
