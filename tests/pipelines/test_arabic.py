"""Arabic normalisation, clitic candidates and tokenisation: tables of forms."""

from __future__ import annotations

import pytest

from pipelines.arabic import (
    MIN_STEM,
    PROCLITICS,
    candidates,
    case_variants,
    cased_token,
    fold,
    foreign_key,
    gfold,
    hamza_variants,
    name_words,
    plural_sibling,
    strip_proclitics,
    term_words,
    words,
)
from pipelines.rules_doc import Document

FOLD = [
    ("harakat", "وَالجُنُودُ", "والجنود"),
    ("tanween", "جُنوداً", "جنودا"),
    ("tatweel", "كـوريـا", "كوريا"),
    ("alef-hamza", "أإآٱ", "اااا"),
    ("alef-maqsura", "مستشفى", "مستشفي"),
    ("taa-marbuta", "الشمالية", "الشماليه"),
    ("hamza-seats", "مسؤول رئيس", "مسوول رييس"),
    ("arabic-indic-digits", "٢٠٢٤", "2024"),
    ("persian-digits", "۲۰۲۴", "2024"),
    ("persian-letters", "گ پ چ ژ ڤ ی ک", "ك ب ج ز ف ي ك"),
    ("latin-case", "North KOREA", "north korea"),
    ("zero-width", "رو\u200cسيا", "روسيا"),
    ("bidi-marks", "\u200fروسيا\u200e", "روسيا"),
    ("isolated-haraka", "كوريا \u064e الشمالية", "كوريا  الشماليه"),
    ("ligature-lam-alef", "\ufefb", "لا"),
    ("shadda-with-harakat", "وقّعت", "وقعت"),
]


@pytest.mark.parametrize(("raw", "folded"), [c[1:] for c in FOLD], ids=[c[0] for c in FOLD])
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_words_of_folded_text() -> None:
    assert words(fold("قال: «الجنودُ» (أ ف ب)، بي-52")) == [
        "قال",
        "الجنود",
        "ا",
        "ف",
        "ب",
        "بي",
        "52",
    ]


MATCHES = [
    # (document word, term that must be among its candidates)
    ("وروسيا", "روسيا"),
    ("لروسيا", "روسيا"),
    ("بروسيا", "روسيا"),
    ("والروسي", "روسي"),
    ("للقوات", "قوات"),
    ("وللقوات", "قوات"),
    ("فبالقوات", "قوات"),
    ("جنودها", "جنود"),
    ("جنودهم", "جنود"),
    ("وجنودنا", "جنود"),
    ("جنودا", "جنود"),
    ("قواتها", "قوات"),
    ("قواتها", "قوه"),  # قوة → قوات → قواتها
    ("ترسانتها", "ترسانه"),
    ("الشمالية", "شمالي"),
    ("الكوريين", "كوري"),
    ("الكوريون", "كوري"),
    ("كورية", "كوري"),
    ("العسكريين", "عسكري"),
    ("بذخيرة", "ذخيره"),
    ("والمدفعية", "مدفعيه"),
    ("missiles", "missile"),
    ("forces", "force"),
    # a feminine dual is its singular ة + ين/ان: it reaches the nisba the singular reaches
    ("ناقلتين", "ناقله"),
    ("إيرانيتين", "ايرانيه"),
    ("إيرانيتين", "ايراني"),
    ("بريطانيتان", "بريطاني"),
    ("الفلسطينيتين", "فلسطيني"),
    ("ومجريتين", "مجري"),
]


@pytest.mark.parametrize(("word", "term"), MATCHES)
def test_candidates_reach_the_term(word: str, term: str) -> None:
    assert term in candidates(fold(word))


LOOKALIKES = [
    # (document word, term it must never match)
    ("قواعد", "قوات"),
    ("كورسيكا", "كورسك"),
    ("الشمالية", "شامل"),
    ("كندي", "جندي"),
    ("مصرف", "مصر"),
    ("الي", "ي"),
    ("محاربة", "حرب"),
    ("روسيا", "روس"),
    ("اثنتين", "اث"),  # the dual's singular never goes below MIN_STEM letters
    ("ناقلتيها", "ناقل"),  # a pronoun and a dual are not both removed
]


@pytest.mark.parametrize(("word", "term"), LOOKALIKES)
def test_candidates_never_reach_a_lookalike(word: str, term: str) -> None:
    assert term not in candidates(fold(word))


def test_min_stem_keeps_short_words_whole() -> None:
    # a proclitic may leave two letters (بيد → يد), a suffix never fewer than three
    assert candidates("بكم") == frozenset({"بكم", "كم"})
    assert candidates("بي") == frozenset({"بي"})
    assert candidates("يده") == frozenset({"يده"})
    assert all(len(c) >= 2 for c in candidates("والي"))


