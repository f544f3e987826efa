"""``SeenArticleMiddleware``: article pages already stored are never requested again, and
pages that gave no story wait before they are.

Spiders mark article requests with ``meta["wirewatch_article"] = True``; feed and sitemap
requests are always fetched.  The check is one indexed lookup in the ``stories`` table, so
it holds across processes and restarts.

A page that was fetched but gave no story (a video or gallery page without article text, a
page in a charset that could not be read, a PDF: the spider sends
``crawler.signals.page_skipped``) is remembered in ``skipped_pages`` and not fetched again
before its ``retry_at``: an hour after the first try, then twice as long after each
further one, at most a day, and never again once it is a week old (a live page may fill
in later; a video page never will).  A story stored later under that URL removes the row.

Stats: ``seen/skipped`` (already stored), ``seen/waiting`` (skipped before, not yet due).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crawler.app import App
from crawler.db import transaction
from crawler.models import SkippedPage
from crawler.models import Story as StoryRow
from crawler.signals import page_skipped

ARTICLE = "wirewatch_article"
RETRY_FIRST = timedelta(hours=1)
RETRY_CAP = timedelta(days=1)
GIVE_UP_AFTER = timedelta(days=7)
NEVER = timedelta(days=3650)


def retry_delay(tries: int, age: timedelta) -> timedelta:
    """How long a page skipped ``tries`` times, first ``age`` ago, waits now."""
    if age >= GIVE_UP_AFTER:
        return NEVER
    return min(RETRY_FIRST * 2 ** max(tries - 1, 0), RETRY_CAP)


class SeenArticleMiddleware:
    def __init__(
        self, app: App, crawler: Crawler, now: Callable[[], datetime] | None = None
    ) -> None:
        self.app = app
        self.stats = crawler.stats
        self.now = now or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenArticleMiddleware:
        middleware = cls(App.for_settings(crawler.settings), crawler)
        crawler.signals.connect(middleware.record_skip, signal=page_skipped)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        if not request.meta.get(ARTICLE):
            return None
        # one round trip: is the page stored, and if not, is it waiting?
        url = request.url
        query = select(
            select(StoryRow.id).where(StoryRow.url == url).exists(),
            select(SkippedPage.reason).where(SkippedPage.url == url).scalar_subquery(),
            select(SkippedPage.retry_at).where(SkippedPage.url == url).scalar_subquery(),
        )
        with self.app.sessions() as session:
            stored, reason, retry_at = session.execute(query).one()
        if stored:
            self._inc("seen/skipped")
            raise IgnoreRequest(f"already stored: {url}")
        if retry_at is not None and retry_at > self.now():
            self._inc("seen/waiting")
            raise IgnoreRequest(
                f"gave no story before ({reason}), next try after "
                f"{retry_at:%Y-%m-%d %H:%M} UTC: {url}"
            )
        return None

    def record_skip(self, url: str, source: str, reason: str) -> None:
        """Remember that ``url`` gave no story (the ``page_skipped`` signal)."""
        now = self.now()
        try:
            with transaction(self.app.sessions) as session:
                row = session.scalar(select(SkippedPage).where(SkippedPage.url == url))
                if row is None:
                    row = SkippedPage(url=url, source=source, first_seen=now, tries=0)
                    session.add(row)
                row.tries += 1
                row.reason = reason
                row.last_tried = now
                row.retry_at = now + retry_delay(row.tries, now - row.first_seen)
        except IntegrityError:
            pass  # another crawl recorded the same page a moment ago: one row is enough

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)
