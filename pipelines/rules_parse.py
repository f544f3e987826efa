r"""Reading one watchlist: YAML → ``Rule``\ s, every problem as ``file:line: problem``.

The language itself is described in ``pipelines.rules``.  ``WatchlistParser`` resolves
each entry (term group, built-in concept or literal), checks every key and collects all
problems instead of stopping at the first; ``parse_file`` reads a file through
``crawler.config.read_yaml`` and runs it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.config import ConfigError, YamlDoc, read_yaml
from pipelines.arabic import (
    case_variants,
    foreign_key,
    hamza_variants,
    plural_sibling,
    term_words,
)
from pipelines.lexicon import Concept, Lexicon, builtin_lexicon, concept_key
from pipelines.rules_model import Entry, Rule, Term

__all__ = ["DIGESTS", "FIELDS", "SCOPES", "WatchlistParser", "parse_file"]

SCOPES = ("story", "paragraph", "sentence")
DIGESTS = ("hourly", "daily")
FIELDS = ("title", "body")
_RULE_KEYS = frozenset(
    {
        "name",
        "all",
        "any",
        "none",
        "notify",
        "near",
        "scope",
        "min_any",
        "threshold",
        "fields",
        "description",
        "digest",
        "urgent",
    }
)
_ENTRY_KINDS = ("term", "group", "concept", "literal", "foreign")
_TOP_KEYS = frozenset({"terms", "rules"})


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return (
            f"boolean {str(value).lower()} (YAML reads yes/no/on/off/true/false as booleans:"
            " quote it)"
        )
    if value is None:
        return "nothing (null)"
    if isinstance(value, (int, float)):
        return f"number {value} (quote it to use it as text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@dataclass
class WatchlistParser:
    """Validates one watchlist file, collecting every problem instead of stopping."""

    doc: YamlDoc
    lexicon: Lexicon
    channels: Collection[str] | None
    errors: list[ConfigError] = field(default_factory=list)
    # Suspicions rather than errors (a literal spelled almost like a concept): reported by
    # ``check_watchlist`` only, never a reason to refuse the file.
    warnings: list[ConfigError] | None = None
    groups: dict[str, Any] = field(default_factory=dict)
    group_terms: dict[str, Term | None] = field(default_factory=dict)
    resolving: set[str] = field(default_factory=set)

    def fail(self, at: tuple[str | int, ...], problem: str) -> None:
        self.errors.append(self.doc.error(at, problem))

    # -- entries -----------------------------------------------------------------------

    def group_name(self, name: str) -> str | None:
        if name in self.groups:
            return name
        folded = concept_key(name)
        for group in self.groups:
            if concept_key(group) == folded:
                return group
        return None

    def literal(self, text: str, at: tuple[str | int, ...], *, foreign: bool = False) -> Term:
        words = term_words(text)
        if not words:
            self.fail(at, f"term {text!r} has no letters or digits to match")
        if foreign:
            glued = foreign_key(text)
            return Term(text, foreign=(glued,), key="foreign:" + glued)
        # every hamza-seat spelling of the term is an alias of it («مسؤول» = «مسئول»), and
        # a literal ignores case even for a name that concepts only find capitalised
        literals: tuple[tuple[str, ...], ...] = (tuple(words),)
        spellings = [v for c in case_variants(text) for v in hamza_variants(c)]
        sibling = plural_sibling(words)
        if len(spellings) > 1 or sibling:
            found = dict.fromkeys(tuple(term_words(v)) for v in spellings)
            if sibling:
                found.setdefault(tuple(sibling))
            literals = tuple(w for w in found if w)
        return Term(text, literals=literals, key="lit:" + " ".join(words))

    def concept(self, concept: Concept, label: str) -> Term:
        return Term(label, concepts=(concept.name,), key="concept:" + concept_key(concept.name))

    def group(self, name: str, at: tuple[str | int, ...]) -> Term | None:
        if name in self.group_terms:
            return self.group_terms[name]
        if name in self.resolving:
            self.fail(at, f"term group {name!r} refers to itself")
            return None
        self.resolving.add(name)
        items = self.groups[name]
        parts: list[Term] = []
        for j, item in enumerate(items):
            term = self.entry(item, ("terms", name, j), inside=name)[0]
            if term is not None:
                parts.append(term)
        self.resolving.discard(name)
        term = Term(
            name,
            literals=tuple(w for t in parts for w in t.literals),
            foreign=tuple(w for t in parts for w in t.foreign),
            concepts=tuple(c for t in parts for c in t.concepts),
            key=f"group:{self.doc.path}:{name}",
        )
        self.group_terms[name] = term
        return term

    def entry(
        self, raw: object, at: tuple[str | int, ...], inside: str | None = None
    ) -> tuple[Term | None, float]:
        """Resolve one list item into a ``Term`` and its weight (``None`` when invalid)."""
        weight = 1.0
        kind = "term"
        if isinstance(raw, dict):
            kinds = [k for k in raw if k in _ENTRY_KINDS]
            unknown = [k for k in raw if k not in (*_ENTRY_KINDS, "weight")]
            if unknown:
                self.fail(
                    at,
                    f"unknown key {unknown[0]!r} in entry (use one of "
                    f"{', '.join(_ENTRY_KINDS)} and optionally weight)",
                )
                return None, weight
            if len(kinds) != 1:
                self.fail(at, f"an entry mapping needs exactly one of {', '.join(_ENTRY_KINDS)}")
                return None, weight
            kind = kinds[0]
            if "weight" in raw:
                w = raw["weight"]
                if inside is not None:
                    self.fail(at, "weights belong in rules, not in term groups")
                elif isinstance(w, bool) or not isinstance(w, (int, float)):
                    self.fail((*at, "weight"), f"weight must be a number, not {_type_name(w)}")
                else:
                    weight = float(w)
            raw = raw[kind]
            at = (*at, kind)
        if not isinstance(raw, str):
            self.fail(at, f"expected a term (text), got {_type_name(raw)}")
            return None, weight
        text = raw.strip()
        if not text:
            self.fail(at, "empty term")
            return None, weight
        if kind in ("literal", "foreign"):
            return self.literal(text, at, foreign=kind == "foreign"), weight
        if kind in ("term", "group"):
            own = inside is not None and concept_key(text) == concept_key(inside)
            name = None if own else self.group_name(text)
            if name is not None:
                return self.group(name, at), weight
            if kind == "group":
                known = ", ".join(sorted(self.groups)) or "none"
                self.fail(at, f"unknown term group {text!r} (groups in this file: {known})")
                return None, weight
        concept = self.lexicon.get(text)
        if concept is not None:
            return self.concept(concept, text), weight
        if kind == "concept":
            self.fail(at, f"unknown concept {text!r}")
            return None, weight
        if self.warnings is not None and kind == "term":
            near = self.lexicon.near_name(text)
            if near is not None:
                self.warnings.append(
                    self.doc.error(
                        at,
                        f"warning: {text!r} is not a built-in concept and will only match"
                        f" as written; did you mean {near!r}?",
                    )
                )
        return self.literal(text, at), weight

    def entries(self, rule: dict[str, Any], key: str, at: tuple[str | int, ...]) -> list[Entry]:
        raw = rule.get(key)
        if raw is None:
            return []
        if isinstance(raw, (str, dict)):
            raw = [raw]  # a single entry is forgiven: ``all: Russia``
        if not isinstance(raw, list):
            self.fail((*at, key), f"{key} must be a list of terms, not {_type_name(raw)}")
            return []
        out: list[Entry] = []
        for j, item in enumerate(raw):
            term, weight = self.entry(item, (*at, key, j))
            if term is not None:
                out.append(Entry(term, weight, key))
        return out

    # -- rules -------------------------------------------------------------------------

    def rule(self, raw: object, i: int, names: dict[str, int]) -> Rule | None:
        at: tuple[str | int, ...] = ("rules", i)
        if not isinstance(raw, dict):
            self.fail(at, f"a rule must be a mapping, not {_type_name(raw)}")
            return None
        before = len(self.errors)
        for key in raw:
            if key not in _RULE_KEYS:
                self.fail(
                    (*at, key),
                    f"unknown key {key!r} in rule (known: {', '.join(sorted(_RULE_KEYS))})",
                )
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail((*at, "name"), "every rule needs a name (text)")
            name = f"#{i + 1}"
        elif name in names:
            self.fail((*at, "name"), f"duplicate rule name {name!r} (first on line {names[name]})")
        else:
            names[name] = self.doc.line((*at, "name")) or 0
        all_ = self.entries(raw, "all", at)
        any_ = self.entries(raw, "any", at)
        none = self.entries(raw, "none", at)
        if not raw.get("all") and not raw.get("any"):
            self.fail(at, f"rule {name!r} is empty: give it `all` or `any` terms")
        notify = self._notify(raw, at)
        near = self._positive_int(raw, "near", at)
        if near is not None and len(raw.get("all") or []) < 2:
            self.fail((*at, "near"), "near needs at least two `all` entries")
        min_any = self._positive_int(raw, "min_any", at)
        if min_any is not None and min_any > len(raw.get("any") or []):
            self.fail(
                (*at, "min_any"),
                f"min_any is {min_any} but `any` has {len(raw.get('any') or [])} entries",
            )
        scope = raw.get("scope", "story")
        if scope not in SCOPES:
            self.fail((*at, "scope"), f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
            scope = "story"
        threshold = raw.get("threshold")
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, (int, float))
        ):
            self.fail(
                (*at, "threshold"), f"threshold must be a number, not {_type_name(threshold)}"
            )
            threshold = None
        fields = self._fields(raw, at)
        description = raw.get("description")
        if description is not None and not isinstance(description, str):
            self.fail((*at, "description"), "description must be text")
        digest = raw.get("digest")
        if digest is not None and digest not in DIGESTS:
            shown = repr(digest) if isinstance(digest, str) else _type_name(digest).split(" (")[0]
            self.fail((*at, "digest"), f"digest must be one of {', '.join(DIGESTS)}, not {shown}")
            digest = None
        urgent = raw.get("urgent", False)
        # Strict: YAML 1.1 also reads yes/no/on/off as booleans; only true/false is meant.
        token = self.doc.plain.get((*at, "urgent"), "true" if urgent is True else "false")
        if not isinstance(urgent, bool) or token.lower() not in ("true", "false"):
            shown = (
                repr(token)
                if isinstance(urgent, bool)
                else f"the text {urgent!r}"
                if isinstance(urgent, str)
                else _type_name(urgent).split(" (")[0]
            )
            self.fail((*at, "urgent"), f"urgent must be true or false, not {shown}")
            urgent = False
        if urgent and "digest" in raw:
            self.fail((*at, "urgent"), "urgent rules are sent at once; drop digest or urgent")
        if len(self.errors) > before:
            return None
        return Rule(
            name=name,
            all=tuple(all_),
            any=tuple(any_),
            none=tuple(none),
            notify=notify,
            near=near,
            scope=scope,
            min_any=min_any if min_any is not None else (1 if any_ else 0),
            threshold=float(threshold) if threshold is not None else None,
            fields=fields,
            origin=f"{self.doc.path}:{self.doc.line(at) or 0}",
            digest=digest,
            urgent=urgent,
        )

    def _notify(self, raw: dict[str, Any], at: tuple[str | int, ...]) -> tuple[str, ...] | None:
        if "notify" not in raw or raw["notify"] is None:
            return None
        value = raw["notify"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail(
                (*at, "notify"),
                "notify must list channel names (leave it out to notify every channel)",
            )
            return None
        names: list[str] = []
        for j, item in enumerate(value):
            if not isinstance(item, str):
                self.fail((*at, "notify", j), f"channel name expected, got {_type_name(item)}")
            elif self.channels is not None and item not in self.channels:
                known = ", ".join(sorted(self.channels)) or "none"
                self.fail((*at, "notify", j), f"unknown channel {item!r} (channels: {known})")
            else:
                names.append(item)
        return tuple(names)

    def _positive_int(self, raw: dict[str, Any], key: str, at: tuple[str | int, ...]) -> int | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            # as written: YAML reads an unquoted NO as false, which no one meant
            written = self.doc.plain.get((*at, key))
            shown = (
                repr(written)
                if written is not None and isinstance(value, bool)
                else _type_name(value)
                if not isinstance(value, int)
                else value
            )
            self.fail((*at, key), f"{key} must be a whole number of at least 1, not {shown}")
            return None
        return value

    def _fields(self, raw: dict[str, Any], at: tuple[str | int, ...]) -> frozenset[str]:
        value = raw.get("fields", list(FIELDS))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.fail((*at, "fields"), "fields must list title and/or body")
            return frozenset(FIELDS)
        bad = [v for v in value if v not in FIELDS]
        if bad:
            self.fail((*at, "fields"), f"unknown field {bad[0]!r} (use title, body)")
            return frozenset(FIELDS)
        return frozenset(value)

    # -- the file ----------------------------------------------------------------------

    def parse(self, names: dict[str, int]) -> list[Rule]:
        data = self.doc.data
        if data is None:
            self.fail((), "the watchlist is empty (it needs `rules:`)")
            return []
        if not isinstance(data, dict):
            self.fail((), "a watchlist is a mapping with `terms:` and `rules:`")
            return []
        for key in data:
            if key not in _TOP_KEYS:
                self.fail((key,), f"unknown key {key!r} (a watchlist has terms and rules)")
        terms = data.get("terms") or {}
        if not isinstance(terms, dict):
            self.fail(("terms",), "terms must map group names to lists of terms")
            terms = {}
        for name, items in terms.items():
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not items:
                self.fail(("terms", name), f"term group {name!r} must be a non-empty list")
                continue
            self.groups[str(name)] = items
        for name in list(self.groups):
            self.group(name, ("terms", name))
        rules = data.get("rules")
        if not isinstance(rules, list) or not rules:
            self.fail(("rules",), "rules must be a non-empty list of rules")
            return []
        out: list[Rule] = []
        for i, raw in enumerate(rules):
            rule = self.rule(raw, i, names)
            if rule is not None:
                out.append(rule)
        return out


def parse_file(
    path: str | Path,
    channels: Collection[str] | None,
    names: dict[str, int],
    lexicon: Lexicon | None = None,
    *,
    warn: bool = False,
) -> tuple[list[Rule], list[ConfigError]]:
    """The rules of one file and its problems (with the warnings when ``warn``)."""
    try:
        doc = read_yaml(path)
    except ConfigError as exc:
        return [], [exc]
    parser = WatchlistParser(
        doc, lexicon or builtin_lexicon(), channels, warnings=[] if warn else None
    )
    rules = parser.parse(names)
    return rules, parser.errors + (parser.warnings or [])