@pytest.mark.parametrize("word", ["سنتين", "مرتين", "بنتين", "ساعتين", "اثنتين", "سنتان"])
def test_feminine_dual_keeps_the_minimum_stem(word: str) -> None:
    found = candidates(fold(word))
    assert all(len(c) >= MIN_STEM for c in found)
    assert fold(word)[:-3] + "ه" in found  # «سنتين» is still «سنة» + ين


def test_proclitics_are_a_closed_list() -> None:
    assert {"و", "ف", "ب", "ك", "ل", "ال", "لل", "وال", "بال", "وبال", "فلل"} <= set(PROCLITICS)
    assert "س" not in PROCLITICS
    assert strip_proclitics("الشمالية", article_only=True) == ["الشمالية", "شمالية"]
    assert "شمالية" not in strip_proclitics("والشمالية", article_only=True)


GFOLD = [
    ("بيونغ يانغ", "بيونج يانج"),
    ("كيم جونغ أون", "كيم جونج أون"),
    ("سيرغي", "سيرجي"),
    ("أوغندا", "أوجندا"),
    ("قيرغيزستان", "كيرجيزستان"),
]


@pytest.mark.parametrize(("a", "b"), GFOLD)
def test_gfold_merges_transliterations(a: str, b: str) -> None:
    assert gfold(fold(a)) == gfold(fold(b))


def test_term_words_drop_the_article_but_keep_short_words() -> None:
    assert term_words("القوات الروسية") == ["قوات", "روسيه"]
    assert term_words("الله") == ["الله"]
    assert term_words("حظر تصدير") == ["حظر", "تصدير"]
    assert term_words("!!") == []


TERM_WORDS = [
    # (term as written, its words): only ال (ٱل) is the article, decided before folding
    ("ألمانيا", ["المانيا"]),
    ("أَلْبانيا", ["البانيا"]),
    ("ألمان", ["المان"]),
    ("إلهام", ["الهام"]),
    ("آليات", ["اليات"]),
    ("الألمانية", ["المانيه"]),
    ("القوات الألمانية", ["قوات", "المانيه"]),
    ("ٱلقوات", ["قوات"]),
    ("الـقوات", ["قوات"]),
    ("ﺍﻟﻘﻮﺍﺕ", ["قوات"]),  # presentation forms: NFKC gives the article
]


@pytest.mark.parametrize(("term", "found"), TERM_WORDS)
def test_term_words_keep_alef_hamza_lam(term: str, found: list[str]) -> None:
    assert term_words(term) == found


ALEF_HAMZA_NAMES = [
    # (document word, term as written): the document folds أ → ا, the term keeps أل
    ("ألمانيا", "ألمانيا"),
    ("المانيا", "ألمانيا"),  # written without hamza
    ("وألمانيا", "ألمانيا"),
    ("لألمانيا", "ألمانيا"),
    ("بألمانيا", "ألمانيا"),
    ("الألمانية", "ألماني"),
    ("الألمانية", "الألمانية"),
    ("للألمانية", "ألمانية"),
    ("الألمان", "ألمان"),
    ("ألمانيتين", "ألماني"),
    ("الألباني", "ألباني"),
    ("وألبانيا", "ألبانيا"),
]


@pytest.mark.parametrize(("word", "term"), ALEF_HAMZA_NAMES)
def test_alef_hamza_names_reach_their_term(word: str, term: str) -> None:
    assert term_words(term)[0] in candidates(fold(word))


@pytest.mark.parametrize(
    ("word", "term"),
    [("باني", "ألباني"), ("مان", "ألمان"), ("مانيا", "ألمانيا"), ("ماني", "ألماني")],
)
def test_alef_hamza_names_keep_their_first_letters(word: str, term: str) -> None:
    # «باني السفينة» is the ship's builder, not an Albanian
    assert term_words(term)[0] not in candidates(fold(word))


def test_document_sentences_paragraphs_and_spans() -> None:
    body = "قالت سول. إن كوريا الشمالية (بيونغ يانغ) أرسلت جنودًا!\nسطر ثان\n\nفقرة ثانية؟ نعم"
    doc = Document.build("عنوان الخبر", body)
    assert doc.tokens[:2] == ["عنوان", "الخبر"]
    assert doc.field_of(0) == 0 and doc.field_of(2) == 1
    texts = [doc.marked(s, []) for s in range(len(doc.sentences))]
    assert texts == [
        "عنوان الخبر",
        "قالت سول.",
        "إن كوريا الشمالية (بيونغ يانغ) أرسلت جنودًا!",
        "سطر ثان",
        "فقرة ثانية؟",
        "نعم",
    ]
    paragraphs = [doc.sentences[s].paragraph for s in range(1, len(doc.sentences))]
    assert paragraphs == [0, 0, 0, 1, 1]
    i = doc.tokens.index("جنودا")
    assert doc.span(i, i + 1).text == "جنودًا"
    j = doc.tokens.index("بيونغ")
    assert doc.span(j, j + 2).text == "بيونغ يانغ"


