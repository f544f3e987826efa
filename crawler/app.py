"""The process-wide state the Scrapy components share: config, database, rules, dedupe index.

Several sources crawl at once in one process, each with its own Scrapy crawler and so its
own pipeline instances; they must still see one dedupe index and one rule set, or two
sources publishing the same story would each alert.  ``App.for_settings`` hands every
component the same ``App`` for the same config file.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.config import Config, load_config
from crawler.db import open_database
from crawler.items import Story
from crawler.models import Story as StoryRow

if TYPE_CHECKING:
    from pipelines.dedupe import DedupeIndex
    from pipelines.rules import RuleSet


@dataclass
class App:
    config: Config
    sessions: sessionmaker[Session]
    _apps: ClassVar[dict[str, App]] = {}
    # Stories in a store batch not yet committed, by URL: the dedupe index reads them here.
    pending: dict[str, Story] = field(default_factory=dict)

    @classmethod
    def open(cls, config: Config) -> App:
        """Open the database (migrating it) for ``config`` and register the App."""
        app = cls(config=config, sessions=open_database(config.database))
        cls._apps[str(config.path)] = app
        return app

    @classmethod
    def for_settings(cls, settings: Any) -> App:
        """The registered App for ``settings['WIREWATCH_CONFIG']``, opened on first use."""
        path = settings.get("WIREWATCH_CONFIG")
        if path:  # every component of every crawler asks: read the YAML once
            known = cls._apps.get(str(Path(path).resolve()))
            if known is not None:
                return known
        config = load_config(Path(path) if path else None)
        app = cls._apps.get(str(config.path))
        return app if app is not None else cls.open(config)

    @cached_property
    def rules(self) -> RuleSet:
        """The compiled watchlists.  They live as long as the process (a crawl), so they
        are moved out of the cyclic garbage collector's way: with 100,000 rules, every full
        collection would otherwise walk millions of objects that never become garbage."""
        from pipelines.rules import load_watchlists

        rules = load_watchlists(self.config.watchlists, channels=set(self.config.channels))
        gc.collect()
        gc.freeze()
        return rules

    @cached_property
    def dedupe(self) -> DedupeIndex:
        """The near-duplicate index, rebuilt from the stories stored within the window."""
        from pipelines.dedupe import Candidate, DedupeIndex

        window = self.config.dedupe.window_delta
        index = DedupeIndex(window, fetch=self._fetch_texts)
        since = datetime.now(timezone.utc) - window
        query = select(
            StoryRow.url,
            StoryRow.cluster_id,
            StoryRow.fetched_at,
            StoryRow.body_hash,
            StoryRow.signature,
        ).where(StoryRow.fetched_at >= since)
        with self.sessions() as session:
            index.load(
                Candidate(
                    key=row.url,
                    cluster=row.cluster_id,
                    title="",
                    body="",
                    seen_at=row.fetched_at,
                    body_hash=row.body_hash,
                    signature=row.signature or b"",
                )
                for row in session.execute(query)
            )
        return index

    def _fetch_texts(self, keys: list[Any]) -> dict[Any, tuple[str, str]]:
        """Title and body of indexed stories by URL: the pending batch, then the database."""
        found = {
            k: (self.pending[k].title, self.pending[k].body) for k in keys if k in self.pending
        }
        rest = [k for k in keys if k not in found]
        if rest:
            query = select(StoryRow.url, StoryRow.title, StoryRow.body).where(
                StoryRow.url.in_(rest)
            )
            with self.sessions() as session:
                found.update((row.url, (row.title, row.body)) for row in session.execute(query))
        return found
