"""The spiders, run for real: a subprocess crawl against tests.httpserver on 127.0.0.1.

Each crawl runs in its own process (the Twisted reactor cannot restart), with the lead's
pipelines, downloader middlewares and extensions switched off so only the spiders and
extraction are under test. Items come back through Scrapy's feed exporter (which also
proves the Story dataclass serialises); stats through a JSON dump.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.httpserver import LocalHTTPServer, Reply

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

# Words of the «الأكثر قراءة» sidebars in the fixtures that must never reach a body.
SIDEBAR_WORDS = [
    "الأكثر قراءة",
    "الجبهة الروسية",
    "صواريخ باليستية",
    "تنشر قوات على حدود",
    "بوتين يشكر",
    "توقعان اتفاق دفاع",
    "خاركيف",
]

RUNNER = """
import json, sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

name, args, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
overrides = json.loads(sys.argv[4])
settings = get_project_settings()
for key, value in overrides.items():
    settings.set(key, value, priority="cmdline")
settings.set("FEEDS", {out: {"format": "jsonlines", "encoding": "utf-8"}}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(name)
process.crawl(crawler, **args)
process.start()
stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
with open(out + ".stats.json", "w") as fh:
    json.dump(stats, fh)
"""

ISOLATED = {
    "ITEM_PIPELINES": {},
    "DOWNLOADER_MIDDLEWARES": {},
    "EXTENSIONS": {},
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
}


class CrawlResult:
    def __init__(self, items: list[dict[str, Any]], stats: dict[str, Any], log: str, code: int):
        self.items, self.stats, self.log, self.returncode = items, stats, log, code

    def by_url(self, suffix: str) -> dict[str, Any]:
        found = [item for item in self.items if item["url"].endswith(suffix)]
        assert len(found) == 1, (suffix, [i["url"] for i in self.items])
        return found[0]


def run_spider(name: str, args: dict[str, Any], tmp_path: Path, **overrides: Any) -> CrawlResult:
    out = tmp_path / f"{name}.jsonl"
    settings = {**ISOLATED, **overrides}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, name, json.dumps(args), str(out), json.dumps(settings)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    items = []
    if out.exists():
        items = [json.loads(line) for line in out.read_text("utf-8").splitlines() if line]
    stats_file = Path(str(out) + ".stats.json")
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    assert proc.returncode == 0, proc.stderr[-3000:]
    return CrawlResult(items, stats, proc.stderr, proc.returncode)


def _fixture(path: str, base: str) -> bytes:
    return (FIXTURES / path).read_text("utf-8").replace("@BASE@", base).encode("utf-8")


def _page(name: str, charset: str = "utf-8") -> bytes:
    return (FIXTURES / "pages" / name).read_text("utf-8").encode(charset)


HTML_UNDECLARED = {"Content-Type": "text/html"}
# 20 MB of zeros, ~20 kB compressed: more than the DOWNLOAD_MAXSIZE once inflated.
GZIP_BOMB = gzip.compress(b"\0" * 20_000_000)
MOJIBAKE_PAGE = (
    "<html><body><article><h1>"
    + "كوريا الشمالية".encode().decode("cp1252", errors="replace")
    + "</h1><p>"
    + ("روسيا ترسل قوات إلى الحدود. " * 5).encode().decode("cp1252", errors="replace")
    + "</p></article></body></html>"
).encode("utf-8")


@pytest.fixture(scope="module")
def site() -> Any:
    server = LocalHTTPServer().start()
    base = server.base_url
    xml = {"Content-Type": "application/xml"}
    routes: dict[str, Any] = {
        "/rss.xml": Reply(
            200, {"Content-Type": "application/rss+xml"}, _fixture("feeds/rss.xml", base)
        ),
        "/atom.xml": Reply(
            200, {"Content-Type": "application/atom+xml"}, _fixture("feeds/atom.xml", base)
        ),
        "/bomb.xml": Reply(200, xml, _fixture("feeds/bomb.xml", base)),
        "/broken.xml": Reply(200, xml, _fixture("feeds/malformed.xml", base)),
        "/sitemaps/index.xml": Reply(200, xml, _fixture("sitemaps/index.xml", base)),
        "/sitemaps/news.xml.gz": Reply(
            200,
            {"Content-Type": "application/x-gzip"},
            gzip.compress(_fixture("sitemaps/news.xml", base)),
        ),
        "/news/korea.html": Reply(
            200, {"Content-Type": "text/html; charset=utf-8"}, _page("korea_utf8.html")
        ),
        # windows-1256 with no charset anywhere: Scrapy alone would give cp1252 mojibake.
        "/news/wheat.html": Reply(200, HTML_UNDECLARED, _page("wheat_cp1256.html", "cp1256")),
        # windows-1256 declared in <meta> only.
        "/news/floods.html": Reply(
            200, HTML_UNDECLARED, _page("floods_cp1256_declared.html", "cp1256")
        ),
        "/news/empty.html": Reply(
            200, HTML_UNDECLARED, b"<html><body><nav><a href='/'>x</a></nav></body></html>"
        ),
        "/news/mojibake.html": Reply(
            200, {"Content-Type": "text/html; charset=utf-8"}, MOJIBAKE_PAGE
        ),
        "/news/moved.html": Reply(301, {"Location": "/news/korea.html"}, b""),
        "/news/redirect-away.html": Reply(302, {"Location": "http://offsite.example/trap"}, b""),
        "/bomb.xml.gz": Reply(200, {"Content-Type": "application/x-gzip"}, GZIP_BOMB),
        "/huge.xml": Reply(200, xml, b"<rss>" + b" " * 300_000 + b"</rss>"),
    }
    for path, route in routes.items():
        server.add(path, route)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rss(site: LocalHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    return run_spider(
        "feed", {"source": "wire", "url": site.url("/rss.xml")}, tmp_path_factory.mktemp("rss")
    )


def test_rss_yields_the_followable_articles(rss: CrawlResult) -> None:
    assert sorted(i["url"].rsplit("/", 1)[1] for i in rss.items) == ["korea.html", "wheat.html"]
    assert all(item["source"] == "wire" for item in rss.items)


def test_rss_page_title_wins_and_feed_date_wins(rss: CrawlResult) -> None:
    korea = rss.by_url("/news/korea.html")
    assert korea["title"] == "كوريا الشمالية ترسل مزيدا من الجنود إلى روسيا"
    assert korea["published"] == "2024-11-02T06:00:00+00:00"
    assert korea["agency"] == "Reuters"
    assert korea["dateline"] == "سول"
    assert korea["body"].startswith("قالت أجهزة المخابرات")


def test_undeclared_windows_1256_page_is_correct_arabic(rss: CrawlResult) -> None:
    wheat = rss.by_url("/news/wheat.html")
    assert "وزارة التموين المصرية" in wheat["body"]
    assert wheat["title"].startswith("مصر تزيد وارداتها من القمح")
    assert wheat["agency"] == "AFP"
    assert wheat["published"] == "2024-11-01T10:00:00+00:00"  # feed's +0200 → UTC


@pytest.mark.parametrize("word", SIDEBAR_WORDS)
def test_most_read_sidebar_never_in_a_body(rss: CrawlResult, word: str) -> None:
    for item in rss.items:
        assert word not in item["body"], item["url"]


def test_wheat_body_has_no_trigger_words(rss: CrawlResult) -> None:
    body = rss.by_url("/news/wheat.html")["body"]
    for word in ("كوريا", "روسيا", "قوات", "بوتين"):
        assert word not in body


def test_rss_stats_and_refusals(rss: CrawlResult, site: LocalHTTPServer) -> None:
    stats = rss.stats
    assert stats["feed/items"] == 6
    assert stats["feed/offsite"] == 1
    assert stats["extract/empty_body"] == 1
    assert stats["extract/mojibake"] == 1
    assert stats["fetch/redirect_refused"] == 1
    assert stats["extract/stories"] == 2
    assert "Traceback" not in rss.log


@pytest.fixture(scope="module")
def atom(site: LocalHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    return run_spider(
        "feed",
        {"source": "atom", "url": site.url("/atom.xml"), "allow_hosts": "other.example"},
        tmp_path_factory.mktemp("atom"),
    )


def test_atom_declared_windows_1256(atom: CrawlResult) -> None:
    floods = atom.by_url("/news/floods.html")
    assert "اجتاحت فيضانات عارمة" in floods["body"]
    assert floods["agency"] == "Anadolu"
    assert floods["published"] == "2024-10-30T06:15:00+00:00"
    for word in ("كوريا", "روسيا", "قوات", "الأكثر"):
        assert word not in floods["body"]


def test_atom_redirect_on_same_host_keeps_the_feed_url(atom: CrawlResult) -> None:
    moved = atom.by_url("/news/moved.html")
    assert moved["title"] == "كوريا الشمالية ترسل مزيدا من الجنود إلى روسيا"
    assert moved["published"] == "2024-11-02T10:00:00+00:00"


@pytest.fixture(scope="module")
def sitemap(site: LocalHTTPServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    return run_spider(
        "sitemap",
        {"source": "news-sitemap", "url": site.url("/sitemaps/index.xml")},
        tmp_path_factory.mktemp("sitemap"),
    )


def test_google_news_sitemap_via_gzip_index(sitemap: CrawlResult) -> None:
    wheat = sitemap.by_url("/news/wheat.html")
    assert wheat["published"] == "2024-11-01T10:00:00+00:00"  # news:publication_date
    assert "القمح" in wheat["body"]
    floods = sitemap.by_url("/news/floods.html")
    assert floods["published"] == "2024-10-30T06:00:00+00:00"  # page <time>, not lastmod
    assert sitemap.stats["sitemap/sitemaps"] == 1
    assert sitemap.stats["sitemap/offsite"] == 2
    assert sitemap.stats["sitemap/items"] == 3


@pytest.mark.parametrize("path", ["/bomb.xml", "/broken.xml", "/news/korea.html"])
def test_bad_feed_logs_one_error_and_yields_nothing(
    site: LocalHTTPServer, tmp_path: Path, path: str
) -> None:
    result = run_spider("feed", {"source": "bad", "url": site.url(path)}, tmp_path)
    assert result.items == []
    assert result.stats["feed/malformed"] == 1
    assert result.stats.get("log_count/ERROR") == 1
    assert "Traceback" not in result.log


def test_unreachable_feed_is_logged_not_raised(tmp_path: Path) -> None:
    with LocalHTTPServer() as server:
        url = server.url("/missing.xml")
    result = run_spider("feed", {"source": "down", "url": url}, tmp_path)
    assert result.items == []
    assert result.stats["fetch/failed"] == 1


def test_files_spider_custom_glob(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "date 2024-11-01\nموسكو (أ ف ب) - قال مسؤول روسي إن المحادثات ستستمر.\n", "utf-8"
    )
    (folder / "b.txt").write_text("هل ترغب بالتعليق على الموضوع؟\n", "utf-8")
    result = run_spider("files", {"source": "local", "path": str(folder / "*.txt")}, tmp_path)
    assert len(result.items) == 1
    item = result.items[0]
    assert item["url"] == (folder / "a.txt").resolve().as_uri()
    assert item["source"] == "local"
    assert item["agency"] == "AFP"
    assert item["published"].startswith("2024-11-01")
    assert result.stats["extract/empty_body"] == 1
    assert result.stats["files/items"] == 2


def test_scrapy_crawl_files_with_no_arguments(tmp_path: Path) -> None:
    out = tmp_path / "seeds.jsonl"
    command = [sys.executable, "-m", "scrapy", "crawl", "files", "-O", str(out)]
    for key, value in ISOLATED.items():
        command += ["-s", f"{key}={json.dumps(value) if isinstance(value, dict) else value}"]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    seeds = sorted(ROOT.glob("seeds/*.txt"))
    assert len(items) == len(seeds) >= 2
    assert {item["source"] for item in items} == {"seeds"}
    for item in items:
        assert item["title"] and "\n" not in item["title"]
        assert "هل ترغب بالتعليق" not in item["body"]
        assert "(أ ف ب)" not in item["body"]


def test_gzip_bomb_sitemap_is_bounded(site: LocalHTTPServer, tmp_path: Path) -> None:
    result = run_spider("sitemap", {"source": "bomb", "url": site.url("/bomb.xml.gz")}, tmp_path)
    assert result.items == []
    assert result.stats["sitemap/malformed"] == 1


def test_response_over_the_size_limit_is_dropped(site: LocalHTTPServer, tmp_path: Path) -> None:
    result = run_spider(
        "feed", {"source": "huge", "url": site.url("/huge.xml")}, tmp_path, DOWNLOAD_MAXSIZE=100_000
    )
    assert result.items == []
    assert result.stats["fetch/failed"] == 1


def test_unknown_encoding_fails_the_source_clearly(site: LocalHTTPServer, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            "feed",
            json.dumps({"source": "s", "url": site.url("/rss.xml"), "encoding": "klingon"}),
            str(out),
            json.dumps(ISOLATED),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "unknown encoding 'klingon'" in proc.stderr
