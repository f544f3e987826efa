"""Scrapy settings for wirewatch: the one place for defaults.

``ITEM_PIPELINES`` is the only place that orders the stages.  The ``WIREWATCH_*``
settings are read by the wirewatch components:

- ``WIREWATCH_CONFIG``: path of ``wirewatch.yaml`` (default: ``./wirewatch.yaml``, else the
  bundled default); the pipelines and middlewares take the database, rules and channels
  from it.
- ``WIREWATCH_PROGRESS_INTERVAL``: seconds between progress lines on stderr (0: none).
"""

from __future__ import annotations

BOT_NAME = "wirewatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "wirewatch/0.1 (+news monitoring crawler)"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Far below Scrapy's defaults (1 GiB, 180 s): an article page is never that large or slow.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5

CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 8
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0

DOWNLOADER_MIDDLEWARES = {
    "crawler.seen.SeenArticleMiddleware": 50,
}

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.dedupe_pipeline.DedupePipeline": 200,
    "pipelines.match.MatchPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}

EXTENSIONS = {
    "crawler.progress.Progress": 500,
}

WIREWATCH_CONFIG = None
WIREWATCH_PROGRESS_INTERVAL = 5.0

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