def test_document_ligature_folds_into_several_tokens() -> None:
    doc = Document.build("", "قال النبي ﷺ لهم")
    assert doc.tokens == ["قال", "النبي", "صلي", "الله", "عليه", "وسلم", "لهم"]
    assert doc.span(6, 7).text == "لهم"
    assert doc.span(2, 6).text == "ﷺ"


FOREIGN_KEYS = [
    ("بيونغ يانغ", "بيونج يانج"),
    ("بيونغ يانغ", "بيونغيانغ"),
    ("كيم جونغ أون", "كيم جونج اون"),
    ("الكونغو", "كونجو"),
]


@pytest.mark.parametrize(("a", "b"), FOREIGN_KEYS)
def test_foreign_key_ignores_spelling_and_spacing(a: str, b: str) -> None:
    assert foreign_key(a) == foreign_key(b)


def test_foreign_key_drops_only_the_first_article() -> None:
    assert foreign_key("الكونغو") == "جونجو"
    assert foreign_key("ألكسندر دوغين") == "الجسندردوجين"
    assert foreign_key("غينيا الاستوائية") == "جينياالاستواييه"


def test_foreign_key_keeps_native_distinctions_out_of_native_words() -> None:
    # g-folding is for names marked foreign only: the plain candidates keep جندي and كندي apart
    assert foreign_key("جندي") == foreign_key("كندي")
    assert "جندي" not in candidates("كندي")


def test_fold_equals_the_reference_definition() -> None:
    # fold is tuned for speed (one regex pass, NFKC only when needed, str.replace chain);
    # it must stay exactly: marks out, NFKC, marks out, letter table, lower case.
    import random
    import unicodedata

    from pipelines import arabic

    def reference(text: str) -> str:
        text = arabic._HARAKAT.sub("", arabic._INVISIBLE.sub("", text))
        text = arabic._HARAKAT.sub("", unicodedata.normalize("NFKC", text))
        return text.translate(arabic._LETTERS).lower()

    rnd = random.Random(7)
    alphabet = [chr(c) for c in range(0x600, 0x700)] + list(
        "abcXYZ \n٠١۲\ufefb\ufdfa\ufdf2\u200c\u200f\u0640\u064b\u064e\u0651\u0652"
    )
    samples = ["".join(rnd.choices(alphabet, k=rnd.randint(0, 12))) for _ in range(3000)]
    assert [fold(s) for s in samples] == [reference(s) for s in samples]


HAMZA = [
    ("waw-seat", "مسؤول", ["مسؤول", "مسئول", "مسءول"]),
    ("yeh-seat", "شئون", ["شئون", "شؤون", "شءون"]),
    ("on-the-line", "تساءل", ["تساءل", "تساؤل", "تسائل"]),
    ("initial-hamza-kept", "أسئلة", ["أسئلة", "أسؤلة", "أسءلة"]),
    ("no-seat", "روسيا", ["روسيا"]),
]


@pytest.mark.parametrize(("name", "term", "spellings"), HAMZA, ids=[h[0] for h in HAMZA])
def test_hamza_variants(name: str, term: str, spellings: list[str]) -> None:
    assert hamza_variants(term) == spellings
    # fold itself keeps the seats apart: the dedupe stage relies on that
    assert len({fold(s) for s in spellings}) == len(spellings)


def _reference_document(
    title: str, body: str
) -> tuple[list[str], list[int], list[tuple[int, ...]]]:
    """Tokens, their sentences and the sentences by the plain regex definition."""
    import re

    from pipelines.arabic import RAW_WORD
    from pipelines.rules_doc import _SENTENCE_END, is_abbreviation

    items = re.compile(f"{RAW_WORD.pattern}|{_SENTENCE_END.pattern}|\\n(?:[^\\S\\n]*\\n)*")
    tokens: list[str] = []
    token_sentence: list[int] = []
    sentences: list[tuple[int, ...]] = []
    for index, text in enumerate((title, body)):
        raws: list[str] = []
        para = first = 0
        word_end = -1
        for m in items.finditer(text):
            item = m.group()
            if item[0] != "\n" and item[0] not in ".!?؟؛…":
                raws.append(item)
                word_end = m.end()
                continue
            if item == "." and word_end == m.start() and is_abbreviation(raws[-1]):
                continue  # «U.S.», «St.»: an abbreviation's full stop
            if len(raws) > first:
                sentences.append((index, first, len(raws), para))
                first = len(raws)
            if item[0] == "\n" and item.count("\n") > 1 and sentences:
                para += 1
        if len(raws) > first:
            sentences.append((index, first, len(raws), para))
        owner = {
            r: s for s, (f, a, b, _) in enumerate(sentences) if f == index for r in range(a, b)
        }
        for r, raw in enumerate(raws):
            for word in words(fold(raw)):
                tokens.append(word)
                token_sentence.append(owner[r])
    return tokens, token_sentence, sentences


