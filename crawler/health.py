"""Source health: what one crawl of a source came to, and when a source counts as broken.

``wirewatch crawl`` (and so every crawl ``wirewatch run`` starts) turns each
:class:`~crawler.runner.SourceReport` into a :class:`SourceRun` (:func:`run_from_report`)
and stores it with :func:`crawler.health_record.record_runs`, which also decides whether
the source changed state and, if so, queues one ops notice (:mod:`alerts.ops` sends it).

A run **fails** when the crawl itself broke (``report.error``), or when it found no item
and the source's own documents could not be had: an HTTP error, no answer, a malformed
feed or sitemap, nothing fetched at all, no file matching. A feed that answers with its
items while a few article pages 404 is a run that worked (the errors are counted in
``http_errors``).

A source is **broken** (:func:`broken_reason`) when

- its last ``failures`` runs (``health.failures``, default 3) all failed, or
- it suddenly yields nothing: its last run worked but found no item while each of the
  ``empty_after`` runs before it (default 3) found some.

It **recovers** on the first run after that which works and finds items. Each change
of state (ok → broken, broken → recovered) queues exactly one notice: the state lives in
the database as the kind of the source's latest notice, so the same state never notifies
twice, across processes and restarts.

The rules (:func:`broken_reason`, :func:`transition`, :func:`assess`) are pure functions
of a list of runs, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Health",
    "HealthPolicy",
    "SourceRun",
    "Transition",
    "assess",
    "broken_reason",
    "consecutive_failures",
    "one_line_error",
    "redact",
    "run_from_report",
    "transition",
]

Outcome = Literal["ok", "failed"]
MAX_ERROR = 300

_ITEM_KEYS = ("feed/items", "sitemap/items", "files/items")
_STATUS = "downloader/response_status_count/"
_ROBOTS_STATUS = "robotstxt/response_status_count/"
_EXCEPTION = "downloader/exception_type_count/"
# Credentials in URLs: user:password@ and query values whose name says secret.
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"([?&][^=&\s]*(?:key|token|secret|pass|sig|auth|session)[^=&\s]*=)[^&\s]*", re.IGNORECASE
)


@dataclass(frozen=True)
class HealthPolicy:
    """The thresholds of the rules (``health:`` in the config): ``failures`` failed runs in
    a row, or a run with no item after ``empty_after`` runs with items, break a source."""

    failures: int = 3
    empty_after: int = 3

    @classmethod
    def from_config(cls, config: Any) -> HealthPolicy:
        """From a :class:`~crawler.config.Config` (its ``health`` block)."""
        return cls(failures=config.health.failures, empty_after=config.health.empty_after)

    @property
    def window(self) -> int:
        """How many recent runs the rules need to see."""
        return max(self.failures, self.empty_after + 1)


@dataclass(frozen=True)
class SourceRun:
    """One crawl of one source (a ``source_runs`` row).

    ``pages``: responses of the source's own requests (robots.txt not counted);
    ``http_errors``: its requests that failed (HTTP 4xx/5xx or no answer);
    ``items_found``: entries listed by the feed/sitemap, or files matched;
    ``items_extracted``: stories extracted from pages; ``stored``: new stories stored;
    ``error``: why the run failed, one line without secrets (``None`` when ok).
    """

    source: str
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    pages: int = 0
    http_errors: int = 0
    items_found: int = 0
    items_extracted: int = 0
    stored: int = 0
    empty_bodies: int = 0
    missing_dates: int = 0
    mojibake: int = 0
    error: str | None = None

    @property
    def found_items(self) -> bool:
        """Worked and found at least one item: the run a broken source recovers on."""
        return self.outcome == "ok" and self.items_found > 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


def redact(text: str) -> str:
    """``text`` with credentials in URLs (``user:pw@``, ``?token=...``) as ``<secret>``."""
    return _SECRET_QUERY.sub(r"\1<secret>", _USERINFO.sub("<secret>@", text))


def one_line_error(text: str, limit: int = MAX_ERROR) -> str:
    """``text`` on one line, credentials in URLs replaced by ``<secret>``, at most
    ``limit`` characters.

    >>> one_line_error("refused\\nhttp://u:pw@h/f?token=abc&x=1")
    'refused http://<secret>@h/f?token=<secret>&x=1'
    """
    line = redact(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _count(stats: dict[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, (int, float)) else 0


def _failure(stats: dict[str, Any], error: str | None, pages: int, items: int) -> str | None:
    """Why a run failed, or ``None`` when it worked (see the module docstring)."""
    if error:
        return one_line_error(error)
    if items:
        return None
    bad = sorted(
        int(key[len(_STATUS) :])
        for key in stats
        if key.startswith(_STATUS)
        and key[len(_STATUS) :].isdigit()
        and int(key[len(_STATUS) :]) >= 400
        and _count(stats, key) > _count(stats, _ROBOTS_STATUS + key[len(_STATUS) :])
    )
    if bad:
        return ", ".join(f"HTTP {code}" for code in bad)
    failed = _count(stats, "fetch/failed")
    if failed:
        # Exceptions may come from robots.txt alone; they explain only a failed request.
        errors = sorted({key.rsplit(".", 1)[-1] for key in stats if key.startswith(_EXCEPTION)})
        return "no answer: " + ", ".join(errors) if errors else f"{failed} requests failed"
    for kind in ("feed", "sitemap"):
        if _count(stats, f"{kind}/malformed"):
            return f"the {kind} is malformed"
    if _count(stats, "files/none"):
        return "no file matches the path"
    if pages == 0:
        return (
            "nothing fetched (robots.txt forbids it)"
            if _count(stats, "robotstxt/forbidden")
            else "nothing fetched"
        )
    return None


def run_from_report(report: Any, started: datetime, finished: datetime) -> SourceRun:
    """Read one :class:`~crawler.runner.SourceReport` (its Scrapy stats and ``error``)
    into a :class:`SourceRun`. Pure; ``started``/``finished`` must be timezone-aware."""
    stats: dict[str, Any] = dict(report.stats or {})
    pages = max(
        _count(stats, "response_received_count") - _count(stats, "robotstxt/response_count"), 0
    )
    items = sum(_count(stats, key) for key in _ITEM_KEYS)
    reason = _failure(stats, report.error, pages, items)
    return SourceRun(
        source=report.name,
        started_at=started,
        finished_at=finished,
        outcome="failed" if reason else "ok",
        pages=pages,
        http_errors=_count(stats, "fetch/failed"),
        items_found=items,
        items_extracted=_count(stats, "extract/stories"),
        stored=_count(stats, "store/stored"),
        empty_bodies=_count(stats, "extract/empty_body"),
        missing_dates=_count(stats, "extract/no_date"),
        mojibake=_count(stats, "extract/mojibake"),
        error=reason,
    )


# --- the rules (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """A change of state: ``kind`` is ``broken`` or ``recovered``; ``reason`` one line."""

    kind: Literal["broken", "recovered"]
    reason: str


@dataclass(frozen=True)
class Health:
    """A source's state for ``wirewatch status``.

    ``state``: ``unknown`` (never ran), ``ok``, ``empty`` (last run worked, found
    nothing), ``failing`` (last run failed, not yet broken), ``broken`` (notified).
    """

    state: Literal["unknown", "ok", "empty", "failing", "broken"]
    consecutive_failures: int
    reason: str | None = None


def consecutive_failures(runs: Sequence[SourceRun]) -> int:
    """How many of the latest runs (oldest first in ``runs``) failed in a row."""
    count = 0
    for run in reversed(runs):
        if run.outcome != "failed":
            break
        count += 1
    return count


def broken_reason(runs: Sequence[SourceRun], policy: HealthPolicy) -> str | None:
    """Why the source is broken after ``runs`` (oldest first), or ``None`` when it is not."""
    if not runs:
        return None
    failed = consecutive_failures(runs)
    last = runs[-1]
    if failed >= policy.failures:
        return f"{last.error or 'failed'} ({failed} failed runs in a row)"
    before = runs[-policy.empty_after - 1 : -1]
    if (
        last.outcome == "ok"
        and last.items_found == 0
        and len(before) == policy.empty_after
        and all(run.found_items for run in before)
    ):
        counts = ", ".join(str(run.items_found) for run in before)
        return f"no items found (the {policy.empty_after} runs before found {counts})"
    return None


def transition(runs: Sequence[SourceRun], broken: bool, policy: HealthPolicy) -> Transition | None:
    """The change of state after the latest of ``runs`` (oldest first), given whether the
    source was ``broken`` before it; ``None`` when the state stays as it is."""
    if not runs:
        return None
    if not broken:
        reason = broken_reason(runs, policy)
        return Transition("broken", reason) if reason else None
    last = runs[-1]
    if last.found_items:
        return Transition("recovered", f"{last.items_found} items found")
    return None


def assess(runs: Sequence[SourceRun], broken: bool) -> Health:
    """The state to show for a source with these ``runs`` (oldest first)."""
    failed = consecutive_failures(runs)
    if broken:
        return Health("broken", failed, runs[-1].error if runs else None)
    if not runs:
        return Health("unknown", 0)
    last = runs[-1]
    if last.outcome == "failed":
        return Health("failing", failed, last.error)
    if last.items_found == 0:
        return Health("empty", 0, "no items found")
    return Health("ok", 0)
