"""Arabic text normalisation and clitic-aware word candidates: pure functions, no I/O.

``fold`` maps every spelling variant that should compare equal to one form:
harakat and tatweel removed, bidi and zero-width marks removed, alef/hamza forms → ا,
ى → ي, ة → ه, Persian letters → Arabic, Arabic-Indic and Persian digits → ASCII,
Latin lower-cased.  ``words`` splits folded text into word tokens.

The rest serves the watch-rule matcher.  There is deliberately no stemmer on either side
(Snowball, ISRI and Tashaphyne all break on والقوات, بوتين → وتين, الشمالية → شمل = شامل):
a document word is expanded into a handful of *candidates* by removing one combination of
proclitics from a closed list and one combination of suffixes from a closed list, never
leaving fewer than ``MIN_STEM`` letters; a term matches when its folded form is one of those
candidates.  «وبجنودها» → {وبجنودها, بجنودها, جنودها, جنود, ...}; «قواعد» never yields «قوات».

``gfold`` additionally merges the g-class letters (غ ج ق ك گ) for aliases marked as foreign
names (بيونغ = بيونج); it must never be applied to native words (جندي ≠ كندي).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable

_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c\u00ad]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ی": "ي",
        "ي": "ي",
        "ک": "ك",
        "گ": "ك",
        "پ": "ب",
        "چ": "ج",
        "ژ": "ز",
        "ڤ": "ف",
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKS = re.compile(f"{_INVISIBLE.pattern}|{_HARAKAT.pattern}")
# str.translate with a non-ASCII table costs ~0.8 ms per 5 KB; a chain of str.replace over
# the letters actually present does the same one-to-one mapping ~50x faster.
_REPLACEMENTS = tuple((chr(k), v) for k, v in _LETTERS.items())
# Marks ``fold`` deletes that str.isalnum counts as letters, and the two letters whose lower
# case is not one character of the same class in every context.
_LETTER_MARKS = ("\u0640", "\u06e5", "\u06e6", "\u0130", "\u03a3")


def fold(text: str) -> str:
    """Fold ``text`` for comparison: «وَالجُنُودُ» → «والجنود», «٢٠٢٤» → «2024».

    Marks are removed before NFKC so that an isolated haraka never splits a word.
    """
    return _letters(_unmarked(text))


def _unmarked(text: str) -> str:
    """What ``fold`` does before its letter table: marks out, NFKC (and marks out again)."""
    text = _MARKS.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = _HARAKAT.sub("", unicodedata.normalize("NFKC", text))
    return text


def _letters(text: str) -> str:
    """The letter table and lower case: what ``fold`` does after removing marks and NFKC."""
    for old, new in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return text.lower()


def fold_letters(text: str) -> str | None:
    """``text`` with only the one-to-one part of ``fold`` applied (letter table, lower
    case), when that is all ``fold`` would do besides deleting marks; else ``None``.

    So an offset in the result is the same offset in ``text``, words are cut at the same
    places, and a word of the result without marks is already folded; a word with marks
    folds to ``fold(word)``.  ``None`` when ``text`` is not NFKC, holds a mark that counts
    as a letter (tatweel ـ, ۥ, ۦ), or an İ or Σ (lower case changes length or depends on
    the next word).  Wire copy nearly always qualifies.
    """
    if not unicodedata.is_normalized("NFKC", text):
        return None
    for c in _LETTER_MARKS:
        if c in text:
            return None
    return _letters(text)


def words(text: str) -> list[str]:
    """Word tokens of already folded text (underscores are not words)."""
    return [w for w in _WORD.findall(text) if w != "_" * len(w)]


# --- raw words (before folding; pipelines.rules_doc keeps their places) -------------------

# A raw word: word characters plus the marks that ``fold`` deletes, so that «وَالجُنُودُ» or a
# word with a zero-width joiner inside stays one token before folding.
RAW_WORD = re.compile(
    "[\\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
    "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c\u00ad]+"
)


# --- clitics and suffixes ---------------------------------------------------------------------

MIN_STEM = 3  # letters left after removing clitics/suffixes; «الي» never yields «ي»

_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ك", "ل")
_ART = ("", "ال")


def _proclitics() -> tuple[str, ...]:
    found: set[str] = set()
    for conj in _CONJ:
        for prep in _PREP:
            for art in _ART:
                # ل + ال is written لل: «للقوات»
                combo = conj + ("لل" if prep == "ل" and art else prep + art)
                if combo:
                    found.add(combo)
    return tuple(sorted(found, key=len, reverse=True))


PROCLITICS: tuple[str, ...] = _proclitics()
"""Closed list of folded proclitic combinations: و ف ب ك ل ال لل وال فال بال وبال وللل..."""

# Folded (ة → ه): ون/ين sound plurals, ان dual, ات feminine plural, ه/يه feminine and nisba
# feminine, ي nisba, يين/يون/يات nisba plurals, ا accusative tanween (جنودا).
INFLECTIONS: tuple[str, ...] = (
    "يين",
    "يون",
    "يات",
    "يان",
    "ين",
    "ون",
    "ان",
    "ات",
    "يه",
    "ه",
    "ي",
    "ا",
)
# Attached pronouns: جنوده جنودها جنودهم جنودهما جنودهن جنودك جنودكم جنودنا جنودي.
PRONOUNS: tuple[str, ...] = ("هما", "كما", "هم", "هن", "ها", "كم", "كن", "نا", "ه", "ك", "ي")
LATIN_SUFFIXES: tuple[str, ...] = ("es", "s")


def _is_arabic(word: str) -> bool:
    return "\u0600" <= word[0] <= "\u06ff"


_PROCLITIC_SET = frozenset(PROCLITICS)
_ARTICLES = frozenset({"ال", "لل"})
_LONGEST_PROCLITIC = max(map(len, PROCLITICS))
_PRONOUN_SET = frozenset(PRONOUNS)
_INFLECTION_SET = frozenset(INFLECTIONS)
# suffix lengths to try, shortest first; 0 is "no suffix"
_PRONOUN_LENGTHS = (0, *sorted({len(p) for p in PRONOUNS}))
_INFLECTION_LENGTHS = (0, *sorted({len(i) for i in INFLECTIONS}))


def strip_proclitics(word: str, *, article_only: bool = False) -> list[str]:
    """``word`` and every form left after removing one proclitic combination.

    «وبالقوات» → [وبالقوات, قوات, القوات, بالقوات]; with ``article_only`` only ال/لل go
    (for the second word of a phrase: «كوريا الشمالية», not «كوريا والشمالية»).
    """
    out = [word]
    if not word or not _is_arabic(word):
        return out
    allowed = _ARTICLES if article_only else _PROCLITIC_SET
    # a word starts with at most one proclitic combination of each length: look them up
    for k in range(min(_LONGEST_PROCLITIC, len(word) - MIN_STEM + 1), 0, -1):
        pre = word[:k]
        if pre in allowed:
            rest = word[k:]
            if pre.endswith("لل"):  # «للقوات» is ل + القوات
                out.append("ال" + rest)
            out.append(rest)
    return out


def _feminine_dual(stem: str, out: set[str]) -> None:
    # A feminine dual is its singular ة (written ت) + تين/تان: «إيرانيتين» is «إيرانية» + ين,
    # so it yields what «إيرانيه» yields less its ه or يه («إيراني», «إيران»).  Two suffixes
    # for one: still never fewer than MIN_STEM letters («سنتين» → «سنه», not «سن»).
    if len(stem) >= MIN_STEM:
        out.add(stem)
        if stem.endswith("ي") and len(stem) > MIN_STEM:
            out.add(stem[:-1])


def _strip_suffixes(stem: str, out: set[str]) -> None:
    # Suffixes are looked up by length (a word ends with at most one of each length).
    size = len(stem)
    for plen in _PRONOUN_LENGTHS:
        if plen > size:
            break
        if plen and stem[size - plen :] not in _PRONOUN_SET:
            continue
        base = stem[: size - plen]
        for ilen in _INFLECTION_LENGTHS:
            if ilen > len(base):
                break
            if not plen and not ilen:
                continue
            infl = base[len(base) - ilen :] if ilen else ""
            if ilen and infl not in _INFLECTION_SET:
                continue
            root = base[: len(base) - ilen]
            if len(root) < MIN_STEM - (1 if infl in ("ات", "يات") else 0):
                continue
            if len(root) >= MIN_STEM:
                out.add(root)
            # ة becomes ت before a suffix (قوته, قوتان) and goes before ات (قوات ← قوة)
            if root.endswith("ت") and len(root) >= MIN_STEM:
                out.add(root[:-1] + "ه")
                if not plen and (infl == "ين" or infl == "ان"):
                    _feminine_dual(root[:-1], out)
            if infl in ("ات", "يات"):
                out.add(root + ("ه" if infl == "ات" else "يه"))


def candidates(word: str, *, article_only: bool = False) -> frozenset[str]:
    """Every form a term may take to match the folded document word ``word``.

    Proclitics (``strip_proclitics``) then at most one pronoun and one inflection suffix;
    nothing shorter than ``MIN_STEM`` letters.  A feminine dual counts as one suffix on its
    singular: «إيرانيتين» yields what «إيرانيه» does (إيرانيه, إيراني, إيران).  Latin words
    lose a plural -s/-es.

    >>> sorted(candidates("وجنودها"))
    ['جنود', 'جنوده', 'جنودها', 'وجنود', 'وجنوده', 'وجنودها']
    """
    out: set[str] = set()
    if not word:
        return frozenset()
    if not _is_arabic(word):
        out.add(word)
        for suf in LATIN_SUFFIXES:
            if word.endswith(suf) and len(word) - len(suf) >= MIN_STEM:
                out.add(word[: -len(suf)])
        return frozenset(out)
    for form in strip_proclitics(word, article_only=article_only):
        out.add(form)
        _strip_suffixes(form, out)
    return frozenset(out)


_GCLASS = str.maketrans({"غ": "ج", "ق": "ج", "ك": "ج", "گ": "ج"})


def gfold(folded: str) -> str:
    """Merge the g-class letters of already folded text, for foreign names only.

    «بيونغ» and «بيونج» both become «بيونج»; «كيم» becomes «جيم».
    """
    return folded.translate(_GCLASS)


HAMZA_SEATS = "ؤئء"
_MAX_SEATS = 2  # seats varied per term: 3 ** 2 spellings at most


def hamza_variants(term: str) -> list[str]:
    """``term`` and its spellings with each hamza seat inside a word (ؤ ئ ء) replaced by
    the others, ``term`` first: «مسؤول» → [مسؤول, مسئول, مسءول].

    Writers disagree on seats (Egyptian «مسئول», «شئون»; «تساءل»/«تسائل») and ``fold`` keeps
    them apart (ؤ → و, ئ → ي, as the dedupe stage needs), so the matcher indexes a term
    under each spelling instead.  A seat at the start of a word is never varied, and only
    the first two seats of a term are.
    """
    if "ؤ" not in term and "ئ" not in term and "ء" not in term:
        return [term]
    spots = [i for i, c in enumerate(term) if c in HAMZA_SEATS and i and term[i - 1].isalnum()]
    if not spots:
        return [term]
    out = {term: None}
    for seats in itertools.product(HAMZA_SEATS, repeat=min(len(spots), _MAX_SEATS)):
        chars = list(term)
        for i, seat in zip(spots, seats, strict=False):
            chars[i] = seat
        out.setdefault("".join(chars))
    return list(out)


# Words whose capitals matter: written so, they name something the lower-case word does
# not («US troops» is the United States, «told us» is not).  Document and watchlist both
# turn them into the token given here, which no lower-case word folds to.
CASED_WORDS = {"US": "u.s"}
# English names of the lexicon that are also common words: a name only with its capital
# («Turkey», «TURKEY»; «a turkey dinner», «fine china» and «shoe polish» are no country).
# Written so, they become the word with a full stop («turkey.»), which no word folds to.
CASED_NAMES = frozenset(
    {
        "afghan",
        "chad",
        "chile",
        "china",
        "french",
        "guinea",
        "japan",
        "jersey",
        "macron",
        "morocco",
        "muscat",
        "pentagon",
        "polish",
        "trump",
        "turkey",
        "xi",
    }
)


def cased_token(written: str) -> str | None:
    """The token of a word written as a cased name (see ``CASED_WORDS``, ``CASED_NAMES``):
    «US» → u.s, «Turkey» or «TURKEY» → turkey.; ``None`` for any other word or spelling
    («us», «Us», «turkey»)."""
    found = CASED_WORDS.get(written)
    if found is not None:
        return found
    lower = written.lower()
    if lower in CASED_NAMES and written[:1].isupper():
        return lower + "."
    return None


_CASED_TOKENS = CASED_NAMES | {word.lower() for word in CASED_WORDS}


def may_be_cased(token: str) -> bool:
    """Whether a folded token is a word whose spelling ``cased_token`` must look at."""
    return token in _CASED_TOKENS


def case_variants(term: str) -> list[str]:
    """``term``, and when it holds a word of ``CASED_NAMES``, that word also in lower
    case and capitalised: a watchlist's literal «turkey» or «Turkey» finds both spellings,
    as any literal ignores case.  (Only the built-in concepts need the capital.)"""
    if not any(w.lower() in CASED_NAMES for w in RAW_WORD.findall(term)):
        return [term]
    lower = RAW_WORD.sub(lambda m: _recase(m.group(), str.lower), term)
    upper = RAW_WORD.sub(lambda m: _recase(m.group(), str.capitalize), term)
    return list(dict.fromkeys([term, lower, upper]))


def _recase(word: str, change: Callable[[str], str]) -> str:
    return change(word) if word.lower() in CASED_NAMES else word


# How the article is written before folding; أل / إل / آل fold to the same letters.
_ARTICLE_SPELLINGS = ("ال", "ٱل")


def _term_words(term: str, *, first_only: bool = False) -> list[str]:
    """``words(fold(term))`` less the article of each word (of the first only, with
    ``first_only``), where it leaves ``MIN_STEM`` letters.

    The article is decided on the spelling before folding: ال (or ٱل) is the article, while
    أل / إل / آل, which fold to the same letters, start the word itself (ألمانيا, ألباني).
    """
    text = _unmarked(term)
    folded = _letters(text)
    if "ال" not in folded:
        return words(folded)
    out: list[str] = []
    if len(folded) == len(text):
        # one letter for one letter: a folded word stands where its spelling stands
        for m in _WORD.finditer(folded):
            w = m.group()
            if w == "_" * len(w):
                continue
            if (
                w.startswith("ال")
                and len(w) - 2 >= MIN_STEM
                and (not first_only or not out)
                and text.startswith(_ARTICLE_SPELLINGS, m.start())
            ):
                w = w[2:]
            out.append(w)
        return out
    # lower case changed the length (İ → i + a combining dot): fold word by word
    for raw in words(text):
        found = words(_letters(raw))
        if (
            found
            and len(found[0]) - 2 >= MIN_STEM
            and (not first_only or not out)
            and raw.startswith(_ARTICLE_SPELLINGS)
        ):
            found[0] = found[0][2:]
        out += found
    return out


def term_words(term: str) -> list[str]:
    """The folded words of a watchlist term, each without a leading article.

    «القوات الروسية» → [قوات, روسيه]; words of two letters keep their article; a word
    that starts with أل is a name, not an article: «ألمانيا» → [المانيا], which the
    document's «الألمانية», «وألمانيا» and «لألمانيا» reach by their proclitics; «US» →
    [u.s], «Xi Jinping» → [xi., jinping] (see ``cased_token``).
    """
    written = RAW_WORD.findall(term)  # cut as a story's words are
    if not any(cased_token(w) for w in written):
        return _term_words(term)
    out: list[str] = []  # rare: «US», «Xi Jinping»
    for word in written:
        token = cased_token(word)
        out += [token] if token is not None else _term_words(word)
    return out


def plural_sibling(words: list[str]) -> list[str] | None:
    """The term with the other case of a sound masculine plural on its last word, or
    ``None``: «مستوطنون» ↔ «مستوطنين», «الحوثيون» ↔ «الحوثيين».  The story's word loses
    its suffix, but a literal is matched as written; a stem of four letters or more
    keeps names out («حسين» is no plural).  ``words`` are ``term_words``."""
    last = words[-1] if words else ""
    if len(last) - 2 < 4 or not _is_arabic(last):
        return None
    if last.endswith("ون"):
        return [*words[:-1], last[:-2] + "ين"]
    if last.endswith("ين"):
        return [*words[:-1], last[:-2] + "ون"]
    return None


def name_words(alias: str) -> list[str]:
    """``term_words`` of a proper name's alias, except that a one-word name written with
    the article keeps it: «الهند» → [الهند], so that «هند» (a woman's name), «مغرب» (sunset),
    «قاهرة» (overwhelming) or «جزائر» (islands) are not the place, while the story's
    «والهند», «للهند» and «بالهند» still reach it through their proclitics.  A nisba
    («الحوثي», «الحوثيين») is also an adjective without the article («قيادي حوثي») and
    loses it as usual."""
    found = term_words(alias)
    if (
        len(found) == 1
        and alias.strip().startswith(_ARTICLE_SPELLINGS)
        and not found[0].endswith(("ي", "يين", "يون"))
    ):
        whole = words(fold(alias))
        if len(whole) == 1:
            return whole
    return found


def foreign_key(name: str) -> str:
    """The index key of a transliterated name: folded, g-folded, glued, no leading article.

    «بيونغ يانغ», «بيونج يانج» and «بيونغيانغ» all give «بيونجيانج»; «غينيا الاستوائية» keeps
    its inner article («جينياالاستوائيه») because the document's words are glued as written;
    as in ``term_words``, only ال is an article («ألكسندر» keeps its alef-lam).
    """
    return gfold("".join(_term_words(name, first_only=True)))
