"""``feed`` spider: RSS 0.9x / 1.0 (RDF) / 2.0 and Atom → article pages → Stories.

Kwargs: ``source`` (name stored with each story), ``url`` (the feed), ``allow_hosts``
(comma-separated string or list of other hosts whose article links may be followed),
``encoding`` (charset override for the feed and its pages).

The feed is parsed with :func:`crawler.spiders.xmlsafe.parse_xml` (no entities, no network);
a malformed or hostile feed logs one error and yields nothing. Each entry's link is
followed when it is on the feed's host or an allowed host; the entry's title and date are
passed to the page as hints (the feed date wins, the feed title fills in).

Stats: ``feed/items`` entries found, ``feed/offsite`` links not followed, ``feed/no_link``
entries without a usable link, ``feed/malformed`` feeds refused, plus ``extract/*``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from scrapy.http import Response

from crawler.dates import find_arabic_date, parse_date
from crawler.spiders.base import REDIRECT_CODES, ArticleHint, UrlSourceSpider
from crawler.spiders.xmlsafe import child_text, localname, parse_xml

logger = logging.getLogger(__name__)

# More entries than this in one feed is not a news feed; stop rather than queue them all.
MAX_ENTRIES = 20000


@dataclass(frozen=True)
class FeedEntry:
    """One feed item: absolute link (may be empty), title and publication date."""

    link: str
    title: str | None
    published: datetime | None


def _entry_link(entry: etree._Element, base_url: str) -> str:
    """The entry's article URL: Atom ``link rel=alternate``, RSS ``link``, permalink guid."""
    for child in entry:
        if localname(child) != "link":
            continue
        href = child.get("href")
        if href is not None:  # Atom
            if child.get("rel", "alternate") == "alternate" and href.strip():
                return urljoin(base_url, href.strip())
            continue
        text = (child.text or "").strip()
        if text:
            return urljoin(base_url, text)
    for child in entry:
        if localname(child) == "guid" and child.get("isPermaLink", "true").lower() == "true":
            text = (child.text or "").strip()
            if text.startswith(("http://", "https://")):
                return text
    return ""


def parse_feed(body: bytes, base_url: str, encoding: str | None = None) -> list[FeedEntry]:
    """Entries of an RSS/RDF/Atom feed, in document order.

    Raises :class:`~crawler.spiders.xmlsafe.UnsafeXML` or ``lxml.etree.XMLSyntaxError`` for a
    document that is not a safe, well-formed feed, and ``ValueError`` for well-formed XML
    that is no feed (e.g. an HTML page or a sitemap).
    """
    root = parse_xml(body, encoding)
    kind = localname(root)
    if kind not in ("rss", "RDF", "feed", "channel"):
        raise ValueError(f"not a feed (root element <{kind}>)")
    entries: list[FeedEntry] = []
    for el in root.iter():
        if localname(el) not in ("item", "entry"):
            continue
        published = None
        for name in ("published", "pubDate", "date", "issued", "created", "updated", "modified"):
            text = child_text(el, name)
            # Some Arabic sites write pubDate out in words («الجمعة 1 نوفمبر 2024»).
            published = parse_date(text) or (find_arabic_date(text) if text else None)
            if published:
                break
        entries.append(
            FeedEntry(
                link=_entry_link(el, base_url),
                title=child_text(el, "title"),
                published=published,
            )
        )
        if len(entries) >= MAX_ENTRIES:
            break
    return entries


class FeedSpider(UrlSourceSpider):
    """Fetches one feed and follows its entries to the article pages."""

    name = "feed"

    async def start(self) -> AsyncIterator[Any]:
        yield self.make_request(self.url, self.parse_feed, article=False)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """Feed document → article requests (one per followable entry)."""
        if response.status in REDIRECT_CODES:
            yield from self.follow_redirect(response)
            return
        entries = self.read_document(response, parse_feed)
        if entries is None:
            return
        self.inc("feed/items", len(entries))
        missing = sum(1 for entry in entries if not entry.link)
        if missing:
            self.inc("feed/no_link", missing)
        yield from self.article_requests(
            "feed",
            ((e.link, ArticleHint(e.title, e.published)) for e in entries if e.link),
        )
