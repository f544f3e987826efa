"""Compiled watch rules: term hits → candidate rules → verified matches.

Matching indexes the rules, not the document (the Lucene Monitor "presearcher" idea).
``pipelines.rules_terms.TermIndex`` finds which terms occur in a story, and where; here,
only rules *anchored* on a term that was hit are candidates (every rule is anchored on its
least shared ``all`` term, or on each of its ``any`` terms); a candidate missing one of
its other ``all`` terms is dropped with one set comparison, the rest are verified
(``pipelines.rules_verify``), and evidence is written only for the rules that matched.

The cost therefore grows with the length of the text and the number of hits, not with the
number of rules.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pipelines.lexicon import Lexicon
from pipelines.rules_doc import Document
from pipelines.rules_model import Entry, Hit, Rule, RuleMatch, Term
from pipelines.rules_terms import TermIndex
from pipelines.rules_verify import verify

__all__ = ["Entry", "Hit", "Rule", "RuleSet", "Term", "verify"]


class RuleSet:
    """Rules compiled for matching.  ``match`` is the one operation.

    ``match`` is a pure function of (rules, title, body); the word cache of its term index
    is only memoisation.
    """

    def __init__(self, rules: list[Rule], lexicon: Lexicon) -> None:
        self.rules: list[Rule] = rules
        self.terms = TermIndex(
            lexicon,
            (
                name
                for rule in rules
                for entry in (*rule.all, *rule.any, *rule.none)
                for name in entry.term.concepts
            ),
        )
        self._rule_terms: list[tuple[list[int], list[int], list[int]]] = []
        self._anchors: dict[int, list[int]] = defaultdict(list)
        usage: Counter[int] = Counter()
        term_id = self.terms.term_id
        for rule in rules:
            ids = (
                [term_id(e.term) for e in rule.all],
                [term_id(e.term) for e in rule.any],
                [term_id(e.term) for e in rule.none],
            )
            self._rule_terms.append(ids)
            usage.update(set(ids[0]) | set(ids[1]))
        is_concept = self.terms.is_concept
        for rid, (all_ids, any_ids, _) in enumerate(self._rule_terms):
            # The least shared required term is the most selective anchor we know of; on a
            # tie a literal beats a concept (a concept has many aliases, so more hits).
            anchors = (
                [min(all_ids, key=lambda t: (usage[t], is_concept(t)))] if all_ids else any_ids
            )
            for tid in set(anchors):
                self._anchors[tid].append(rid)
        # a candidate rule must have hit all its ``all`` terms, not only its anchor
        self._required: list[frozenset[int] | None] = [
            frozenset(all_ids) if len(set(all_ids)) > 1 else None
            for all_ids, _, _ in self._rule_terms
        ]

    def match(self, title: str, body: str) -> list[RuleMatch]:
        """The rules that match a story, in watchlist order, each with its evidence.

        Title and body are both searched unless a rule restricts ``fields``.
        """
        return self.match_document(Document.build(title, body))

    def match_document(self, doc: Document) -> list[RuleMatch]:
        """``match`` on an already tokenised story."""
        hits = self.terms.term_hits(doc)
        present = hits.keys()
        rules, rule_terms, required = self.rules, self._rule_terms, self._required
        out = []
        for rid in self.candidates(hits):
            # cheap rejection first: an ``all`` term that did not occur anywhere
            need = required[rid]
            if need is not None and not present >= need:
                continue
            found = verify(rules[rid], rule_terms[rid], hits, doc)
            if found is not None:
                out.append(found)
        return out

    def term_hits(self, doc: Document) -> dict[int, list[Hit]]:
        """Term id → its hits in ``doc`` (see ``TermIndex.term_hits``)."""
        return self.terms.term_hits(doc)

    def candidates(self, hits: dict[int, list[Hit]]) -> list[int]:
        """Ids (watchlist order) of the rules anchored on a term that was hit."""
        found: set[int] = set()
        for tid in hits:
            found.update(self._anchors.get(tid, ()))
        return sorted(found)

    def term_of(self, tid: int) -> Term:
        return self.terms.term(tid)

    def rule_terms(self, rid: int) -> tuple[list[int], list[int], list[int]]:
        """Term ids of rule ``rid``'s all, any and none entries (for ``verify``)."""
        return self._rule_terms[rid]
