"""The item that flows from the spiders through the pipelines.

Spiders fill the extracted fields; the pipelines fill the rest in ITEM_PIPELINES order:
``NormalizePipeline`` sets ``folded``, ``DedupePipeline`` sets ``cluster`` (and
``duplicate_of``), ``MatchPipeline`` sets ``matches``, ``StorePipeline`` writes it all in
one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pipelines.rules_model import Evidence, RuleMatch

if TYPE_CHECKING:
    from pipelines.dedupe import Fingerprint

__all__ = ["Evidence", "RuleMatch", "Story"]


@dataclass
class Story:
    """A story as extracted from a source, plus what the pipelines learned about it.

    ``body`` is plain text, paragraphs separated by a blank line. ``published`` is
    timezone-aware UTC or None.
    """

    url: str
    source: str
    title: str
    body: str
    published: datetime | None = None
    agency: str | None = None
    dateline: str | None = None
    language: str = "ar"
    # Set by the pipelines.
    folded: str = ""
    cluster: str | None = None
    duplicate_of: str | None = None  # url of the cluster's first story, when a near-duplicate
    fingerprint: Fingerprint | None = None
    matches: list[RuleMatch] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body.split("\n\n") if p.strip()]

    @property
    def excerpt(self) -> str:
        text = " ".join(self.paragraphs[:1]) or self.body
        return text if len(text) <= 400 else text[:399].rstrip() + "…"
