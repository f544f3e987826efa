"""The spiders' pure parts: feed and sitemap parsing, host policy, redirects, requests."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.spiders.feed import FeedSpider, parse_feed
from crawler.spiders.files import FilesSpider
from crawler.spiders.hosts import HostPolicy, split_hosts
from crawler.spiders.sitemap import SitemapSpider, parse_sitemap
from crawler.spiders.xmlsafe import UnsafeXML

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("name", "error"),
    [("bomb.xml", UnsafeXML), ("xxe.xml", UnsafeXML), ("malformed.xml", etree.XMLSyntaxError)],
)
def test_parse_feed_refuses_hostile_or_broken_xml(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_feed((FIXTURES / "feeds" / name).read_bytes(), "http://x/")


@pytest.mark.parametrize(
    ("body", "links", "titles"),
    [
        ((FIXTURES / "feeds" / "rdf.xml").read_bytes(), ["http://example.org/a.html"], ["خبر أول"]),
        (
            '<?xml version="1.0" encoding="windows-1256"?><rss version="0.91"><channel>'
            "<item><title>خبر قديم</title><link>/old.html</link></item></channel></rss>".encode(
                "cp1256"
            ),
            ["http://example.org/old.html"],
            ["خبر قديم"],
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
            b'<link rel="enclosure" href="http://example.org/a.mp3"/>'
            b'<link rel="alternate" href="/b.html"/></entry></feed>',
            ["http://example.org/b.html"],
            ["t"],
        ),
        (
            b"<rss><channel><item><title>g</title><guid>http://example.org/g.html</guid></item>"
            b'<item><title>n</title><guid isPermaLink="false">http://example.org/n</guid></item>'
            b"</channel></rss>",
            ["http://example.org/g.html", ""],
            ["g", "n"],
        ),
    ],
)
def test_parse_feed_formats(body: bytes, links: list[str], titles: list[str]) -> None:
    entries = parse_feed(body, "http://example.org/feed.xml")
    assert [e.link for e in entries] == links
    assert [e.title for e in entries] == titles


def test_parse_feed_dates_and_override() -> None:
    entries = parse_feed((FIXTURES / "feeds" / "rdf.xml").read_bytes(), "http://x/")
    assert entries[0].published == datetime(2024, 11, 1, 7, tzinfo=timezone.utc)
    lying = (
        '<?xml version="1.0" encoding="utf-8"?><rss><channel><item><title>خبر</title>'
        "<link>http://example.org/a</link></item></channel></rss>"
    ).encode("cp1256")
    # Detection recovers a feed whose bytes contradict its declaration ...
    assert parse_feed(lying, "http://x/")[0].title == "خبر"
    # ... and the override (or HTTP charset) decides when given.
    assert parse_feed(lying, "http://x/", "cp1256")[0].title == "خبر"
    # Valid UTF-8 with a real syntax error stays an error.
    with pytest.raises(etree.XMLSyntaxError):
        parse_feed("<rss><channel><item><title>خبر</item></rss>".encode(), "http://x/")


def test_parse_feed_rejects_other_documents() -> None:
    with pytest.raises(ValueError, match="not a feed"):
        parse_feed(b"<urlset/>", "http://x/")


def test_parse_sitemap() -> None:
    body = (
        (FIXTURES / "sitemaps" / "news.xml")
        .read_text("utf-8")
        .replace("@BASE@", "http://n.example")
    )
    doc = parse_sitemap(body.encode(), "http://n.example/sitemap.xml")
    assert doc.sitemaps == []
    assert [u for u, _ in doc.urls][:2] == [
        "http://n.example/news/wheat.html",
        "http://n.example/news/floods.html",
    ]
    wheat = doc.urls[0][1]
    assert wheat.title == "مصر تزيد وارداتها من القمح"
    assert wheat.published == datetime(2024, 11, 1, 10, tzinfo=timezone.utc)
    assert doc.urls[1][1].published is None  # lastmod is not a publication date
    index = parse_sitemap(
        (FIXTURES / "sitemaps" / "index.xml").read_bytes().replace(b"@BASE@", b"http://n.example"),
        "http://n.example/",
    )
    assert index.sitemaps == [
        "http://n.example/sitemaps/news.xml.gz",
        "http://offsite.example/sitemap.xml",
    ]


POLICY = HostPolicy.for_source("https://news.example/rss.xml", "cdn.example, other.example")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://news.example/a.html", True),
        ("http://news.example/a.html", True),
        ("https://www.news.example/a.html", True),
        ("https://NEWS.EXAMPLE./a.html", True),
        ("https://cdn.example/a.html", True),
        ("https://other.example:8443/a.html", True),
        ("https://evil.example/a.html", False),
        ("https://news.example.evil.example/a.html", False),
        ("https://evil.example/?u=https://news.example/", False),
        ("https://news.example@evil.example/a.html", False),
        ("ftp://news.example/a.txt", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("http://127.0.0.1/a.html", False),
        ("http://[::1]/a.html", False),
        ("http://localhost/a.html", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://[not-an-ip/", False),
    ],
)
def test_host_policy(url: str, allowed: bool) -> None:
    assert POLICY.allows(url) is allowed


def test_loopback_source_may_follow_loopback() -> None:
    policy = HostPolicy.for_source("http://127.0.0.1:8080/rss.xml", None)
    assert policy.allows("http://127.0.0.1:9999/a.html")
    assert not policy.allows("http://10.0.0.1/a.html")
    assert not policy.allows("http://localhost:8080/a.html")
    listed = HostPolicy.for_source("https://news.example/rss.xml", "10.0.0.5")
    assert listed.allows("http://10.0.0.5/a.html")


@pytest.mark.parametrize("value", ["a.org, b.org", ["a.org", " B.org "], "a.org,,b.org,"])
def test_split_hosts(value: str | list[str]) -> None:
    assert split_hosts(value) == ["a.org", "b.org"]


def _start(spider: Any) -> list[Any]:
    async def collect() -> list[Any]:
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def test_file_requests_are_article_requests(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("نص.", "utf-8")
    (tmp_path / "sub").mkdir()
    spider = FilesSpider(source="s", path=str(tmp_path / "*"))
    requests = _start(spider)
    assert [r.url for r in requests] == [(tmp_path / "a.txt").as_uri()]
    assert requests[0].meta["wirewatch_article"] is True
    assert requests[0].dont_filter is False


def test_feed_request_is_not_an_article_request() -> None:
    spider = FeedSpider(source="s", url="http://news.example/rss.xml")
    (request,) = _start(spider)
    assert "wirewatch_article" not in request.meta
    assert request.meta["dont_redirect"] is True


@pytest.mark.parametrize("cls", [FeedSpider, SitemapSpider])
def test_url_is_required(cls: type[Any]) -> None:
    with pytest.raises(ValueError, match="url"):
        cls(source="s")


@pytest.mark.parametrize(
    ("feed_url", "location", "followed"),
    [
        ("https://news.example/rss.xml", "/b.html", True),
        ("https://news.example/rss.xml", "https://www.news.example/b.html", True),
        ("https://news.example/rss.xml", "http://127.0.0.1/admin", False),
        ("https://news.example/rss.xml", "http://169.254.169.254/", False),
        ("https://news.example/rss.xml", "https://elsewhere.example/b.html", False),
        ("http://127.0.0.1:8000/rss.xml", "http://127.0.0.1:8000/b.html", True),
        ("https://news.example/rss.xml", "", False),
    ],
)
def test_redirect_policy(feed_url: str, location: str, followed: bool) -> None:
    spider = FeedSpider(source="s", url=feed_url)
    article = feed_url.rsplit("/", 1)[0] + "/a.html"
    request = spider.make_request(article, spider.parse_article, article=True)
    headers = {"Location": location} if location else {}
    response = HtmlResponse(article, status=302, headers=headers, body=b"", request=request)
    out = list(spider.parse_article(response))
    if followed:
        (follow,) = out
        assert isinstance(follow, Request)
        assert follow.meta["wirewatch_article"] is True
        assert follow.meta["wirewatch_origin_url"] == article
        assert follow.callback == spider.parse_article
    else:
        assert out == []


def test_redirect_hops_are_bounded() -> None:
    spider = FeedSpider(source="s", url="https://news.example/rss.xml")
    request = spider.make_request("https://news.example/a", spider.parse_article, article=True)
    request.meta["wirewatch_redirects"] = 5
    response = HtmlResponse(
        request.url, status=301, headers={"Location": "/b"}, body=b"", request=request
    )
    assert list(spider.parse_article(response)) == []


def test_story_url_is_the_first_requested_url() -> None:
    spider = FeedSpider(source="wire", url="https://news.example/rss.xml")
    request = spider.make_request("https://news.example/b", spider.parse_article, article=True)
    request.meta["wirewatch_origin_url"] = "https://news.example/a"
    page = "<html><body><article><h1>عنوان</h1><p>نص الخبر هنا.</p></article></body></html>"
    response = HtmlResponse(request.url, body=page.encode(), request=request)
    (story,) = list(spider.parse_article(response))
    assert story.url == "https://news.example/a"
    assert story.source == "wire"
    assert story.title == "عنوان"


def test_html_entities_in_a_feed_are_tolerated() -> None:
    body = (
        "<rss><channel><item><title>خبر&nbsp;عاجل &hellip; &amp; المزيد</title>"
        "<link>http://e.org/a</link></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(body, "http://e.org/")
    assert entry.title == "خبر\xa0عاجل … & المزيد"
    with pytest.raises(etree.XMLSyntaxError):
        parse_feed(b"<rss><channel><item><title>&bogus;</title></item></channel></rss>", "x")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Sat, 02 Nov 2024 06:00:00 GMT", datetime(2024, 11, 2, 6, tzinfo=timezone.utc)),
        ("2024-11-02T09:00:00+03:00", datetime(2024, 11, 2, 6, tzinfo=timezone.utc)),
        ("السبت 2 تشرين الثاني 2024 06:00", datetime(2024, 11, 2, 6, tzinfo=timezone.utc)),
        ("غدا", None),
    ],
)
def test_feed_dates(date: str, expected: datetime | None) -> None:
    body = (
        f"<rss><channel><item><title>t</title><link>http://e.org/a</link>"
        f"<pubDate>{date}</pubDate></item></channel></rss>"
    ).encode()
    assert parse_feed(body, "http://e.org/")[0].published == expected


def test_errback_tells_ignored_from_failed() -> None:
    crawler = get_crawler(FeedSpider)
    spider = FeedSpider.from_crawler(crawler, source="s", url="http://e.org/rss.xml")
    assert crawler.stats is not None
    spider.on_error(Failure(IgnoreRequest("already stored")))
    spider.on_error(Failure(HttpError(Response("http://e.org/a", status=404), "404")))
    spider.on_error(Failure(ConnectionRefusedError("refused")))
    assert crawler.stats.get_value("fetch/ignored") == 1
    assert crawler.stats.get_value("fetch/failed") == 2


def test_undeclared_windows_1256_feed_is_detected() -> None:
    body = (
        "<rss><channel><item><title>كوريا الشمالية ترسل قوات إلى روسيا للمشاركة في القتال</title>"
        "<link>http://e.org/a</link></item></channel></rss>"
    ).encode("cp1256")
    (entry,) = parse_feed(body, "http://e.org/")
    assert entry.title == "كوريا الشمالية ترسل قوات إلى روسيا للمشاركة في القتال"
