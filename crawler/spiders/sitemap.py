"""``sitemap`` spider: sitemap index → sitemaps → article pages → Stories.

Kwargs as the feed spider: ``source``, ``url``, ``allow_hosts``, ``encoding``.

Handles ``<sitemapindex>`` (followed up to :data:`MAX_DEPTH` levels, same host policy as
article links), ``<urlset>``, and Google News sitemaps (``news:publication_date``,
``news:title``, used as hints for the page; ``lastmod`` is not a publication date). Gzip
sitemaps (``.xml.gz`` served without ``Content-Encoding``) are decompressed with
``DOWNLOAD_MAXSIZE`` as the bound (see ``WirewatchSpider.xml_body``).

Stats: ``sitemap/items`` URLs found, ``sitemap/sitemaps`` child sitemaps followed,
``sitemap/offsite``, ``sitemap/malformed``, ``sitemap/too_deep``, plus ``extract/*``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.dates import parse_date
from crawler.spiders.base import REDIRECT_CODES, ArticleHint, UrlSourceSpider
from crawler.spiders.xmlsafe import child_text, localname, parse_xml

logger = logging.getLogger(__name__)

MAX_DEPTH = 3
MAX_URLS = 50000  # the sitemap protocol's own per-file limit
_DEPTH_META = "wirewatch_sitemap_depth"


@dataclass(frozen=True)
class SitemapDoc:
    """A parsed sitemap: child sitemaps (index) or article URLs with their hints."""

    sitemaps: list[str]
    urls: list[tuple[str, ArticleHint]]


def parse_sitemap(body: bytes, base_url: str, encoding: str | None = None) -> SitemapDoc:
    """Parse a ``sitemapindex`` or ``urlset`` document.

    Google News entries give the hint title and date; otherwise ``lastmod`` is not used
    as a publication date (it changes on every edit). Raises like
    :func:`crawler.spiders.xmlsafe.parse_xml`, and ``ValueError`` for other XML.
    """
    root = parse_xml(body, encoding)
    kind = localname(root)
    if kind not in ("sitemapindex", "urlset"):
        raise ValueError(f"not a sitemap (root element <{kind}>)")
    sitemaps: list[str] = []
    urls: list[tuple[str, ArticleHint]] = []
    for el in root:
        name = localname(el)
        loc = child_text(el, "loc")
        if not loc:
            continue
        loc = urljoin(base_url, loc)
        if name == "sitemap":
            sitemaps.append(loc)
        elif name == "url":
            title = published = None
            for child in el:
                if localname(child) == "news":
                    title = child_text(child, "title")
                    published = parse_date(child_text(child, "publication_date"))
            urls.append((loc, ArticleHint(title, published)))
        if len(sitemaps) + len(urls) >= MAX_URLS:
            break
    return SitemapDoc(sitemaps, urls)


class SitemapSpider(UrlSourceSpider):
    """Fetches a sitemap (or index) and follows its URLs to the article pages."""

    name = "sitemap"

    async def start(self) -> AsyncIterator[Any]:
        yield self.make_request(self.url, self.parse_sitemap, article=False)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sitemap document → child sitemap requests and article requests."""
        if response.status in REDIRECT_CODES:
            yield from self.follow_redirect(response)
            return
        doc = self.read_document(response, parse_sitemap)
        if doc is None:
            return
        depth = int(response.meta.get(_DEPTH_META, 0))
        offsite: list[str] = []
        for loc in doc.sitemaps:
            if depth + 1 > MAX_DEPTH:
                self.inc("sitemap/too_deep")
                continue
            if not self.policy.allows(loc):
                offsite.append(loc)
                continue
            self.inc("sitemap/sitemaps")
            yield self.make_request(
                loc, self.parse_sitemap, article=False, meta={_DEPTH_META: depth + 1}
            )
        self.report_offsite("sitemap", offsite)
        self.inc("sitemap/items", len(doc.urls))
        yield from self.article_requests("sitemap", doc.urls)
