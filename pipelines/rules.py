"""Watchlists: YAML → validated, compiled ``RuleSet`` (public entry point of rule matching).

A watchlist (see CONTRACT.md, "Watchlists")::

    terms:                                   # optional named groups, reusable in rules
      sanctions: [عقوبات, "حظر تصدير", sanctions]
    rules:
      - name: north-korea-russia-troops
        all: ["North Korea", "Russia", "troops"]   # every entry must match
        any: [missile, {term: nuclear, weight: 2}] # at least ``min_any`` (default 1) must
        none: [exercise]                           # no entry may match (anywhere)
        notify: [desk-mail]                        # default: every channel
        near: 10            # the ``all`` entries within 10 words of each other
        scope: sentence     # sentence | paragraph | story (default): where all/any co-occur
        min_any: 2
        threshold: 3        # sum of the weights of matched all/any entries (default weight 1)
        fields: [title, body]
        digest: hourly      # hourly | daily: one message per channel and period (default:
                            # each alert at once; see alerts.hold)
        urgent: false       # true: sent at once, through quiet hours and cooldowns

An entry is, in this order: a term-group name of the same file, a built-in concept
(case-insensitive English name, ``pipelines.lexicon``), or a literal (Arabic or Latin,
one or more words).  The mapping forms ``{group: X}``, ``{concept: X}``, ``{literal: X}``,
``{foreign: X}`` (a transliterated name: g-class letters and spacing folded) and
``{term: X}`` say which one explicitly and may carry a ``weight``.  A group named like a
concept replaces it in that file; inside such a group the concept's own name means the
built-in concept, so ``North Korea: ["North Korea", الشطر الشمالي]`` extends it.

Semantics: ``near: N`` holds when one occurrence of each ``all`` entry fits in one field
with at most N other words among them («روسيا آلاف من الجنود» is near: 2).  ``scope``
asks for one sentence/paragraph where ``all``, ``any``/``min_any`` and ``threshold`` hold
together; ``none`` always looks at the whole searched text.  ``fields`` limits every
clause to the title or the body.  The score of a match is the sum of the weights of the
matched ``all`` and ``any`` entries.

``load_watchlists`` raises the first ``ConfigError``; ``check_watchlist`` returns them all,
each ``file:line: problem``, plus warnings for entries that load but look like typos of a
concept name.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from crawler.config import ConfigError, YamlDoc
from pipelines.lexicon import Lexicon, builtin_lexicon
from pipelines.rules_match import RuleSet
from pipelines.rules_model import Entry, Rule, Term
from pipelines.rules_parse import WatchlistParser, parse_file

__all__ = [
    "Entry",
    "Rule",
    "RuleSet",
    "Term",
    "check_watchlist",
    "compile_rules",
    "load_watchlists",
    "rules_from_data",
]


def rules_from_data(data: object, source: str = "<watchlist>") -> list[Rule]:
    """Validate an already parsed watchlist (e.g. built in code); raises the first
    ``ConfigError`` (without line numbers)."""
    parser = WatchlistParser(YamlDoc(path=Path(source), data=data), builtin_lexicon(), None)
    rules = parser.parse({})
    if parser.errors:
        raise parser.errors[0]
    return rules


def check_watchlist(path: str | Path, channels: Collection[str] | None = None) -> list[ConfigError]:
    """Every problem in one watchlist file, in file order; ``[]`` when it is valid.

    Besides the errors that stop ``load_watchlists``, this reports suspicious entries that
    load fine: a Latin, capitalised literal one typo away from a concept name ("North
    Koreaa": did you mean 'North Korea'?), which would otherwise silently match nothing.
    """
    _, errors = parse_file(path, channels, {}, warn=True)
    return sorted(errors, key=lambda e: e.line or 0)


def load_watchlists(
    paths: Sequence[str | Path], channels: Collection[str] | None = None
) -> RuleSet:
    """Load, validate and compile watchlists; raises the first ``ConfigError``.

    ``channels`` are the configured channel names that ``notify`` may use; ``None`` skips
    that check.  Rule names must be unique across all the files.
    """
    names: dict[str, int] = {}
    rules: list[Rule] = []
    for path in paths:
        found, errors = parse_file(path, channels, names)
        if errors:
            raise min(errors, key=lambda e: e.line or 0)
        rules.extend(found)
    return compile_rules(rules)


def compile_rules(rules: Sequence[Rule], lexicon: Lexicon | None = None) -> RuleSet:
    """Index ``rules`` (see ``pipelines.rules_match.RuleSet``) against the lexicon."""
    return RuleSet(list(rules), lexicon or builtin_lexicon())
