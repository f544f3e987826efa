"""``DedupePipeline``: gives each story a cluster, a near-duplicate's or a new one."""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.crawler import Crawler

from crawler.app import App
from crawler.items import Story
from pipelines.dedupe import fingerprint, new_cluster_id


class DedupePipeline:
    def __init__(self, app: App, crawler: Crawler) -> None:
        self.app = app
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        app = App.for_settings(crawler.settings)
        app.dedupe  # noqa: B018 - rebuild the index from the database before the first page
        return cls(app, crawler)

    def process_item(self, item: Story) -> Story:
        if not isinstance(item, Story):
            return item
        item.fingerprint = fingerprint(item.title, item.body)
        found = self.app.dedupe.find(
            item.title, item.body, item.fingerprint, datetime.now(timezone.utc)
        )
        if found is None:
            item.cluster = new_cluster_id(item.url)
            key = "dedupe/new_cluster"
        else:
            item.cluster = found
            key = "dedupe/near_duplicate"
        if self.stats:
            self.stats.inc_value(key)
        return item
