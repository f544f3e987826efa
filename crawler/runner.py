"""Run one crawl of some sources in this process and report what it did.

Every source gets its own Scrapy crawler, all on one reactor; a source that fails (bad
URL, server down, spider error) is reported in its ``SourceReport`` and never stops the
others.  ``CrawlerProcess`` can start only once per process: ``wirewatch crawl`` calls
``crawl`` once and exits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from crawler.config import Config, FeedSource, FilesSource, SitemapSource

log = logging.getLogger(__name__)
Source = FilesSource | FeedSource | SitemapSource


@dataclass
class SourceReport:
    name: str
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def get(self, key: str) -> int:
        value = self.stats.get(key, 0)
        return int(value) if isinstance(value, (int, float)) else 0

    @property
    def errors(self) -> int:
        return self.get("log_count/ERROR") + (1 if self.error else 0)


def spider_args(source: Source) -> dict[str, Any]:
    """The spider class name and keyword arguments for one configured source."""
    if isinstance(source, FilesSource):
        return {"source": source.name, "path": source.path}
    args: dict[str, Any] = {"source": source.name, "url": source.url}
    if source.allow_hosts:
        args["allow_hosts"] = ",".join(source.allow_hosts)
    if source.encoding:
        args["encoding"] = source.encoding
    return args


def scrapy_settings(config: Config, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("WIREWATCH_CONFIG", str(config.path), priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def crawl(
    config: Config, sources: list[Source], overrides: dict[str, Any] | None = None
) -> list[SourceReport]:
    """Crawl ``sources`` once, concurrently; return one report per source."""
    settings = scrapy_settings(config, overrides)
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    runs: list[tuple[SourceReport, Crawler]] = []
    for source in sources:
        report = SourceReport(source.name)
        crawler = process.create_crawler(source.type)
        deferred = process.crawl(crawler, **spider_args(source))
        deferred.addErrback(_failed, report)
        runs.append((report, crawler))
    process.start()
    for report, crawler in runs:
        report.stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    return (runs and [report for report, _ in runs]) or []


def _failed(failure: Any, report: SourceReport) -> None:
    report.error = failure.getErrorMessage() or failure.type.__name__
    log.error("source %s failed: %s", report.name, report.error)
