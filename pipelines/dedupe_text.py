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
# names and titles («وزير الخارجية الروسي سيرجي لافروف»).  On the labelled table
# (tests/pipelines/dedupe_pairs.py) the lowest copy / highest non-copy coverage is
# 0.76 / 0.43 counting single words, 0.73 / 0.17 for runs of 3, 0.70 / 0.13 for runs of 4,
# 0.68 / 0.05 for runs of 5.  4 keeps the widest gap that still tolerates a copy edited
# every few words (each edit breaks a run); a short story written with another story's
# words shares only 1–2-word runs with it.
MIN_RUN = 4

# Share of the shorter text the longer one must cover in runs of MIN_RUN+ tokens.  Copies
# on the table score ≥ 0.70 (a trimmed copy against a copy with a rewritten lede is the
# lowest), different stories ≤ 0.13 (a different write-up of seed 1's event sharing the
# names).  0.5 sits in the gap; a short story with a rewritten first paragraph out of
# three still scores ~0.67.  A reused background paragraph in a new story stays below it.
MIN_COVERAGE = 0.5

# Below this many tokens the shorter text is a headline-sized flash: being covered by a
# long story says little (a flash can quote a sentence of anything), so such a pair must
# cover the *longer* text too — i.e. be the same flash.  Not calibrated on data beyond
# the three flashes of the table: a judgement (one changed word in ten is the same flash).
SHORT_TOKENS = 25
MIN_COVERAGE_SHORT = 0.9

# g-class letters: foreign names are transliterated with any of them (بيونغ يانغ /
# بيونج يانج, سيرغي / سيرجي, جونغ / جونج).  Safe here and only here: dedupe compares whole
# texts, so one native word colliding with another (جندي/كندي) cannot make two texts equal.
# (chained str.replace: ~100× faster than str.translate with a dict on article-length text)
_G_CLASS = ("غ", "ج", "ق", "گ")
_G_TARGET = "ك"


def _fold_g_class(text: str) -> str:
    for letter in _G_CLASS:
        text = text.replace(letter, _G_TARGET)
    return text


# Whole lines that are site chrome, not story.  Written as sites spell them and folded
# here, so that the patterns see exactly what fold() makes of a page.
_CHROME_LINES = (
    "هل ترغب بالتعليق على الموضوع",
    "لا تتردد في إعطاء تعليقك",
    "شارك هذا المقال",
    "شاركوا هذا الخبر",
    "تابعونا على",
    "جميع الحقوق محفوظة",
)
# A footer of links to other stories: everything from the marker on is not this story.
_FOOTER_MARKERS = (
    "اقرأ أيضا",
    "اقرأ أيضاً",
    "اقرأ المزيد",
    "شاهد أيضا",
    "أخبار ذات صلة",
    "مواضيع ذات صلة",
    "مقالات ذات صلة",
    "المزيد من الأخبار",
    "الأكثر قراءة",
)


def _line_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"^\W*(?:" + "|".join(re.escape(fold(p)) for p in phrases) + ")")


_BOILERPLATE_LINE = _line_pattern(_CHROME_LINES)
_FOOTER = _line_pattern(_FOOTER_MARKERS)
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


def key_paragraphs(text: str, *, folded: bool = False) -> list[list[str]]:
    """Dedupe tokens of ``text`` per non-empty paragraph (line), boilerplate removed.

    «بيونغ يانغ» and «بِيُونج يَانج» give the same tokens; «٢٠٢٢» gives «2022».
    ``folded=True`` says ``text`` is already ``fold``-ed (fold is idempotent, so passing
    folded text without it is correct, only slower).
    """
    # boilerplate patterns are spelled with the letters fold() keeps, so strip first
    paragraphs = strip_boilerplate(text if folded else fold(text))
    return [toks for toks in (words(_fold_g_class(p)) for p in paragraphs) if toks]


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
    lcs: int = 0  # all tokens in the common subsequence, runs of any length

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
    lcs = LCSseq.similarity(a, b, score_cutoff=cutoff)
    if lcs < cutoff:
        return None
    matched = sum(
        op.src_end - op.src_start
        for op in LCSseq.opcodes(a, b)
        if op.tag == "equal" and op.src_end - op.src_start >= MIN_RUN
    )
    return Overlap(matched=matched, shorter=shorter, longer=longer, lcs=lcs)


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
        # whole-text agreement; runs are not counted here because one LCS alignment can
        # split a run at an inserted word («عاجل» twice), and a flash this similar to
        # another in order is no word salad
        return found.lcs / found.longer >= MIN_COVERAGE_SHORT
    return found.coverage_short >= MIN_COVERAGE
