"""Dedupe-only text keys and the verification score: pure functions, no I/O.

The dedupe key is stricter about *spelling* and looser about *meaning* than
``pipelines.arabic.fold``: it compares whole texts, never single words, so it may fold
letters that ``fold`` must keep apart for rule matching.

* ``key_paragraphs(text)`` → word tokens per paragraph, after ``fold``, after folding the
  g-class letters غ ج ق ك to one letter (بيونغ = بيونج = بيونق) and after removing site
  boilerplate (comment prompts, «اقرأ أيضا» footers).
* ``overlap(a, b)`` → how much of the shorter token sequence the longer one covers *in
  order*, counting only aligned runs of at least ``MIN_RUN`` tokens.
* ``is_near_duplicate(a, b)`` → the calibrated decision (see the thresholds below and
  ``tests/pipelines/dedupe_pairs.py`` for the labelled pairs they were calibrated on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import LCSseq

from pipelines.arabic import fold, words

# A run of fewer tokens is what two *different* write-ups of one event share by necessity:
# names and titles («وزير الخارجية الروسي») — 3 tokens is the shortest run that still
# separates the seeds while keeping every copy in the labelled table (a short unrelated
# story built from another story's words shares only 1–2-token runs with it).
MIN_RUN = 3

# Share of the shorter text the longer one must cover in runs of MIN_RUN+ tokens.
# Labelled table (tests/pipelines/dedupe_pairs.py): copies score ≥ 0.66 (a short story
# with a rewritten lede is the lowest), different stories ≤ 0.15 (the two seeds, a
# different write-up of the same meeting, a same-topic story, a word-salad of another
# story).  0.5 sits in the gap with margin on both sides.
MIN_COVERAGE = 0.5

# Below this many tokens the shorter text is a headline-sized flash: being covered by a
# long story says little (a flash can quote a sentence of anything), so such a pair must
# cover the *longer* text too — i.e. be the same flash.
SHORT_TOKENS = 25
MIN_COVERAGE_SHORT = 0.9

# g-class letters: foreign names are transliterated with any of them (بيونغ يانغ /
# بيونج يانج, سيرغي / سيرجي, جونغ / جونج).  Safe here and only here: dedupe compares whole
# texts, so one native word colliding with another (جندي/كندي) cannot make two texts equal.
_G_CLASS = str.maketrans({"غ": "ك", "ج": "ك", "ق": "ك", "گ": "ك"})

# Whole lines that are site chrome, not story (matched on folded text).
_BOILERPLATE_LINE = re.compile(
    r"^\W*(?:هل ترغب بالتعليق على الموضوع|لا تتردد في اعطاء تعليقك"
    r"|شارك(?:وا)? (?:هذا )?(?:المقال|الخبر)|تابعونا على|جميع الحقوق محفوظه)",
)
# A footer of links to other stories: everything from the marker on is not this story.
_FOOTER = re.compile(
    r"^\W*(?:اقرا ايضا|اقرا ايضاً|اقرا المزيد|شاهد ايضا|اخبار ذات صله|مواضيع ذات صله"
    r"|مقالات ذات صله|المزيد من الاخبار|الاكثر قراءه)"
)
# A footer marker in the first part of a text is an inline "see also" link line: drop the
# line, keep what follows.  Later than this share of the text, it starts the footer.
_FOOTER_FROM = 0.4


def strip_boilerplate(folded: str) -> list[str]:
    """Non-empty lines of folded ``folded`` text without site boilerplate.

    «…نص الخبر\\nاقرا ايضا:\\nعنوان اخر» → ["…نص الخبر"]
    """
    lines = [line.strip() for line in folded.splitlines()]
    lines = [line for line in lines if line]
    total = sum(len(line) for line in lines) or 1
    kept: list[str] = []
    seen = 0
    for line in lines:
        if _FOOTER.match(line):
            if seen / total >= _FOOTER_FROM:
                break
            seen += len(line)
            continue
        seen += len(line)
        if _BOILERPLATE_LINE.match(line):
            continue
        kept.append(line)
    return kept


def key_paragraphs(text: str) -> list[list[str]]:
    """Dedupe tokens of ``text`` per non-empty paragraph (line), boilerplate removed.

    «بيونغ يانغ» and «بِيُونج يَانج» give the same tokens; «٢٠٢٢» gives «2022».
    """
    paragraphs = strip_boilerplate(fold(text).translate(_G_CLASS))
    return [toks for toks in (words(p) for p in paragraphs) if toks]


def key_tokens(text: str) -> list[str]:
    """All dedupe tokens of ``text`` in order (``key_paragraphs`` flattened)."""
    return [tok for para in key_paragraphs(text) for tok in para]


@dataclass(frozen=True)
class Overlap:
    """In-order overlap of two token sequences.

    ``matched`` counts tokens inside aligned runs of at least ``MIN_RUN`` tokens of one
    longest-common-subsequence alignment; scattered single-word matches do not count.
    """

    matched: int
    shorter: int
    longer: int

    @property
    def coverage_short(self) -> float:
        """Share of the shorter sequence covered (1.0 for a trimmed or footer-wrapped copy)."""
        return self.matched / self.shorter if self.shorter else 0.0

    @property
    def coverage_long(self) -> float:
        """Share of the longer sequence covered (1.0 only for near-identical texts)."""
        return self.matched / self.longer if self.longer else 0.0


def overlap(a: list[str], b: list[str], *, min_coverage: float = 0.0) -> Overlap | None:
    """The in-order run overlap of ``a`` and ``b``, or None when it is surely below
    ``min_coverage`` of the shorter sequence.

    The LCS length bounds the run-filtered count from above, so the bit-parallel
    ``LCSseq.similarity`` with ``score_cutoff`` rejects most non-duplicates before the
    (slower) alignment is computed.
    """
    shorter, longer = sorted((len(a), len(b)))
    if shorter == 0:
        return None
    cutoff = max(1, int(min_coverage * shorter))
    if LCSseq.similarity(a, b, score_cutoff=cutoff) < cutoff:
        return None
    matched = sum(
        op.src_end - op.src_start
        for op in LCSseq.opcodes(a, b)
        if op.tag == "equal" and op.src_end - op.src_start >= MIN_RUN
    )
    return Overlap(matched=matched, shorter=shorter, longer=longer)


def is_near_duplicate(a: list[str], b: list[str]) -> bool:
    """True when token sequences ``a`` and ``b`` are copies of one story.

    Copies: identical, republished with a changed lede, paragraphs dropped, trimmed to the
    first paragraphs, wrapped in a footer.  Not copies: different write-ups of one event,
    same-topic stories, a short text whose words (not phrases) all occur in a longer one.
    """
    found = overlap(a, b, min_coverage=MIN_COVERAGE)
    if found is None:
        return False
    if found.shorter < SHORT_TOKENS:
        return found.coverage_long >= MIN_COVERAGE_SHORT
    return found.coverage_short >= MIN_COVERAGE
