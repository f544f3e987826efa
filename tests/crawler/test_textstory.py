"""crawler.textstory: the seed format, datelines, agencies and boilerplate."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.textstory import (
    TITLE_MAX,
    headline_from,
    normalise_agency,
    parse_text_story,
    sign_off_agency,
    split_dateline,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_seed_reuters_story() -> None:
    story = parse_text_story((SEEDS / "000_8a64b5d3bad4b392.txt").read_text("utf-8"))
    assert story.agency == "Reuters"
    assert story.dateline == "سول"
    assert story.published is None
    assert story.body.startswith("ذكرت وسائل إعلام رسمية في كوريا الشمالية")
    assert "هل ترغب" not in story.body and "لا تتردد" not in story.body
    assert "سول" not in story.body.split("\n\n")[0][:10]
    assert story.body.count("\n\n") == 5  # six one-line paragraphs
    assert story.title.startswith("ذكرت وسائل إعلام رسمية")
    assert len(story.title) <= TITLE_MAX + 1 and "\n" not in story.title


def test_seed_afp_story_with_inline_date_line() -> None:
    story = parse_text_story((SEEDS / "004_ca1ffc38c5cd97af.txt").read_text("utf-8"))
    assert story.published == datetime(2024, 11, 1, tzinfo=timezone.utc)
    assert story.agency == "AFP"
    assert story.dateline == "موسكو"
    assert story.body.startswith("أكدت وزيرة الخارجية الكورية الشمالية")
    assert not story.body.rstrip().endswith("(أ ف ب)")
    assert "date 2024" not in story.body
    assert story.title == (
        "أكدت وزيرة الخارجية الكورية الشمالية شو سون هوي خلال زيارة لموسكو الجمعة أن بلادها"
        " ستواصل تعزيز ترسانتها النووية"
    )


@pytest.mark.parametrize(
    ("text", "published", "first"),
    [
        ("date 2024-11-01\nنص الخبر.", datetime(2024, 11, 1, tzinfo=timezone.utc), "نص الخبر."),
        ("   date 2024-01-31 نص الخبر.", datetime(2024, 1, 31, tzinfo=timezone.utc), "نص الخبر."),
        ("\n\nDATE 2024-02-03\n\nنص.", datetime(2024, 2, 3, tzinfo=timezone.utc), "نص."),
        ("date 2024-02-30\nنص.", None, "نص."),  # impossible date: ignored, line dropped
        ("نص date 2024-11-01.", None, "نص date 2024-11-01."),  # not at the start
        ("نص.\ndate 2024-11-01", None, "نص."),  # only the first line counts
    ],
)
def test_date_line(text: str, published: datetime | None, first: str) -> None:
    story = parse_text_story(text)
    assert story.published == published
    assert story.body.split("\n\n")[0] == first


@pytest.mark.parametrize(
    ("paragraph", "place", "agency", "rest"),
    [
        ("سول – (رويترز): ذكرت وسائل", "سول", "رويترز", "ذكرت وسائل"),
        ("موسكو: أكدت الوزيرة", "موسكو", None, "أكدت الوزيرة"),
        ("واشنطن (أ ف ب) - قال الرئيس", "واشنطن", "أ ف ب", "قال الرئيس"),
        ("القاهرة - (الأناضول): أعلن", "القاهرة", "الأناضول", "أعلن"),
        ("بيونغ يانغ (رويترز) - أطلقت", "بيونغ يانغ", "رويترز", "أطلقت"),
        ("نيويورك – ذكرت", None, None, None),  # dash without agency: ambiguous
        ("قال الوزير الكوري الشمالي للصحفيين: إن", None, None, None),  # too many words
        ("في 2024: حدث", None, None, None),
        ("قال المتحدث: إن المحادثات مستمرة", None, None, None),
        ("وأضافت الوزارة: لا تغيير", None, None, None),
        ("موسكو:", None, None, None),  # nothing after it
    ],
)
def test_split_dateline(
    paragraph: str, place: str | None, agency: str | None, rest: str | None
) -> None:
    found = split_dateline(paragraph)
    if place is None:
        assert found is None
    else:
        assert found is not None
        assert (found.place, found.agency, found.rest) == (place, agency, rest)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("رويترز", "Reuters"),
        ("أ ف ب", "AFP"),
        ("ا ف ب", "AFP"),
        ("أ.ف.ب", "AFP"),
        ("فرانس برس", "AFP"),
        ("وكالة فرانس برس", "AFP"),
        ("الأناضول", "Anadolu"),
        ("الاناضول", "Anadolu"),
        ("وام", "WAM"),
        ("واس", "SPA"),
        ("قنا", "QNA"),
        ("كونا", "KUNA"),
        ("سانا", "SANA"),
        ("د ب أ", "dpa"),
        ("د.ب.أ", "dpa"),
        ("شينخوا", "Xinhua"),
        ("يونهاب", "Yonhap"),
        ("رويترز وأ ف ب", "Reuters"),
        ("Reuters", "Reuters"),
        ("القدس العربي", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_agency(text: str | None, name: str | None) -> None:
    assert normalise_agency(text) == name


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("(أ ف ب)", "AFP"),
        ("(رويترز)", "Reuters"),
        ("رويترز.", "Reuters"),
        ("[د ب أ]", "dpa"),
        ("(تتمة)", None),
        ("وقال رويترز إن الخبر صحيح وأضاف أن الأمر مهم جدا للغاية", None),
    ],
)
def test_sign_off_agency(line: str, name: str | None) -> None:
    assert sign_off_agency(line) == name


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("خبر قصير. وجملة ثانية.", "خبر قصير"),
        ("هل يحدث هذا؟ نعم.", "هل يحدث هذا"),
        ("كلمة " * 60, None),  # long: cut at a word boundary with an ellipsis
        ("أولا، " + "كلمة " * 20 + "، ثم " + "كلمة " * 30, None),
    ],
)
def test_headline_from(text: str, title: str | None) -> None:
    headline = headline_from(text)
    if title is not None:
        assert headline == title
    else:
        assert len(headline) <= TITLE_MAX + 1
        assert headline.endswith("…") or "،" not in headline[-2:]
        assert not headline.startswith(" ")


@pytest.mark.parametrize(
    "boilerplate",
    [
        "هل ترغب بالتعليق على الموضوع؟",
        "لا تتردد في إعطاء تعليقك ومشاركة رأيك",
        "اقرأ أيضا: خبر آخر",
        "جميع الحقوق محفوظة 2024",
        "تابعونا على تويتر",
    ],
)
def test_boilerplate_lines_removed(boilerplate: str) -> None:
    story = parse_text_story(f"الخرطوم: نص الخبر الأول.\n{boilerplate}\nفقرة أخيرة.")
    assert boilerplate not in story.body
    assert story.body == "نص الخبر الأول.\n\nفقرة أخيرة."


@pytest.mark.parametrize("text", ["", "   \n\n", "هل ترغب بالتعليق على الموضوع؟", "(أ ف ب)"])
def test_empty_stories_have_empty_body(text: str) -> None:
    story = parse_text_story(text)
    assert story.body == ""
    assert story.title == ""


def test_crlf_and_control_characters() -> None:
    story = parse_text_story("\ufeffdate 2024-11-01\r\nبغداد:\x00 نص\u202e الخبر.\r\n(رويترز)\r\n")
    assert story.body == "نص الخبر."
    assert story.agency == "Reuters"
    assert story.dateline == "بغداد"


@pytest.mark.parametrize(
    ("text", "title", "body", "dateline"),
    [
        # A headline line above the story is used as the title.
        (
            "كوريا الشمالية ترسل قوات إلى روسيا\nسول (رويترز) - قالت المخابرات إن القوات وصلت.",
            "كوريا الشمالية ترسل قوات إلى روسيا",
            "قالت المخابرات إن القوات وصلت.",
            "سول",
        ),
        # A dateline alone on its line opens the next paragraph.
        (
            "سول – (رويترز):\nذكرت وسائل إعلام رسمية أمس.",
            "ذكرت وسائل إعلام رسمية أمس",
            "ذكرت وسائل إعلام رسمية أمس.",
            "سول",
        ),
        # Short first sentences are not headlines when they end like a sentence.
        (
            "قال الوزير إن المحادثات مستمرة.\nوأضاف أن الجولة المقبلة قريبة.",
            "قال الوزير إن المحادثات مستمرة",
            None,
            None,
        ),
        # A single paragraph is never split into headline + body.
        ("خبر عاجل بلا نقطة", "خبر عاجل بلا نقطة", "خبر عاجل بلا نقطة", None),
        # «Speaker: words» is a headline, not a dateline.
        (
            "عراقجي: لا مفاوضات مباشرة مع واشنطن\nطهران (رويترز) - قال الوزير إن بلاده ترفض.",
            "عراقجي: لا مفاوضات مباشرة مع واشنطن",
            "قال الوزير إن بلاده ترفض.",
            "طهران",
        ),
        # A headline may ask a question.
        (
            "هل تصمد الهدنة في غزة؟\nالقاهرة (أ ف ب) - تستضيف مصر جولة جديدة من المحادثات.",
            "هل تصمد الهدنة في غزة؟",
            "تستضيف مصر جولة جديدة من المحادثات.",
            "القاهرة",
        ),
    ],
)
def test_headline_and_bare_dateline(
    text: str, title: str, body: str | None, dateline: str | None
) -> None:
    story = parse_text_story(text)
    assert story.title == title
    if body is not None:
        assert story.body == body
    assert story.dateline == dateline
