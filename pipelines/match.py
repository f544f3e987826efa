"""``MatchPipeline``: runs the watch rules over each story and records what fired."""

from __future__ import annotations

from scrapy.crawler import Crawler

from crawler.app import App
from crawler.items import Story
from crawler.textstory import matched_body


class MatchPipeline:
    def __init__(self, app: App, crawler: Crawler) -> None:
        self.app = app
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MatchPipeline:
        app = App.for_settings(crawler.settings)
        app.rules  # noqa: B018 - compile the watchlists before the first page, not during it
        return cls(app, crawler)

    def process_item(self, item: Story) -> Story:
        if not isinstance(item, Story):
            return item
        item.matches = self.app.rules.match(item.title, matched_body(item.body, item.dateline))
        if self.stats and item.matches:
            self.stats.inc_value("match/stories")
            self.stats.inc_value("match/rules", len(item.matches))
        return item
