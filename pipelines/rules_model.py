"""The compiled form of watch rules: terms, entries and rules (see ``pipelines.rules``),
and what matching one gives: ``RuleMatch`` with its ``Evidence``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Term:
    """A resolved watchlist entry: the aliases any of which makes it match.

    ``literals`` are folded word tuples (``term_words``); ``foreign`` are g-folded glued
    transliterations; ``concepts`` are names of lexicon concepts.  ``key`` identifies the
    term across rules so that a term shared by many rules is matched once.
    """

    label: str
    literals: tuple[tuple[str, ...], ...] = ()
    foreign: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    key: str = ""


@dataclass(frozen=True)
class Entry:
    """A term as used in one clause of one rule, with its weight."""

    term: Term
    weight: float = 1.0
    clause: str = "all"


@dataclass(frozen=True)
class Rule:
    """One validated watch rule (see ``pipelines.rules`` for the YAML keys)."""

    name: str
    all: tuple[Entry, ...] = ()
    any: tuple[Entry, ...] = ()
    none: tuple[Entry, ...] = ()
    notify: tuple[str, ...] | None = None
    near: int | None = None
    scope: str = "story"
    min_any: int = 0
    threshold: float | None = None
    fields: frozenset[str] = frozenset({"title", "body"})
    origin: str = ""
    # Volume control (alerts.hold): "hourly" | "daily" groups the period's alerts into one
    # message per channel; None sends each at once. ``urgent`` passes quiet hours and
    # cooldowns.
    digest: str | None = None
    urgent: bool = False
    # True when presence anywhere decides the rule (no scope, proximity or fields); set
    # once here because the matcher asks for every candidate rule of every story.
    simple: bool = field(init=False, repr=False, compare=False)
    all_weight: float = field(init=False, repr=False, compare=False)  # sum, in order
    any_weights: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        simple = self.scope == "story" and self.near is None and len(self.fields) == 2
        object.__setattr__(self, "simple", simple)
        total = 0.0
        for entry in self.all:
            total += entry.weight
        object.__setattr__(self, "all_weight", total)
        object.__setattr__(self, "any_weights", tuple(e.weight for e in self.any))


@dataclass
class Evidence:
    """Why a rule fired: the clause, the surface forms matched, the sentences with marks.

    ``sentences`` hold the original text with each matched form wrapped in ``[[...]]``
    (renderers turn the marks into ``<mark>`` or leave them as they are).
    """

    clause: str  # "all" | "any" | "none" | "threshold"
    term: str  # the watchlist entry, e.g. "North Korea"
    forms: list[str]  # surface forms found in the text, e.g. ["بيونج يانج", "كوريا الشمالية"]
    sentences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "term": self.term,
            "forms": list(self.forms),
            "sentences": list(self.sentences),
        }


@dataclass
class RuleMatch:
    """One rule that matched one story."""

    rule: str
    notify: list[str] | None  # channel names; None means every channel
    evidence: list[Evidence]
    score: float | None = None


# A hit is a half-open range of token positions in the Document.
Hit = tuple[int, int]
