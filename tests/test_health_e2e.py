"""End to end: a feed that breaks and comes back, seen through ``wirewatch crawl`` in
subprocesses, with ops notices on a webhook channel and ``wirewatch status --json``.

Crawl 1 works; crawls 2 and 3 get HTTP 404 for the feed, crawl 4 finds nobody listening
(``health.failures: 3`` → one "failing" notice); crawl 5 works again (one "recovered"
notice). The receiver gets exactly those two, signed, each once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.httpserver import LocalHTTPServer, Reply
from tests.test_e2e import SECRET, free_port, page, verify_signature, wirewatch

ARTICLE = (
    "كوريا الشمالية ترسل آلاف الجنود إلى روسيا",
    [
        "سول – (رويترز): أرسلت بيونغ يانغ آلاف الجنود إلى روسيا خلال الأسابيع الماضية، "
        "بحسب ما أعلنت أجهزة المخابرات في كوريا الجنوبية اليوم الثلاثاء."
    ],
)


def _feed(base: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>wire</title>'
        f"<link>{base}/</link><item><title>x</title><link>{base}/a/1.html</link>"
        "<pubDate>Tue, 05 Nov 2024 08:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


@pytest.fixture
def site() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer({}) as server:
        server.add(
            "/a/1.html",
            Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page(*ARTICLE).encode()),
        )
        server.add("/hook", Reply(200, {}, b"ok"))
        yield server


def _write_config(path: Path, feed_url: str, hook_url: str) -> None:
    path.write_text(
        "database: sqlite:///w.db\n"
        f"sources:\n  - name: wire\n    type: feed\n    url: {feed_url}\n    every: 10m\n"
        "channels:\n"
        f"  ops-hook:\n    type: webhook\n    url: {hook_url}\n    secret: {SECRET}\n"
        "health:\n  channel: ops-hook\n  failures: 3\n",
        encoding="utf-8",
    )


def _status(config: Path) -> dict[str, Any]:
    data = json.loads(wirewatch(config, "status", "--json").stdout)
    assert isinstance(data, dict)
    return data


def _hooks(site: LocalHTTPServer) -> list[dict[str, Any]]:
    return [verify_signature(r) for r in site.requests_for("/hook")]


def test_a_source_that_breaks_and_recovers_notifies_once_each_way(
    site: LocalHTTPServer, tmp_path: Path
) -> None:
    base = site.url("").rstrip("/")
    config = tmp_path / "wirewatch.yaml"
    _write_config(config, f"{base}/feed.xml", f"{base}/hook")

    status = _status(config)
    assert status["sources"][0]["health"] == "unknown"
    assert status["sources"][0]["last_run"] is None

    site.add("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, _feed(base)))
    wirewatch(config, "crawl")
    wire = _status(config)["sources"][0]
    assert (wire["health"], wire["last_outcome"], wire["items_found"], wire["stored"]) == (
        "ok",
        "ok",
        1,
        1,
    )
    assert (wire["type"], wire["schedule"]) == ("feed", "every 10m")
    assert wire["next_run"] > wire["last_run"]

    site.remove("/feed.xml")  # 404 from now on
    for expected in (1, 2):
        wirewatch(config, "crawl")
        wire = _status(config)["sources"][0]
        assert (wire["health"], wire["consecutive_failures"]) == ("failing", expected)
        assert wire["last_error"] == "HTTP 404"
    assert _hooks(site) == []

    # Third failure in a row: nobody listens any more.
    _write_config(config, f"http://127.0.0.1:{free_port()}/feed.xml", f"{base}/hook")
    wirewatch(config, "crawl")
    status = _status(config)
    wire = status["sources"][0]
    assert (wire["health"], wire["consecutive_failures"]) == ("broken", 3)
    assert wire["last_error"].startswith("no answer")
    assert status["ops_notices"]["pending"] == []  # delivered at once
    hooks = _hooks(site)
    assert len(hooks) == 1
    assert hooks[0]["rule"] == "ops:wire"
    assert hooks[0]["story"]["title"].startswith("source wire is failing: no answer")
    assert hooks[0]["evidence"] == []

    # Still broken on the next failure: nothing new is sent.
    wirewatch(config, "crawl")
    assert len(_hooks(site)) == 1
    assert _status(config)["sources"][0]["consecutive_failures"] == 4

    _write_config(config, f"{base}/feed.xml", f"{base}/hook")
    site.add("/feed.xml", Reply(200, {"Content-Type": "application/rss+xml"}, _feed(base)))
    wirewatch(config, "crawl")
    wirewatch(config, "crawl")
    hooks = _hooks(site)
    assert [h["story"]["title"] for h in hooks] == [
        hooks[0]["story"]["title"],
        "source wire recovered",
    ]
    ids = [r.headers["webhook-id"] for r in site.requests_for("/hook")]
    assert len(set(ids)) == 2
    wire = _status(config)["sources"][0]
    assert (wire["health"], wire["consecutive_failures"], wire["last_outcome"]) == ("ok", 0, "ok")
    assert (wire["items_found"], wire["stored"]) == (1, 0)  # the article is already stored

    text = wirewatch(config, "status").stdout
    assert "wire [feed, every 10m]: ok" in text
    assert "ops notices pending: 0 (channel ops-hook)" in text
