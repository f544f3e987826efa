"""Pages that give no story (a video page, a PDF, unreadable text) wait before the next
fetch, as a user sees it: ``wirewatch crawl`` in a subprocess against 127.0.0.1, on SQLite
and PostgreSQL, and the retry schedule as a table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from html import escape
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from crawler.models import SkippedPage, Story
from crawler.seen import GIVE_UP_AFTER, RETRY_CAP, RETRY_FIRST, retry_delay
from tests.httpserver import LocalHTTPServer, Reply
from tests.test_e2e import page, wirewatch

HTML = {"Content-Type": "text/html; charset=utf-8"}
STORY = page(
    "كوريا الشمالية ترسل آلاف الجنود إلى روسيا",
    ["سول (رويترز) - أرسلت بيونغ يانغ آلاف الجنود إلى روسيا خلال الأسابيع الماضية."],
).encode()
VIDEO = (
    "<!doctype html><html lang='ar'><head><meta charset='utf-8'><title>فيديو</title></head>"
    "<body><nav><a href='/'>الرئيسية</a></nav><video src='/v.mp4'></video></body></html>"
).encode()


def rss(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>{escape(p)}</title><link>{base}{p}</link></item>" for p in paths)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>w</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def site() -> Iterator[LocalHTTPServer]:
    server = LocalHTTPServer({}).start()
    base = server.base_url
    server.add("/story.html", Reply(200, HTML, STORY))
    server.add("/video.html", Reply(200, HTML, VIDEO))
    server.add("/report.pdf", Reply(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."))
    paths = ["/story.html", "/video.html", "/report.pdf"]
    server.add("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, rss(base, paths)))
    yield server
    server.stop()


def write_config(tmp_path: Path, site: LocalHTTPServer, database_url: str) -> Path:
    (tmp_path / "watchlist.yaml").write_text(
        'rules:\n  - name: nk\n    all: ["North Korea"]\n', encoding="utf-8"
    )
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        f"database: {database_url}\n"
        f"sources:\n  - name: wire\n    type: feed\n    url: {site.url('/feed.xml')}\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    return config


def make_due(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(update(SkippedPage).values(retry_at=SkippedPage.first_seen))
    engine.dispose()


def rows(database_url: str) -> dict[str, tuple[str, int]]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        found = conn.execute(select(SkippedPage.url, SkippedPage.reason, SkippedPage.tries))
        out = {url.rsplit("/", 1)[-1]: (reason, tries) for url, reason, tries in found}
    engine.dispose()
    return out


def test_a_page_without_a_story_waits_and_is_tried_again_later(
    site: LocalHTTPServer, database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, site, database_url)
    wirewatch(config, "crawl")
    assert rows(database_url) == {"video.html": ("empty_body", 1), "report.pdf": ("not_html", 1)}
    assert site.hits("/video.html") == site.hits("/report.pdf") == 1

    # The next crawl fetches neither: the story is stored, the others are waiting.
    wirewatch(config, "crawl")
    assert site.hits("/video.html") == site.hits("/report.pdf") == site.hits("/story.html") == 1

    # Once due, they are fetched again: the PDF is still no story, the video page now is.
    site.add("/video.html", Reply(200, HTML, STORY))
    make_due(database_url)
    wirewatch(config, "crawl")
    assert site.hits("/video.html") == site.hits("/report.pdf") == 2
    assert rows(database_url) == {"report.pdf": ("not_html", 2)}
    engine = create_engine(database_url)
    with engine.connect() as conn:
        urls = {u.rsplit("/", 1)[-1] for u in conn.scalars(select(Story.url))}
    engine.dispose()
    assert urls == {"story.html", "video.html"}


@pytest.mark.parametrize(
    ("tries", "age", "delay"),
    [
        (1, timedelta(0), RETRY_FIRST),
        (2, timedelta(hours=1), 2 * RETRY_FIRST),
        (4, timedelta(hours=7), 8 * RETRY_FIRST),
        (9, timedelta(days=3), RETRY_CAP),  # doubling stops at a day
        (12, GIVE_UP_AFTER, timedelta(days=3650)),  # a week old: never again
    ],
)
def test_retry_delay(tries: int, age: timedelta, delay: timedelta) -> None:
    assert retry_delay(tries, age) == delay
