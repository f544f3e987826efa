"""``NormalizePipeline``: the first stage; cleans what a spider extracted.

Titles become one line (a crawled title with CR/LF must not reach an email header as
two lines), bodies lose stray whitespace, an item without text is dropped with a reason.
"""

from __future__ import annotations

import re

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import Story

_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
MAX_TITLE = 500


def clean_title(title: str) -> str:
    """One line, single spaces, at most ``MAX_TITLE`` characters."""
    title = _SPACE.sub(" ", title).strip()
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip() + "…"


def clean_body(body: str) -> str:
    """Paragraphs separated by exactly one blank line, each on one line."""
    paragraphs = (_SPACE.sub(" ", p).strip() for p in _BLANK_LINES.split(body.replace("\r", "")))
    return "\n\n".join(p for p in paragraphs if p)


class NormalizePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        return cls(crawler)

    def process_item(self, item: Story) -> Story:
        if not isinstance(item, Story):
            return item
        item.title = clean_title(item.title)
        item.body = clean_body(item.body)
        if not item.body:
            if self.stats:
                self.stats.inc_value("normalize/empty_body")
            raise DropItem(f"no story text at {item.url}")
        if not item.title:
            item.title = clean_title(item.paragraphs[0][:120])
        return item
