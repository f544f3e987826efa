"""The pipeline stages together, built the Scrapy way, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import pipelines.store
from crawler.app import App
from crawler.items import Story
from crawler.models import Alert, Cluster, Match
from crawler.models import Story as StoryRow
from pipelines.dedupe_pipeline import DedupePipeline
from pipelines.match import MatchPipeline
from pipelines.normalize import NormalizePipeline
from pipelines.store import StorePipeline

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "seeds" / "004_ca1ffc38c5cd97af.txt").read_text(encoding="utf-8")
BODY = "\n\n".join(p for p in SEED.split("\n\n")[:-1])  # without the «(أ ف ب)» sign-off
BODY = BODY.replace(" date 2024-11-01 ", "")
OTHER = (
    "أعلنت وزارة الدفاع الروسية أن قواتها صدت هجوما بطائرات مسيرة على منطقة بيلغورود.\n\n"
    "وقال حاكم المنطقة إن الهجوم لم يسفر عن إصابات لكنه ألحق أضرارا بمبنى سكني."
)


class Stages:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stages = [
            cls.from_crawler(crawler)
            for cls in (NormalizePipeline, DedupePipeline, MatchPipeline, StorePipeline)
        ]
        self.store = self.stages[-1]

    def feed(self, item: Story) -> Story:
        for stage in self.stages:
            item = stage.process_item(item)
        return item


@pytest.fixture
def stages(tmp_path: Path, database_url: str) -> Stages:
    (tmp_path / "watchlist.yaml").write_text(
        'rules:\n  - name: nk\n    all: ["North Korea", troops]\n'
        "  - name: russia\n    all: [Russia]\n    notify: [hook]\n",
        encoding="utf-8",
    )
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        f"database: {database_url}\nwatchlists: [watchlist.yaml]\n"
        "channels:\n  terminal:\n    type: console\n"
        "  hook:\n    type: webhook\n    url: http://127.0.0.1:9/h\n    secret: whsec_eA==\n",
        encoding="utf-8",
    )
    crawler = get_crawler(settings_dict={"WIREWATCH_CONFIG": str(config), "STORE_BATCH_SECONDS": 0})
    return Stages(crawler)


def story(url: str, body: str, title: str = "") -> Story:
    return Story(url=url, source="test", title=title, body=body)


def count(app: App, model: type, *where: object) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_copies_share_a_cluster_and_alert_once(stages: Stages) -> None:
    app = stages.store.app
    original = stages.feed(story("http://w/1", BODY))
    copy = stages.feed(story("http://w/2", BODY.replace("بيونغ", "بيونج") + "\n\nاقرأ أيضا"))
    other = stages.feed(story("http://w/3", OTHER))
    stages.store.close_spider()

    assert copy.cluster == original.cluster != other.cluster
    assert count(app, StoryRow) == 3
    assert count(app, Cluster) == 2
    assert {m.rule for m in original.matches} == {"nk", "russia"}
    # nk → every channel, russia → hook only; once per cluster, not per copy.
    with app.sessions() as session:
        alerts = sorted(
            (a.rule, a.channel, a.cluster_id == original.cluster)
            for a in session.scalars(select(Alert))
        )
    assert alerts == [
        ("nk", "hook", True),
        ("nk", "terminal", True),
        ("russia", "hook", False),
        ("russia", "hook", True),
    ]
    assert count(app, Match) == 5
    stats = stages.crawler.stats
    assert stats is not None
    assert stats.get_value("store/stored") == 3
    assert stats.get_value("alerts/queued") == 4
    assert stats.get_value("dedupe/near_duplicate") == 1


def test_stories_listing_shows_clusters(stages: Stages) -> None:
    from crawler.listing import list_stories

    stages.feed(Story(url="http://w/1", source="t", title="", body=BODY, agency="AFP"))
    stages.feed(
        Story(url="http://w/2", source="t", title="", body=BODY + "\n\nاقرأ أيضا", agency="Reuters")
    )
    stages.feed(Story(url="http://w/3", source="t", title="", body=OTHER))
    stages.store.close_spider()
    listed = {s.url: s for s in list_stories(stages.store.app.sessions)}
    assert listed["http://w/1"].cluster == listed["http://w/2"].cluster
    assert listed["http://w/1"].cluster_size == 2
    assert listed["http://w/1"].cluster_agencies == ["AFP", "Reuters"]
    assert listed["http://w/1"].cluster_first_seen is not None
    assert listed["http://w/3"].cluster_size == 1
    assert listed["http://w/1"].rules == ["nk", "russia"]
    assert listed["http://w/3"].rules == ["russia"]
    assert [s.url for s in list_stories(stages.store.app.sessions, rule="nk")] == [
        "http://w/2",
        "http://w/1",
    ]


def test_a_restarted_process_dedupes_against_stored_stories(
    stages: Stages, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = stages.feed(story("http://w/1", BODY))
    stages.store.close_spider()
    # A new process: nothing registered, the index is rebuilt from the database.
    monkeypatch.setattr(App, "_apps", {})
    restarted = Stages(stages.crawler)
    assert restarted.store.app is not stages.store.app
    assert len(restarted.store.app.dedupe) == 1
    copy = restarted.feed(story("http://w/2", BODY.replace("بيونغ يانغ", "بيونج يانج")))
    restarted.store.close_spider()
    assert copy.cluster == first.cluster
    with restarted.store.app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 3  # no new alert


def test_a_url_is_stored_once(stages: Stages) -> None:
    stages.feed(story("http://w/1", OTHER))
    with pytest.raises(DropItem, match="already stored"):
        stages.feed(story("http://w/1", OTHER))
    stages.store.close_spider()
    stages.feed(story("http://w/1", OTHER))  # a later crawl racing the seen-URL check
    stages.store.close_spider()
    assert count(stages.store.app, StoryRow) == 1


def test_a_failed_batch_stores_nothing_and_is_counted(
    stages: Stages, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = stages.store.app
    real_enqueue = pipelines.store.enqueue

    def enqueue_then_fail(*args: object, **kwargs: object) -> int:
        real_enqueue(*args, **kwargs)  # type: ignore[arg-type]
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(pipelines.store, "enqueue", enqueue_then_fail)
    stages.feed(story("http://w/1", BODY))
    stages.store.close_spider()
    assert count(app, StoryRow) == 0
    assert count(app, Alert) == 0
    assert count(app, Cluster) == 0
    assert app.pending == {}
    assert stages.crawler.stats.get_value("store/failed") == 1  # type: ignore[union-attr]


def test_empty_story_is_dropped_with_a_reason(stages: Stages) -> None:
    with pytest.raises(DropItem, match="no story text"):
        stages.feed(story("http://w/empty", " \n\n \r\n"))


def test_rule_digest_and_urgent_are_stored_on_the_alert_rows(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "watchlist.yaml").write_text(
        'rules:\n  - name: nk\n    all: ["North Korea", troops]\n    digest: hourly\n'
        "  - name: russia\n    all: [Russia]\n    urgent: true\n"
        "  - name: plain\n    all: [Russia]\n",
        encoding="utf-8",
    )
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        f"database: {database_url}\nwatchlists: [watchlist.yaml]\n"
        "channels:\n  terminal:\n    type: console\n    quiet_hours: {from: 22:00, to: 07:00}\n",
        encoding="utf-8",
    )
    crawler = get_crawler(settings_dict={"WIREWATCH_CONFIG": str(config), "STORE_BATCH_SECONDS": 0})
    stages = Stages(crawler)
    stages.feed(story("http://w/1", BODY))
    stages.store.close_spider()
    with stages.store.app.sessions() as session:
        found = sorted(
            (a.rule, a.mode, a.urgent, a.batch_key) for a in session.scalars(select(Alert))
        )
    assert found == [
        ("nk", "hourly", False, None),
        ("plain", "now", False, None),
        ("russia", "now", True, None),
    ]
