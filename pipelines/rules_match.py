"""Compiled watch rules: an index from term keys to rules, and the matcher.

Matching indexes the rules, not the document (the Lucene Monitor "presearcher" idea):

1. The story is tokenised and folded once (``pipelines.rules_doc.Document``).
2. Each distinct folded word is analysed once per ``RuleSet`` and remembered: its clitic
   candidates (``pipelines.arabic.candidates``) are looked up in the index of first words
   of every literal alias, and its g-folded forms in the index of foreign names.  Words
   that start nothing cost one dictionary lookup from then on.
3. Phrase and foreign-name starts are verified on the following words; concept hits go
   through the longest-name rule; hits are collected per term.
4. Only rules *anchored* on a term that was hit are verified (every rule is anchored on its
   least shared ``all`` term, or on each of its ``any`` terms).

The cost therefore grows with the length of the text and the number of hits, not with the
number of rules.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from crawler.items import RuleMatch
from pipelines.arabic import candidates, foreign_key, gfold, strip_proclitics, term_words
from pipelines.lexicon import Concept, Lexicon
from pipelines.rules_doc import Document
from pipelines.rules_model import Entry, Hit, Rule, Term
from pipelines.rules_verify import verify

__all__ = ["Entry", "Hit", "Rule", "RuleSet", "Term", "verify"]

_CACHE_LIMIT = 500_000  # distinct words remembered per RuleSet before starting afresh


@dataclass
class _WordInfo:
    """What one distinct folded word starts: literal atoms (with the rest of the phrase
    still to verify), foreign-name g-forms, and the non-first phrase words it can be."""

    singles: list[int] = field(default_factory=list)
    # phrases this word starts, by the phrase's second word: (atom, words after that)
    phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = field(default_factory=dict)
    gforms: list[str] = field(default_factory=list)
    inner: frozenset[str] = frozenset()


@dataclass
class _Atom:
    """One alias; owned by terms directly and/or by concepts (``positive`` False = a
    ``not:`` phrase of that concept)."""

    terms: list[int] = field(default_factory=list)
    concepts: list[tuple[int, bool]] = field(default_factory=list)


class RuleSet:
    """Rules compiled for matching.  ``match`` is the one operation.

    ``match`` is a pure function of (rules, title, body); the word cache it keeps is only
    memoisation.
    """

    def __init__(self, rules: list[Rule], lexicon: Lexicon) -> None:
        self.rules: list[Rule] = rules
        self._lexicon = lexicon
        self._atoms: list[_Atom] = []
        self._literal_ids: dict[tuple[str, ...], int] = {}
        self._foreign_ids: dict[str, int] = {}
        self._first: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        self._inner_words: set[str] = set()
        self._foreign_full: dict[str, list[int]] = defaultdict(list)
        self._foreign_prefix: set[str] = set()
        self._concepts: list[Concept] = []
        self._concept_ids: dict[str, int] = {}
        self._concept_terms: dict[int, list[int]] = defaultdict(list)
        self._terms: list[Term] = []
        self._term_ids: dict[str, int] = {}
        self._anchors: dict[int, list[int]] = defaultdict(list)
        self._cache: dict[str, _WordInfo | None] = {}
        used = {
            name
            for rule in rules
            for entry in (*rule.all, *rule.any, *rule.none)
            for name in entry.term.concepts
        }
        for concept in lexicon.concepts:
            if concept.name in used:
                self._add_concept(concept)
            elif concept.is_name:
                # An unused name still blocks used ones inside it (روسيا البيضاء blocks
                # Russia), but only its multi-word aliases can contain another name.
                self._add_concept(concept, blocking_only=True)
        self._index_rules()

    # -- compiling --------------------------------------------------------------------

    def _atom(self, words: tuple[str, ...] | None, glued: str | None) -> int:
        if words is not None:
            found = self._literal_ids.get(words)
            if found is None:
                found = self._literal_ids[words] = len(self._atoms)
                self._atoms.append(_Atom())
                self._first[words[0]].append((found, words[1:]))
                self._inner_words.update(words[1:])
            return found
        assert glued is not None
        found = self._foreign_ids.get(glued)
        if found is None:
            found = self._foreign_ids[glued] = len(self._atoms)
            self._atoms.append(_Atom())
            self._foreign_full[glued].append(found)
            self._foreign_prefix.update(glued[:k] for k in range(1, len(glued)))
        return found

    def _aliases(self, literal: Iterable[str], foreign: Iterable[str]) -> list[int]:
        atoms = []
        for text in literal:
            words = tuple(term_words(text))
            if words:
                atoms.append(self._atom(words, None))
        for text in foreign:
            glued = foreign_key(text)
            if glued:
                atoms.append(self._atom(None, glued))
        return atoms

    def _add_concept(self, concept: Concept, *, blocking_only: bool = False) -> int:
        cid = self._concept_ids.get(concept.name)
        if cid is not None:
            return cid
        cid = self._concept_ids[concept.name] = len(self._concepts)
        self._concepts.append(concept)
        literal = concept.literal
        if blocking_only:
            literal = tuple(a for a in literal if len(term_words(a)) > 1)
        for atom in self._aliases(literal, concept.foreign):
            self._atoms[atom].concepts.append((cid, True))
        if not blocking_only:
            for atom in self._aliases(concept.exclude, ()):
                self._atoms[atom].concepts.append((cid, False))
        return cid

    def _term_id(self, term: Term) -> int:
        tid = self._term_ids.get(term.key)
        if tid is not None:
            return tid
        tid = self._term_ids[term.key] = len(self._terms)
        self._terms.append(term)
        for words in term.literals:
            self._atoms[self._atom(words, None)].terms.append(tid)
        for glued in term.foreign:
            self._atoms[self._atom(None, glued)].terms.append(tid)
        for name in term.concepts:
            concept = self._lexicon.get(name)
            if concept is not None:
                self._concept_terms[self._add_concept(concept)].append(tid)
        return tid

    def _index_rules(self) -> None:
        self._rule_terms: list[tuple[list[int], list[int], list[int]]] = []
        usage: Counter[int] = Counter()
        for rule in self.rules:
            ids = (
                [self._term_id(e.term) for e in rule.all],
                [self._term_id(e.term) for e in rule.any],
                [self._term_id(e.term) for e in rule.none],
            )
            self._rule_terms.append(ids)
            usage.update(set(ids[0]) | set(ids[1]))
        for rid, (all_ids, any_ids, _) in enumerate(self._rule_terms):
            # The least shared required term is the most selective anchor we know of; on a
            # tie a literal beats a concept (a concept has many aliases, so more hits).
            anchors = (
                [min(all_ids, key=lambda t: (usage[t], bool(self._terms[t].concepts)))]
                if all_ids
                else any_ids
            )
            for tid in set(anchors):
                self._anchors[tid].append(rid)

    # -- matching -----------------------------------------------------------------------

    def _analyse(self, word: str) -> _WordInfo | None:
        info = _WordInfo()
        for cand in candidates(word):
            for atom, rest in self._first.get(cand, ()):
                if rest:
                    info.phrases.setdefault(rest[0], []).append((atom, rest[1:]))
                else:
                    info.singles.append(atom)
        if self._inner_words:
            inner = candidates(word, article_only=True) & self._inner_words
            if inner:
                info.inner = frozenset(inner)
        for form in strip_proclitics(word):
            for g in (gfold(form), gfold(form[2:]) if form.startswith("ال") else ""):
                # Foreign names are indexed without the article; a start shorter than
                # three letters («في») would only waste continuation checks.
                if g in self._foreign_full or (len(g) >= 3 and g in self._foreign_prefix):
                    info.gforms.append(g)
        if not (info.singles or info.phrases or info.gforms or info.inner):
            return None
        return info

    def _infos(self, tokens: list[str]) -> list[_WordInfo | None]:
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        out: list[_WordInfo | None] = []
        for tok in tokens:
            try:
                out.append(cache[tok])
            except KeyError:
                info = cache[tok] = self._analyse(tok)
                out.append(info)
        return out

    def atom_hits(self, doc: Document) -> dict[int, list[Hit]]:
        """Every alias occurrence in ``doc``: atom id → token ranges."""
        tokens = doc.tokens
        sentence_of = doc.token_sentence
        infos = self._infos(tokens)
        n = len(tokens)
        hits: dict[int, list[Hit]] = defaultdict(list)
        for i, info in enumerate(infos):
            if info is None:
                continue
            for atom in info.singles:
                hits[atom].append((i, i + 1))
            if info.phrases and i + 1 < n:
                second = infos[i + 1]
                # a phrase never runs across a sentence (or field) boundary
                if second is not None and second.inner and sentence_of[i + 1] == sentence_of[i]:
                    for word in second.inner:
                        for atom, rest in info.phrases.get(word, ()):
                            end = i + 2 + len(rest)
                            if (
                                end <= n
                                and sentence_of[end - 1] == sentence_of[i]
                                and all(
                                    (nxt := infos[i + 2 + k]) is not None and want in nxt.inner
                                    for k, want in enumerate(rest)
                                )
                            ):
                                hits[atom].append((i, end))
            for g in info.gforms:
                s, j = g, i
                while True:
                    for atom in self._foreign_full.get(s, ()):
                        hits[atom].append((i, j + 1))
                    j += 1
                    if (
                        j >= n
                        or j - i >= 6
                        or s not in self._foreign_prefix
                        or sentence_of[j] != sentence_of[i]
                    ):
                        break
                    s += gfold(tokens[j])
        return hits

    def term_hits(self, doc: Document) -> dict[int, list[Hit]]:
        """Term id → hits, after the longest-name rule and concept ``not:`` phrases."""
        hits = self.atom_hits(doc)
        found: dict[int, set[Hit]] = defaultdict(set)
        concept_hits: dict[int, set[Hit]] = defaultdict(set)
        blocked: dict[int, list[Hit]] = defaultdict(list)
        for atom_id, spans in hits.items():
            atom = self._atoms[atom_id]
            for tid in atom.terms:
                found[tid].update(spans)
            for cid, positive in atom.concepts:
                if positive:
                    concept_hits[cid].update(spans)
                else:
                    blocked[cid].extend(spans)
        if concept_hits:
            for cid, spans in self._resolve_concepts(concept_hits, blocked).items():
                for tid in self._concept_terms.get(cid, ()):
                    found[tid].update(spans)
        return {tid: sorted(spans) for tid, spans in found.items()}

    def _resolve_concepts(
        self, concept_hits: dict[int, set[Hit]], blocked: dict[int, list[Hit]]
    ) -> dict[int, list[Hit]]:
        # A proper name never fires inside a longer alias of another proper name, nor
        # inside one of its own ``not:`` phrases («ريال مدريد» is not Spain).  Likewise a
        # concept's shorter alias inside its own longer one («كوريا الشعبية» in «جمهورية كوريا
        # الشعبية الديمقراطية») is one mention, not two.  Only multi-word hits can contain
        # another hit, and they are few: index the positions they cover.
        cover: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for cid, spans in concept_hits.items():
            for start, end in spans:
                if end - start > 1:
                    for pos in range(start, end):
                        cover[pos].append((start, end, cid))
        out: dict[int, list[Hit]] = {}
        for cid, spans in concept_hits.items():
            is_name = self._concepts[cid].is_name
            stops = blocked.get(cid, ())
            kept = []
            for start, end in spans:
                if stops and any(b[0] <= start and end <= b[1] for b in stops):
                    continue
                if start in cover and self._inside_longer(cid, is_name, start, end, cover):
                    continue
                kept.append((start, end))
            if kept:
                out[cid] = kept
        return out

    def _inside_longer(
        self,
        cid: int,
        is_name: bool,
        start: int,
        end: int,
        cover: dict[int, list[tuple[int, int, int]]],
    ) -> bool:
        for s, e, other in cover[start]:
            if (
                s <= start
                and e >= end
                and e - s > end - start
                and (other == cid or (is_name and self._concepts[other].is_name))
            ):
                return True
        return False

    def match(self, title: str, body: str) -> list[RuleMatch]:
        """The rules that match a story, in watchlist order, each with its evidence.

        Title and body are both searched unless a rule restricts ``fields``.
        """
        doc = Document.build(title, body)
        return self.match_document(doc)

    def match_document(self, doc: Document) -> list[RuleMatch]:
        """``match`` on an already tokenised story."""
        hits = self.term_hits(doc)
        out = []
        for rid in self.candidates(hits):
            found = verify(self.rules[rid], self._rule_terms[rid], hits, doc)
            if found is not None:
                out.append(found)
        return out

    def candidates(self, hits: dict[int, list[Hit]]) -> list[int]:
        """Ids (watchlist order) of the rules anchored on a term that was hit."""
        found: set[int] = set()
        for tid in hits:
            found.update(self._anchors.get(tid, ()))
        return sorted(found)

    def term_of(self, tid: int) -> Term:
        return self._terms[tid]

    def rule_terms(self, rid: int) -> tuple[list[int], list[int], list[int]]:
        """Term ids of rule ``rid``'s all, any and none entries (for ``verify``)."""
        return self._rule_terms[rid]
