"""The compiled form of watch rules: terms, entries and rules (see ``pipelines.rules``)."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def simple(self) -> bool:
        """True when presence anywhere decides the rule (no scope, proximity or fields)."""
        return self.scope == "story" and self.near is None and len(self.fields) == 2


# A hit is a half-open range of token positions in the Document.
Hit = tuple[int, int]