def test_document_equals_the_regex_definition() -> None:
    # Document.build splits lines and blanks in C and folds only words with marks; it
    # must cut exactly where one regex over the raw text would.
    import random

    rnd = random.Random(11)
    alphabet = list("كوريا الشمالية روسيا جنود مسؤول") + list(
        ".!?؟؛…،,:;«»\"'()[]{}“”’-_/ \n\n\t\r\xa0\u2028\u200b\u200c\u200f\u202b\ufeff"
        "\u061c\u00ad\u0640\u064b\u064e\u0651\u0670\u06e5ﷺﻻ٣3aZİΣ²ﬁ\u0301"
    )
    pieces = ["روسيا", "بي-52", "3.5", "foo_bar", "_", "ΟΔΟΣ", "«روسيا»", "(بيونغ", "الأحد.»", "؟!"]
    for _ in range(3000):
        parts = [
            rnd.choice(pieces)
            if rnd.random() < 0.3
            else "".join(rnd.choices(alphabet, k=rnd.randint(1, 5)))
            for _ in range(rnd.randint(0, 20))
        ]
        body = "".join(parts)
        title = "".join(rnd.choices(alphabet, k=rnd.randint(0, 8)))
        doc = Document.build(title, body)
        tokens, token_sentence, sentences = _reference_document(title, body)
        assert doc.tokens == tokens, (title, body)
        assert doc.token_sentence == token_sentence, (title, body)
        got = [(s.field, s.first, s.end, s.paragraph) for s in doc.sentences]
        assert got == sentences, (title, body)


@pytest.mark.parametrize(
    ("written", "token"),
    [
        ("US", "u.s"),
        ("us", None),
        ("Us", None),
        ("Turkey", "turkey."),
        ("TURKEY", "turkey."),
        ("turkey", None),
        ("Russia", None),  # not a common word: case does not matter
    ],
)
def test_cased_token(written: str, token: str | None) -> None:
    assert cased_token(written) == token


def test_term_words_of_cased_names_are_cut_as_story_words() -> None:
    assert term_words("Guinea-Bissau") == ["guinea.", "bissau"]
    assert term_words("Xi Jinping") == ["xi.", "jinping"]
    assert term_words("«Turkey»") == ["turkey."]
    assert term_words("turkey") == ["turkey"]


def test_case_variants_let_a_literal_ignore_case() -> None:
    assert case_variants("turkey") == ["turkey", "Turkey"]
    assert case_variants("Guinea-Bissau") == ["Guinea-Bissau", "guinea-Bissau"]
    assert case_variants("روسيا") == ["روسيا"]
    assert case_variants("US") == ["US"]  # «US» keeps its capitals


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("الهند", ["الهند"]),  # the article stays: «هند» is a woman's name
        ("القاهرة", ["القاهره"]),
        ("الحوثيين", ["حوثيين"]),  # a nisba is also an adjective without the article
        ("الولايات المتحدة", ["ولايات", "متحده"]),  # only a one-word name keeps it
        ("روسيا", ["روسيا"]),
    ],
)
def test_name_words(alias: str, expected: list[str]) -> None:
    assert name_words(alias) == expected


def test_an_abbreviations_full_stop_does_not_end_the_sentence() -> None:
    doc = Document.build("", "U.S. troops and Gen. Smith came. St. Lucia was calm.\nقال د. أحمد.")
    texts = [doc.marked(s, []) for s in range(len(doc.sentences))]
    assert texts == ["U.S. troops and Gen. Smith came.", "St. Lucia was calm.", "قال د. أحمد."]
    us = doc.tokens.index("s")
    assert doc.span(us - 1, us + 1).text == "U.S."  # the full stop is the abbreviation's


@pytest.mark.parametrize(
    ("words", "sibling"),
    [
        (["مستوطنون"], ["مستوطنين"]),
        (["قوات", "حوثيين"], ["قوات", "حوثيون"]),
        (["حسين"], None),  # a stem of three letters: a name, not a plural
        (["troops"], None),
        ([], None),
    ],
)
def test_plural_sibling(words: list[str], sibling: list[str] | None) -> None:
    assert plural_sibling(words) == sibling
