"""The term index: which watchlist terms occur in a story, and where.

The first half of matching (``pipelines.rules_match`` does the second, from term hits to
rules).  Every alias of every term and concept is an *atom*: a folded word tuple (a
literal, indexed by its first word) or a g-folded glued transliteration (a foreign name,
indexed by its prefixes).

1. The story is tokenised and folded once (``pipelines.rules_doc.Document``).
2. Each distinct folded word is analysed once per index and remembered (wire vocabulary
   repeats enormously): its clitic candidates (``pipelines.arabic.candidates``) are
   looked up among the first words of the literal atoms, and its g-folded forms among the
   foreign names; what it is on its own is kept as term and concept ids.  Words that
   start nothing cost one dictionary lookup from then on; which phrases a word pair
   continues is remembered the same way.
3. Phrase and foreign-name starts are verified on the following words; concept hits go
   through the longest-name rule; hits are collected per term.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.arabic import (
    candidates,
    cased_token,
    foreign_key,
    gfold,
    hamza_variants,
    may_be_cased,
    name_words,
    strip_proclitics,
    term_words,
)
from pipelines.lexicon import Concept, Lexicon
from pipelines.rules_doc import Document
from pipelines.rules_model import Hit, Term

__all__ = ["TermIndex"]

_CACHE_LIMIT = 500_000  # distinct words remembered per RuleSet before starting afresh


_MISSING = object()


def _add(hits: dict[int, list[Hit]], key: int, span: Hit) -> None:
    """``hits[key].append(span)``, the list made on first use (a plain dict: compiled by
    mypyc, a defaultdict is looked up the slow way)."""
    found = hits.get(key)
    if found is None:
        hits[key] = [span]
    else:
        found.append(span)


class _WordInfo:
    """What one distinct folded word starts, worked out once per ``RuleSet``.

    ``terms`` and ``concepts`` are what it is on its own (a one-word alias; each id once);
    ``phrases`` the phrases it starts, by their second word: (atom, words after that);
    ``after`` remembers, per following word, which of those phrases it continues (wire
    copy repeats its word pairs); ``gforms`` its g-folded forms that start a foreign name;
    ``inner`` the non-first phrase words it can be.
    """

    __slots__ = (
        "after",
        "blocks",
        "cased",
        "concepts",
        "gforms",
        "inner",
        "phrases",
        "single",
        "terms",
    )

    def __init__(self) -> None:
        self.single = False  # terms, concepts or blocks
        self.cased = False  # written with a capital it is another token (``cased_token``)
        self.terms: tuple[int, ...] = ()
        self.concepts: tuple[int, ...] = ()
        self.blocks: tuple[int, ...] = ()
        self.phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.after: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {}
        self.gforms: list[str] = []
        self.inner: frozenset[str] = frozenset()


@dataclass
class _Atom:
    """One alias; owned by terms directly and/or by concepts (``positive`` False = a
    ``not:`` phrase of that concept)."""

    terms: list[int] = field(default_factory=list)
    concepts: list[tuple[int, bool]] = field(default_factory=list)


class TermIndex:
    """Terms and the concepts they name, indexed by their words; ``term_hits`` is the
    one operation.  The word cache it keeps is only memoisation.

    Terms get ids in the order they are added (``term_id``); a term with the same ``key``
    gets the same id.  Concepts named by no term still block the ones in use inside their
    longer names (روسيا البيضاء blocks Russia), so every proper name of the lexicon is
    indexed that far.
    """

    def __init__(self, lexicon: Lexicon, used_concepts: Iterable[str]) -> None:
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
        self._cache: dict[str, _WordInfo | None] = {}
        self._pairs = 0  # word pairs remembered in the cached infos' ``after``
        self._gfolded: dict[str, str] = {}  # words that continue a foreign name, g-folded
        used = set(used_concepts)
        for concept in lexicon.concepts:
            if concept.name in used:
                self._add_concept(concept)
            elif concept.is_name:
                # An unused name still blocks used ones inside it (روسيا البيضاء blocks
                # Russia), but only its multi-word aliases can contain another name.
                self._add_concept(concept, blocking_only=True)

    @property
    def known_words(self) -> int:
        """Distinct words analysed so far (the size of the word cache)."""
        return len(self._cache)

    def term(self, tid: int) -> Term:
        return self._terms[tid]

    def is_concept(self, tid: int) -> bool:
        return bool(self._terms[tid].concepts)

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

    def _aliases(
        self, literal: Iterable[str], foreign: Iterable[str], *, name: bool = False
    ) -> list[int]:
        atoms = []
        split = name_words if name else term_words
        for text in literal:
            for spelling in hamza_variants(text):
                words = tuple(split(spelling))
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
        for atom in self._aliases(literal, concept.foreign, name=concept.is_name):
            self._atoms[atom].concepts.append((cid, True))
        if not blocking_only:
            for atom in self._aliases(concept.exclude, ()):
                self._atoms[atom].concepts.append((cid, False))
        return cid

    def term_id(self, term: Term) -> int:
        """The id of ``term``, indexing its aliases the first time."""
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

    # -- matching -----------------------------------------------------------------------

    def _analyse(self, word: str) -> _WordInfo | None:
        info = _WordInfo()
        singles: set[int] = set()
        for cand in candidates(word):
            for atom, rest in self._first.get(cand, ()):
                if rest:
                    info.phrases.setdefault(rest[0], []).append((atom, rest[1:]))
                else:
                    singles.add(atom)
        if singles:
            terms: set[int] = set()
            concepts: set[int] = set()
            blocks: set[int] = set()
            for atom in singles:
                terms.update(self._atoms[atom].terms)
                for cid, positive in self._atoms[atom].concepts:
                    (concepts if positive else blocks).add(cid)
            info.terms, info.concepts = tuple(sorted(terms)), tuple(sorted(concepts))
            info.blocks = tuple(sorted(blocks))
            info.single = bool(terms or concepts or blocks)
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
        info.cased = may_be_cased(word)
        if not (info.single or info.phrases or info.gforms or info.cased):
            return None if not info.inner else info
        return info

    def _info(self, token: str) -> _WordInfo | None:
        found = self._cache.get(token, _MISSING)
        if found is _MISSING:
            found = self._cache[token] = self._analyse(token)
        return found  # type: ignore[return-value]

    def _infos(self, tokens: list[str]) -> list[_WordInfo | None]:
        cache = self._cache
        if len(cache) + self._pairs + len(self._gfolded) > _CACHE_LIMIT:
            cache.clear()
            self._gfolded.clear()
            self._pairs = 0
        return [self._info(token) for token in tokens]

    def _recased(self, doc: Document, infos: list[_WordInfo | None]) -> list[str]:
        """``doc``'s tokens with the cased names written with their capital turned into
        their own tokens («US» → u.s, «Turkey» → turkey.); ``infos`` follow."""
        tokens = doc.tokens.copy()
        for i, info in enumerate(infos):
            if info is not None and info.cased:
                token = cased_token(doc.written(i))
                if token is not None:
                    tokens[i] = token
                    infos[i] = self._info(token)
        return tokens

    def _continued(
        self, info: _WordInfo, nxt: str, second: _WordInfo | None
    ) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """The phrases started by ``info`` whose second word is the word ``nxt``."""
        found = info.after.get(nxt)
        if found is None:
            phrases: list[tuple[int, tuple[str, ...]]] = []
            if second is not None and second.inner:
                for word in second.inner:
                    phrases += info.phrases.get(word, ())
            found = info.after[nxt] = tuple(phrases)  # mostly (), which costs nothing
            self._pairs += 1
        return found

    def term_hits(self, doc: Document) -> dict[int, list[Hit]]:
        """Term id → its hits in ``doc`` (sorted token ranges), after the longest-name
        rule and concepts' ``not:`` phrases."""
        tokens = doc.tokens
        sentence_of = doc.token_sentence
        infos = self._infos(tokens)
        if any(info is not None and info.cased for info in infos):  # rare: «US», «Turkey»
            tokens = self._recased(doc, infos)
        gfolded = self._gfolded
        n = len(tokens)
        found: dict[int, list[Hit]] = {}
        concept_hits: dict[int, list[Hit]] = {}
        blocked: dict[int, list[Hit]] = {}
        atom_hits: list[tuple[int, Hit]] = []  # phrases and foreign names
        for i in range(n):
            info = infos[i]
            if info is None:
                continue
            if info.single:
                span = (i, i + 1)
                for tid in info.terms:
                    _add(found, tid, span)
                for cid in info.concepts:
                    _add(concept_hits, cid, span)
                if info.blocks:
                    for cid in info.blocks:
                        _add(blocked, cid, span)
            # a phrase never runs across a sentence (or field) boundary
            if info.phrases and i + 1 < n and sentence_of[i + 1] == sentence_of[i]:
                following = tokens[i + 1]
                continued = info.after.get(following)
                if continued is None:
                    continued = self._continued(info, following, infos[i + 1])
                for atom, rest in continued:
                    end = i + 2 + len(rest)
                    if not rest or (
                        end <= n
                        and sentence_of[end - 1] == sentence_of[i]
                        and all(
                            (nxt := infos[i + 2 + k]) is not None and want in nxt.inner
                            for k, want in enumerate(rest)
                        )
                    ):
                        atom_hits.append((atom, (i, end)))
            for g in info.gforms:
                s, j = g, i
                while True:
                    for atom in self._foreign_full.get(s, ()):
                        atom_hits.append((atom, (i, j + 1)))
                    j += 1
                    if (
                        j >= n
                        or j - i >= 6
                        or s not in self._foreign_prefix
                        or sentence_of[j] != sentence_of[i]
                    ):
                        break
                    tok = tokens[j]
                    g_tok = gfolded.get(tok)
                    if g_tok is None:
                        g_tok = gfolded[tok] = gfold(tok)
                    s += g_tok
        for atom_id, span in atom_hits:
            owner = self._atoms[atom_id]
            for tid in owner.terms:
                _add(found, tid, span)
            for cid, positive in owner.concepts:
                _add(concept_hits if positive else blocked, cid, span)
        if concept_hits:
            for cid, spans in self._resolve_concepts(concept_hits, blocked).items():
                for tid in self._concept_terms.get(cid, ()):
                    for span in spans:
                        _add(found, tid, span)
        for tid, spans in found.items():
            if len(spans) > 1:
                found[tid] = sorted(set(spans))
        return found

    def _resolve_concepts(
        self, concept_hits: dict[int, list[Hit]], blocked: dict[int, list[Hit]]
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
        if not cover and not blocked:
            return concept_hits  # nothing can contain anything: the usual story
        out: dict[int, list[Hit]] = {}
        for cid, spans in concept_hits.items():
            stops = blocked.get(cid, ())
            if not stops and not any(start in cover for start, _ in spans):
                out[cid] = spans
                continue
            is_name = self._concepts[cid].is_name
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
