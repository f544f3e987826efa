"""``files`` spider: text stories from local files (the seed format, see crawler.textstory).

Kwargs: ``source`` (default ``"seeds"``), ``path`` (a glob, default ``seeds/*.txt``
relative to the working directory; ``**`` recurses), ``encoding`` (override). Each file
is requested as a ``file://`` URI so it goes through the downloader middlewares like any
page — including the seen-article check, which makes a re-crawl fetch nothing.

Stats: ``files/items`` files matched, ``files/none`` when the glob matched nothing, plus
the ``extract/*`` keys of :mod:`crawler.spiders.base`.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from scrapy.http import Response

from crawler.encoding import arabic_ratio
from crawler.items import Story
from crawler.spiders.base import ORIGIN_META, REDIRECT_CODES, WirewatchSpider
from crawler.textstory import parse_text_story

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "seeds"
DEFAULT_PATH = "seeds/*.txt"


class FilesSpider(WirewatchSpider):
    """Reads every file matching ``path`` as one text story."""

    name = "files"

    def __init__(
        self,
        source: str | None = None,
        path: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(source=source or DEFAULT_SOURCE, encoding=encoding, **kwargs)
        self.path = path or DEFAULT_PATH

    def files(self) -> list[Path]:
        """The regular files matching ``path``, sorted so runs are reproducible."""
        matches = sorted(glob.glob(self.path, recursive=True))
        return [Path(m).resolve() for m in matches if Path(m).is_file()]

    async def start(self) -> AsyncIterator[Any]:
        files = self.files()
        if not files:
            self.inc("files/none")
            logger.warning("[%s] no files match %r", self.source, self.path)
        for path in files:
            self.inc("files/items")
            yield self.make_request(path.as_uri(), self.parse_file, article=True)

    def parse_file(self, response: Response) -> Iterator[Any]:
        """One text file → one :class:`Story` (or nothing, with a logged reason)."""
        if response.status in REDIRECT_CODES:  # not for file://, but keep one code path
            yield from self.follow_redirect(response)
            return
        url = response.meta.get(ORIGIN_META) or response.url
        text = self.decode(response) or ""
        parsed = parse_text_story(text)
        yield from self.emit(
            Story(
                url=url,
                source=self.source,
                title=parsed.title,
                body=parsed.body,
                published=parsed.published,
                agency=parsed.agency,
                dateline=parsed.dateline,
                language="ar" if arabic_ratio(parsed.body) >= 0.5 else "und",
            )
        )
