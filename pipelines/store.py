"""``StorePipeline``: the last stage; stories are written in batches, each in one transaction.

A story, its cluster (when new), its rule matches and its alert outbox rows are always
written in the same transaction, so a crash leaves either all of them or none: an alert
is never lost between "stored" and "queued", and a story is never stored without its
alerts.  A story not yet committed when the process dies was not stored, so its page is
fetched again by the next crawl.

Batching is for throughput: one commit per story caps SQLite at about a thousand stories
a second through the ORM, and the crawl would wait on it.  Settings:

- ``STORE_BATCH_SIZE`` (default 100): stories per transaction;
- ``STORE_BATCH_SECONDS`` (default 1.0): the longest a story waits in the batch.

A story joins the in-memory dedupe index when it enters the batch, so a copy arriving
before the commit is still recognised; ``App.pending`` lets the index read its text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import task

from alerts.outbox import enqueue, rule_mode
from crawler.app import App
from crawler.db import transaction
from crawler.items import Story
from crawler.models import Cluster, Match, SkippedPage
from crawler.models import Story as StoryRow
from pipelines.rules_model import Rule

log = logging.getLogger(__name__)


def ensure_clusters(session: Session, first_seen: dict[str, datetime]) -> None:
    """Create the cluster rows that do not exist yet (another writer may have made some)."""
    if not first_seen:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [{"id": cid, "first_seen": when} for cid, when in first_seen.items()]
    session.execute(insert(Cluster).on_conflict_do_nothing(), rows)


def write_batch(
    session: Session,
    items: list[Story],
    channels: list[str],
    volume: Mapping[str, tuple[str, bool]] | None = None,
) -> tuple[int, int]:
    """Write ``items`` (stories already stored are skipped); return (stored, alerts queued).

    ``volume`` maps rule names to their (mode, urgent) — the ``digest`` and ``urgent``
    keys, see :func:`rule_volume`; a rule not in it is sent at once, not urgent.
    """
    volume = volume or {}
    urls = [item.url for item in items]
    stored = set(session.scalars(select(StoryRow.url).where(StoryRow.url.in_(urls))))
    fresh = [item for item in items if item.url not in stored]
    now = datetime.now(timezone.utc)
    ensure_clusters(session, {item.cluster: now for item in fresh if item.cluster})
    if not fresh:
        return 0, 0
    rows = [
        {
            "url": item.url,
            "source": item.source,
            "title": item.title,
            "body": item.body,
            "published": item.published,
            "agency": item.agency,
            "dateline": item.dateline,
            "language": item.language,
            "fetched_at": now,
            "cluster_id": item.cluster,
            "body_hash": item.fingerprint.body_hash if item.fingerprint else "",
            "signature": item.fingerprint.signature if item.fingerprint else None,
        }
        for item in fresh
    ]
    # One multi-row INSERT … RETURNING instead of the ORM's unit of work: same rows, a
    # fraction of the Python per story.
    inserted = session.execute(insert(StoryRow).returning(StoryRow.url, StoryRow.id), rows)
    ids = {url: story_id for url, story_id in inserted}
    # a page that once gave no story and now did is no longer waiting (see crawler.seen)
    session.execute(delete(SkippedPage).where(SkippedPage.url.in_(list(ids))))
    matches: list[dict[str, object]] = []
    queued = 0
    for item in fresh:
        story_id = ids[item.url]
        for match in item.matches:
            evidence = [e.to_json() for e in match.evidence]
            matches.append({"story_id": story_id, "rule": match.rule, "evidence": evidence})
            mode, urgent = volume.get(match.rule, ("now", False))
            queued += enqueue(
                session,
                rule=match.rule,
                cluster_id=str(item.cluster),
                story_id=story_id,
                channels=match.notify if match.notify is not None else channels,
                evidence=evidence,
                now=now,
                mode=mode,
                urgent=urgent,
            )
    if matches:
        session.execute(insert(Match), matches)
    return len(fresh), queued


def rule_volume(rules: Iterable[Rule]) -> dict[str, tuple[str, bool]]:
    """Rule name → (outbox mode, urgent), as :func:`write_batch` stores them."""
    return {rule.name: (rule_mode(rule.digest), rule.urgent) for rule in rules}


class StorePipeline:
    def __init__(self, app: App, crawler: Crawler) -> None:
        self.app = app
        self.stats = crawler.stats
        self.batch_size = max(1, crawler.settings.getint("STORE_BATCH_SIZE", 100))
        self.batch_seconds = crawler.settings.getfloat("STORE_BATCH_SECONDS", 1.0)
        self.batch: list[Story] = []
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(App.for_settings(crawler.settings), crawler)

    def spider_opened(self) -> None:
        if self.batch_seconds > 0:
            self.loop = task.LoopingCall(self.flush)
            self.loop.start(self.batch_seconds, now=False)

    def process_item(self, item: Story) -> Story:
        if not isinstance(item, Story):
            return item
        if item.cluster is None or item.fingerprint is None:
            raise DropItem(f"not through the dedupe stage: {item.url}")
        if item.url in self.app.pending:
            self._inc("store/already_stored")
            raise DropItem(f"already stored: {item.url}")
        self.app.pending[item.url] = item
        self.app.dedupe.add(
            item.url,
            item.cluster,
            item.title,
            item.body,
            item.fingerprint,
            datetime.now(timezone.utc),
        )
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.flush()

    def flush(self) -> None:
        """Commit the batch; on a database error the batch is dropped (and re-fetched)."""
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        try:
            with transaction(self.app.sessions) as session:
                stored, queued = write_batch(
                    session,
                    batch,
                    list(self.app.config.channels),
                    rule_volume(self.app.rules.rules),
                )
        except SQLAlchemyError as exc:
            log.error(
                "could not store %d stories (they will be fetched again): %s",
                len(batch),
                str(exc).splitlines()[0],
            )
            self._inc("store/failed", len(batch))
            return
        finally:
            for item in batch:
                self.app.pending.pop(item.url, None)
        self._inc("store/stored", stored)
        self._inc("store/already_stored", len(batch) - stored)
        self._inc("alerts/queued", queued)

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats and n:
            self.stats.inc_value(key, n)
