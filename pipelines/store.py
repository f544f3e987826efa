"""``StorePipeline``: the last stage; one transaction per story.

The story, its cluster (when new), its rule matches and the alert outbox rows are written
together, so a crash leaves either all of them or none: an alert is never lost between
"stored" and "queued", and a story is never stored without its alerts.  Only after the
commit does the story join the in-memory dedupe index.
"""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.outbox import enqueue
from crawler.app import App
from crawler.db import transaction
from crawler.items import Story
from crawler.models import Cluster, Match
from crawler.models import Story as StoryRow


def ensure_cluster(session: Session, cluster_id: str, now: datetime) -> None:
    """Create the cluster row unless another writer already did."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Cluster).values(id=cluster_id, first_seen=now).on_conflict_do_nothing())


class StorePipeline:
    def __init__(self, app: App, crawler: Crawler) -> None:
        self.app = app
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(App.for_settings(crawler.settings), crawler)

    def process_item(self, item: Story) -> Story:
        if not isinstance(item, Story):
            return item
        if item.cluster is None or item.fingerprint is None:
            raise DropItem(f"not through the dedupe stage: {item.url}")
        now = datetime.now(timezone.utc)
        channels_all = list(self.app.config.channels)
        queued = 0
        with transaction(self.app.sessions) as session:
            if session.scalar(select(StoryRow.id).where(StoryRow.url == item.url)) is not None:
                self._inc("store/already_stored")
                raise DropItem(f"already stored: {item.url}")
            ensure_cluster(session, item.cluster, now)
            row = StoryRow(
                url=item.url,
                source=item.source,
                title=item.title,
                body=item.body,
                published=item.published,
                agency=item.agency,
                dateline=item.dateline,
                language=item.language,
                fetched_at=now,
                cluster_id=item.cluster,
                body_hash=item.fingerprint.body_hash,
                signature=item.fingerprint.signature,
            )
            session.add(row)
            session.flush()
            for match in item.matches:
                evidence = [e.to_json() for e in match.evidence]
                session.add(Match(story_id=row.id, rule=match.rule, evidence=evidence))
                queued += enqueue(
                    session,
                    rule=match.rule,
                    cluster_id=item.cluster,
                    story_id=row.id,
                    channels=match.notify if match.notify is not None else channels_all,
                    evidence=evidence,
                    now=now,
                )
        self.app.dedupe.add(row.id, item.cluster, item.title, item.body, item.fingerprint, now)
        self._inc("store/stored")
        self._inc("alerts/queued", queued)
        return item

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats and n:
            self.stats.inc_value(key, n)
