"""``Progress``: a progress line on stderr every ``WIREWATCH_PROGRESS_INTERVAL`` seconds.

Long crawls show they are alive and how far they got; the final summary is printed by
the command that started the crawl.
"""

from __future__ import annotations

import sys
from typing import TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def progress_line(source: str, stats: dict[str, int]) -> str:
    return (
        f"wirewatch: [{source}] {stats.get('response_received_count', 0)} pages, "
        f"{stats.get('store/stored', 0)} stories stored, "
        f"{stats.get('dedupe/near_duplicate', 0)} near-duplicates, "
        f"{stats.get('seen/skipped', 0)} already seen, "
        f"{stats.get('alerts/queued', 0)} alerts queued"
    )


class Progress:
    def __init__(self, crawler: Crawler, interval: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("WIREWATCH_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("WIREWATCH_PROGRESS_INTERVAL is 0")
        ext = cls(crawler, interval, sys.stderr)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.loop = task.LoopingCall(self.report, spider)
        self.loop.start(self.interval, now=False)

    def report(self, spider: Spider) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        source = getattr(spider, "source", spider.name)
        print(progress_line(source, stats), file=self.stream, flush=True)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
