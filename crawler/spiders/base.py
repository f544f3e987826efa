"""What every wirewatch spider shares: requests, redirects, article parsing, stats.

Which hosts a source may follow is :mod:`crawler.spiders.hosts`; feeds and sitemaps are
parsed by :mod:`crawler.spiders.xmlsafe`.

Requests
    Every request goes out with redirects handled here rather than by Scrapy's
    RedirectMiddleware, so that one check (:meth:`HostPolicy.allows`) runs on every link
    and every hop: only the source's own host and its ``allow_hosts`` are followed, which
    also rules out a redirect from a public host to a loopback/private address. Article
    (and seed file) requests carry ``meta["wirewatch_article"] = True`` so that
    ``SeenArticleMiddleware`` can drop pages already stored; spiders do no other URL
    dedup than Scrapy's dupefilter.

Stories
    A stored story's ``url`` is the URL first requested (the one the feed/sitemap gave),
    not the final URL after redirects, so the seen check matches it on the next crawl.

Stats (slash paths)
    ``<spider>/items``           entries found in a feed, sitemap or glob
    ``<spider>/offsite``         links not followed (host not the source's nor allowed)
    ``<spider>/bad_link``        links unusable as URLs
    ``<spider>/malformed``       feed/sitemap documents refused (one ERROR line each)
    ``extract/stories``          stories yielded
    ``extract/empty_body``       pages/files without article text (skipped)
    ``extract/mojibake``         stories refused as wrongly decoded text
    ``extract/not_html``         article URLs that served something else
    ``extract/no_date``          stories yielded without a publication date
    ``fetch/failed``             download errors, HTTP 4xx/5xx
    ``fetch/ignored``            requests dropped on purpose (already stored, robots.txt)
    ``fetch/redirect_refused``   redirects off the source's hosts, or too many
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from crawler.encoding import decode_body, looks_like_mojibake, normalise_encoding_name
from crawler.extract import clean_title, extract_article
from crawler.items import Story
from crawler.signals import page_skipped
from crawler.spiders.hosts import HostPolicy
from crawler.spiders.xmlsafe import UnsafeXML

ARTICLE_META = "wirewatch_article"
ORIGIN_META = "wirewatch_origin_url"
REDIRECTS_META = "wirewatch_redirects"
REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5

logger = logging.getLogger(__name__)


DocT = TypeVar("DocT")


@dataclass(frozen=True)
class ArticleHint:
    """What the feed or sitemap said about an article, used when the page lacks it."""

    title: str | None = None
    published: datetime | None = None


class WirewatchSpider(scrapy.Spider):
    """Base for the wirewatch spiders: builds requests and turns article pages into Stories.

    Subclasses set ``name`` and implement ``start``; ``source`` names the configured
    source (stored with each story), ``encoding`` overrides charset detection.
    """

    source: str
    encoding: str | None
    policy: HostPolicy

    def __init__(
        self,
        source: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source or self.name
        if encoding and normalise_encoding_name(encoding) is None:
            # Fail the source at start with one clear message, not every page later.
            raise ValueError(f"source {self.source!r}: unknown encoding {encoding!r}")
        self.encoding = normalise_encoding_name(encoding) if encoding else None
        self.policy = HostPolicy(frozenset())

    # -- stats -------------------------------------------------------------------------------

    def inc(self, key: str, count: int = 1) -> None:
        """Increment the stats counter ``key`` (no-op outside a crawler)."""
        crawler = getattr(self, "crawler", None)
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value(key, count)

    def xml_encoding(self, response: Response) -> str | None:
        """Second-try charset for a feed/sitemap: the source override, else HTTP's charset."""
        if self.encoding:
            return self.encoding
        content_type = response.headers.get(b"Content-Type")
        if not content_type:
            return None
        return normalise_encoding_name(http_content_type_encoding(content_type.decode("latin-1")))

    def xml_body(self, response: Response) -> bytes:
        """A feed/sitemap body, gunzipped when it is a gzip file; ``ValueError`` if not possible.

        ``Content-Encoding: gzip`` is undone by Scrapy already; this handles ``.xml.gz``
        files, bounded by ``DOWNLOAD_MAXSIZE`` so a gzip bomb stops there.
        """
        body = response.body
        if body[:2] != b"\x1f\x8b":
            return body
        limit = int(
            response.meta.get("download_maxsize") or self.settings.getint("DOWNLOAD_MAXSIZE")
        )
        try:
            return gunzip(body, max_size=limit)
        except Exception as exc:  # size limit exceeded or corrupt data: the same refusal
            raise ValueError(f"cannot decompress ({exc})") from exc

    def article_requests(
        self, kind: str, links: Iterable[tuple[str, ArticleHint]]
    ) -> Iterator[scrapy.Request]:
        """Article requests for the followable ``links`` of a feed or sitemap.

        Links off the source's hosts are counted and named once (``<kind>/offsite``); a
        link Scrapy cannot turn into a request is counted (``<kind>/bad_link``) and
        skipped, so one bad entry never costs the rest of the document.
        """
        offsite: list[str] = []
        for url, hint in links:
            if not self.policy.allows(url):
                offsite.append(url)
                continue
            try:
                request = self.make_request(
                    url, self.parse_article, article=True, cb_kwargs={"hint": hint}
                )
            except ValueError as exc:
                self.inc(f"{kind}/bad_link")
                logger.info("[%s] skipping link %r: %s", self.source, url, exc)
                continue
            yield request
        self.report_offsite(kind, offsite)

    def report_offsite(self, kind: str, urls: list[str]) -> None:
        """Count links not followed and name their hosts in one log line per document."""
        if not urls:
            return
        self.inc(f"{kind}/offsite", len(urls))
        hosts = sorted({urlsplit(u).hostname or u for u in urls})
        logger.info(
            "[%s] %d link(s) not followed: host(s) %s not in the source's host or allow_hosts",
            self.source,
            len(urls),
            ", ".join(hosts[:5]) + (" ..." if len(hosts) > 5 else ""),
        )

    # -- requests ----------------------------------------------------------------------------

    def make_request(
        self,
        url: str,
        callback: Any,
        *,
        article: bool,
        cb_kwargs: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> scrapy.Request:
        """A GET for ``url`` whose redirects come back to the callback (see module doc)."""
        request_meta: dict[str, Any] = {
            "dont_redirect": True,
            "handle_httpstatus_list": list(REDIRECT_CODES),
            **(meta or {}),
        }
        if article:
            request_meta[ARTICLE_META] = True
        return scrapy.Request(
            urldefrag(url)[0],
            callback=callback,
            errback=self.on_error,
            cb_kwargs=cb_kwargs or {},
            meta=request_meta,
            dont_filter=False,
        )

    def on_error(self, failure: Failure) -> None:
        """Log a failed download or HTTP error once; the crawl goes on.

        A request dropped on purpose (``IgnoreRequest``: already stored, robots.txt) is
        no failure: it counts as ``fetch/ignored`` and logs at DEBUG.
        """
        request = getattr(failure, "request", None)
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self.inc("fetch/ignored")
            logger.debug(
                "[%s] not fetched %s: %s",
                self.source,
                getattr(request, "url", "?"),
                failure.getErrorMessage(),
            )
            return
        self.inc("fetch/failed")
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        else:
            reason = failure.getErrorMessage() or failure.type.__name__
        logger.warning(
            "[%s] fetch failed for %s: %s", self.source, getattr(request, "url", "?"), reason
        )

    def follow_redirect(self, response: Response) -> Iterator[scrapy.Request]:
        """The request for a 3xx's ``Location``, when the host policy allows it."""
        hops = int(response.meta.get(REDIRECTS_META, 0)) + 1
        location = response.headers.get(b"Location")
        target = urljoin(response.url, location.decode("latin-1")) if location else ""
        if not target or hops > MAX_REDIRECTS or not self.policy.allows(target):
            self.inc("fetch/redirect_refused")
            logger.warning(
                "[%s] redirect refused: %s -> %s (hop %d)",
                self.source,
                response.url,
                target or "<no Location>",
                hops,
            )
            return
        meta = dict(response.meta)
        meta[REDIRECTS_META] = hops
        meta.setdefault(ORIGIN_META, response.request.url if response.request else response.url)
        request = response.request
        if request is None:
            return
        yield request.replace(url=target, meta=meta, method="GET", body=b"")

    # -- article pages -----------------------------------------------------------------------

    def decode(self, response: Response) -> str | None:
        """Response body as text (see :mod:`crawler.encoding`), or None when refused."""
        content_type = response.headers.get(b"Content-Type")
        decoded = decode_body(
            response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            override=self.encoding,
        )
        logger.debug(
            "[%s] %s decoded as %s (%s)", self.source, response.url, decoded.encoding, decoded.how
        )
        return decoded.text

    def parse_article(self, response: Response, hint: ArticleHint | None = None) -> Iterator[Any]:
        """Article page → one :class:`Story`, or nothing with a logged reason and a stat."""
        if response.status in REDIRECT_CODES:
            yield from self.follow_redirect(response)
            return
        url = response.meta.get(ORIGIN_META) or (
            response.request.url if response.request else response.url
        )
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if content_type and not any(kind in content_type for kind in ("html", "xml", "text")):
            self.inc("extract/not_html")
            logger.info("[%s] skipping %s: not an HTML page (%s)", self.source, url, content_type)
            self.skipped(url, "not_html")
            return
        text = self.decode(response)
        hint = hint or ArticleHint()
        article = extract_article(
            text or "", response.url, title_hint=hint.title, published_hint=hint.published
        )
        story = Story(
            url=url,
            source=self.source,
            title=article.title,
            body=article.body,
            published=article.published,
            agency=article.agency,
            dateline=article.dateline,
            language=article.language,
        )
        yield from self.emit(story)

    def skipped(self, url: str, reason: str) -> None:
        """Tell the crawl that ``url`` gave no story (see :mod:`crawler.seen`)."""
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            crawler.signals.send_catch_log(
                signal=page_skipped, url=url, source=self.source, reason=reason
            )

    def emit(self, story: Story) -> Iterator[Story]:
        """Yield ``story`` unless its body is empty or its text is mojibake (both logged)."""
        if not story.body.strip():
            self.inc("extract/empty_body")
            logger.info("[%s] skipping %s: no article text found", self.source, story.url)
            self.skipped(story.url, "empty_body")
            return
        # Checked apart: a garbled title would be diluted by a long clean body.
        if looks_like_mojibake(story.title) or looks_like_mojibake(story.body):
            self.inc("extract/mojibake")
            logger.warning(
                "[%s] refusing %s: text looks like mojibake (wrong charset; set 'encoding' "
                "on the source to override)",
                self.source,
                story.url,
            )
            self.skipped(story.url, "mojibake")
            return
        story.title = clean_title(story.title)
        if story.published is None:
            self.inc("extract/no_date")
        self.inc("extract/stories")
        yield story


class UrlSourceSpider(WirewatchSpider):
    """A source read from one URL (a feed or a sitemap): links are followed only on that
    URL's host and the ``allow_hosts`` (a comma-separated string or a list)."""

    url: str

    def __init__(
        self,
        source: str | None = None,
        url: str | None = None,
        allow_hosts: str | list[str] | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(source=source, encoding=encoding, **kwargs)
        if not url:
            raise ValueError(f"spider {self.name!r} needs a 'url' argument")
        self.url = url
        self.policy = HostPolicy.for_source(url, allow_hosts)

    def read_document(
        self, response: Response, parse: Callable[[bytes, str, str | None], DocT]
    ) -> DocT | None:
        """``parse(body, url, encoding)`` of a feed or sitemap response, or None when the
        document is refused (malformed, unsafe, not this kind): counted and logged once."""
        try:
            return parse(self.xml_body(response), response.url, self.xml_encoding(response))
        except (UnsafeXML, etree.XMLSyntaxError, ValueError) as exc:
            self.inc(f"{self.name}/malformed")
            logger.error("[%s] %s %s refused: %s", self.source, self.name, response.url, exc)
            return None
