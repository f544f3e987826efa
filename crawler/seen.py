"""``SeenArticleMiddleware``: article pages already stored are never requested again.

Spiders mark article requests with ``meta["wirewatch_article"] = True``; feed and sitemap
requests are always fetched.  The check is one indexed lookup in the ``stories`` table, so
it holds across processes and restarts.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import select

from crawler.app import App
from crawler.models import Story as StoryRow

ARTICLE = "wirewatch_article"


class SeenArticleMiddleware:
    def __init__(self, app: App, crawler: Crawler) -> None:
        self.app = app
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenArticleMiddleware:
        return cls(App.for_settings(crawler.settings), crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        if not request.meta.get(ARTICLE):
            return None
        with self.app.sessions() as session:
            stored = session.scalar(select(StoryRow.id).where(StoryRow.url == request.url))
        if stored is not None:
            if self.stats:
                self.stats.inc_value("seen/skipped")
            raise IgnoreRequest(f"already stored: {request.url}")
        return None
