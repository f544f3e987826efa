"""crawler.extract and crawler.dates: article pages → fields, table-driven where a table."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.dates import find_arabic_date, parse_date
from crawler.extract import Article, clean_title, extract_article

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
SIDEBAR_WORDS = ["الأكثر قراءة", "الجبهة الروسية", "صواريخ", "تنشر قوات", "بوتين", "خاركيف"]
FURNITURE_WORDS = ["اقرأ أيضا", "فيسبوك", "جميع الحقوق", "هل ترغب", "لا تتردد", "الرئيسية"]


def _extract(
    name: str, *, title_hint: str | None = None, published_hint: datetime | None = None
) -> Article:
    return extract_article(
        (PAGES / name).read_text("utf-8"),
        f"http://news.example/{name}",
        title_hint=title_hint,
        published_hint=published_hint,
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "title", "agency", "dateline", "published", "paragraphs", "first"),
    [
        (
            "korea_utf8.html",
            "كوريا الشمالية ترسل مزيدا من الجنود إلى روسيا",
            "Reuters",
            "سول",
            utc(2024, 11, 2, 5, 0),  # JSON-LD before article:published_time
            3,
            "قالت أجهزة المخابرات",
        ),
        (
            "wheat_cp1256.html",
            "مصر تزيد وارداتها من القمح استعدادا للشتاء",
            "AFP",
            "القاهرة",
            utc(2024, 11, 1, 14, 20),  # Arabic date text, Levantine month
            3,
            "أعلنت وزارة التموين",
        ),
        (
            "floods_cp1256_declared.html",
            "فيضانات تجتاح ولايات في شمال السودان",
            "Anadolu",  # sign-off line
            "الخرطوم",
            utc(2024, 10, 30, 6, 0),  # <time datetime>
            2,
            "اجتاحت فيضانات عارمة",
        ),
    ],
)
def test_fixture_pages(
    name: str,
    title: str,
    agency: str,
    dateline: str,
    published: datetime,
    paragraphs: int,
    first: str,
) -> None:
    article = _extract(name)
    assert article.title == title
    assert article.agency == agency
    assert article.dateline == dateline
    assert article.published == published
    assert article.language == "ar"
    parts = article.body.split("\n\n")
    assert len(parts) == paragraphs, parts
    assert parts[0].startswith(first)
    for word in SIDEBAR_WORDS + FURNITURE_WORDS:
        assert word not in article.body, (name, word)


def test_hints_feed_date_wins_and_title_fills_in() -> None:
    article = _extract("korea_utf8.html", published_hint=utc(2024, 1, 1), title_hint="x")
    assert article.published == utc(2024, 1, 1)
    assert article.title == "كوريا الشمالية ترسل مزيدا من الجنود إلى روسيا"
    bare = extract_article("<p>نص الخبر هنا.</p>", "http://x/", title_hint="عنوان الخلاصة")
    assert bare.title == "عنوان الخلاصة"


def _page(head: str = "", body: str = "<article><p>نص الخبر.</p></article>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (
            _page('<meta property="og:title" content="عنوان&#13;&#10;Bcc: x@example.org">'),
            "عنوان Bcc: x@example.org",
        ),
        (
            _page('<meta property="og:title" content="&lt;b&gt;عنوان&lt;/b&gt;  عريض">'),
            "عنوان عريض",
        ),
        (
            _page(
                body="<h1>عنوان\n\t<script>alert(1)</script>الخبر</h1><article><p>نص.</p></article>"
            ),
            "عنوان الخبر",
        ),
        (_page("<title>عنوان الخبر الطويل | موقع</title>"), "عنوان الخبر الطويل"),
        (_page("<title>موقع - عنوان الخبر الطويل</title>"), "عنوان الخبر الطويل"),
        (_page('<meta property="og:title" content="' + "ع" * 500 + '">'), "ع" * 299 + "…"),
        (_page(body="<article><p>خبر قصير. وجملة ثانية.</p></article>"), "خبر قصير"),
        (
            _page(
                '<meta property="og:site_name" content="وكالة الأخبار">'
                '<meta property="og:title" content="عنوان الخبر | وكالة الأخبار">'
            ),
            "عنوان الخبر",
        ),
        (
            _page(
                body="<header><h1 class='site-logo'>وكالة الأخبار</h1></header>"
                "<article><h1>عنوان الخبر</h1><p>نص.</p></article>"
            ),
            "عنوان الخبر",
        ),
    ],
)
def test_titles(html: str, title: str) -> None:
    assert extract_article(html, "http://x/").title == title


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("a\r\nb", "a b"), ("  a \u2028 b\x00 ", "a b"), (None, ""), ("<i>x</i>", "x")],
)
def test_clean_title(raw: str | None, clean: str) -> None:
    assert clean_title(raw) == clean


@pytest.mark.parametrize(
    ("head", "body", "published"),
    [
        (
            '<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle",'
            '"datePublished":"2024-11-01T10:00:00+03:00"}]}</script>'
            '<meta property="article:published_time" content="2024-01-01T00:00:00Z">',
            "",
            utc(2024, 11, 1, 7),
        ),
        (
            '<script type="application/ld+json">{broken json</script>'
            '<meta property="article:published_time" content="2024-01-02T00:00:00Z">',
            "",
            utc(2024, 1, 2),
        ),
        ('<meta itemprop="datePublished" content="2024-01-03">', "", utc(2024, 1, 3)),
        ("", '<time datetime="2024-01-04T12:00:00+01:00">x</time>', utc(2024, 1, 4, 11)),
        ("", '<span class="post-date">نشر في 5 كانون الثاني 2024</span>', utc(2024, 1, 5)),
        ("", '<div class="meta">٦ يناير ٢٠٢٤ - 10:30</div>', utc(2024, 1, 6, 10, 30)),
        ("", "<p>بلا تاريخ في 7 يناير 2024 داخل النص</p>", None),  # not a date element
        ('<meta property="article:published_time" content="0000-00-00">', "", None),
    ],
)
def test_published_order(head: str, body: str, published: datetime | None) -> None:
    html = _page(head, body + "<article><p>نص الخبر.</p></article>")
    assert extract_article(html, "http://x/").published == published


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html></html>",
        "<html><body><nav><a href='/'>الرئيسية</a></nav><footer>© 2024</footer></body></html>",
        "<html><body><ul><li><a href='/1'>رابط</a></li><li><a href='/2'>رابط</a></li></ul>",
        "\x00\x01\x02",
    ],
)
def test_pages_without_text_give_empty_body(html: str) -> None:
    assert extract_article(html, "http://x/").body == ""


def test_broken_html_still_extracts() -> None:
    html = "<html><body><div class='story-body'><p>فقرة أولى<p>فقرة <b>ثانية</div></table></span>"
    assert extract_article(html, "http://x/").body == "فقرة أولى\n\nفقرة ثانية"


def test_br_separated_paragraphs() -> None:
    html = "<html><body><div class='article-body'>سطر أول<br><br>سطر ثان<br/>سطر ثالث</div>"
    assert extract_article(html, "http://x/").body == "سطر أول\n\nسطر ثان\n\nسطر ثالث"


def test_generic_page_link_lists_dropped() -> None:
    paragraphs = "".join(f"<p>فقرة رقم {i} من نص الخبر الطويل عن الاقتصاد.</p>" for i in range(4))
    html = (
        "<html><body><div class='wrap'><div class='c1'>" + paragraphs + "</div>"
        "<div class='c2'><p><a href='/1'>روسيا ترسل قوات</a></p>"
        "<p><a href='/2'>كوريا الشمالية</a></p></div></div></body></html>"
    )
    body = extract_article(html, "http://x/").body
    assert body.count("\n\n") == 3
    assert "روسيا" not in body and "كوريا" not in body


def test_headed_most_read_block_inside_article_dropped() -> None:
    html = (
        "<html><body><article><h1>عنوان</h1><p>نص الخبر الأساسي عن الطقس.</p>"
        "<div><strong>الأكثر قراءة</strong><ol><li>روسيا</li><li>قوات كورية</li></ol></div>"
        "<h3>اقرأ أيضا</h3><ul><li><a href='/x'>كوريا الشمالية</a></li></ul>"
        "</article></body></html>"
    )
    article = extract_article(html, "http://x/")
    assert article.body == "نص الخبر الأساسي عن الطقس."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-01T10:00:00Z", utc(2024, 11, 1, 10)),
        ("2024-11-01T10:00:00+03:00", utc(2024, 11, 1, 7)),
        ("2024-11-01", utc(2024, 11, 1)),
        ("2024-11-01T10:00:00", utc(2024, 11, 1, 10)),  # naive → UTC
        ("Fri, 01 Nov 2024 10:00:00 GMT", utc(2024, 11, 1, 10)),
        ("Fri, 01 Nov 2024 10:00:00 +0300", utc(2024, 11, 1, 7)),
        ("2024/11/01 10:00", utc(2024, 11, 1, 10)),
        (datetime(2024, 11, 1, 13, tzinfo=timezone.utc), utc(2024, 11, 1, 13)),
        ("garbage", None),
        ("", None),
        (None, None),
        ("0001-01-01T00:00:00Z", None),
        ("x" * 1000, None),
    ],
)
def test_parse_date(value: str | datetime | None, expected: datetime | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الجمعة 1 تشرين الثاني 2024", utc(2024, 11, 1)),
        ("1 نوفمبر 2024 10:30", utc(2024, 11, 1, 10, 30)),
        ("١ أكتوبر ٢٠٢٤", utc(2024, 10, 1)),
        ("نشر في 3 آب 2024 الساعة 09:15", utc(2024, 8, 3, 9, 15)),
        ("منذ ساعتين", None),
        ("2024", None),
    ],
)
def test_find_arabic_date(text: str, expected: datetime | None) -> None:
    assert find_arabic_date(text) == expected


def test_read_also_block_inside_body_container_keeps_the_body() -> None:
    paragraphs = "".join(
        f"<p>فقرة رقم {i} من نص الخبر الطويل عن الاقتصاد المصري.</p>" for i in range(6)
    )
    html = (
        "<html><body><div class='content'>" + paragraphs + "<h3>اقرأ أيضا</h3>"
        "<ul><li><a href='/x'>قوات روسية</a></li></ul></div></body></html>"
    )
    body = extract_article(html, "http://x/").body
    assert body.count("\n\n") == 5
    assert "قوات" not in body and "اقرأ" not in body


ARTICLE_PARAS = "".join(
    f"<p>الفقرة {n} من تقرير مطول عن أسعار القمح في الأسواق المحلية والعالمية هذا الأسبوع.</p>"
    for n in ("الأولى", "الثانية", "الثالثة")
)
TRIGGERS = ["كوريا الشمالية ترسل قوات", "روسيا تعلن", "قوات إضافية"]
ITEMS = [f"{t} إلى الجبهة" for t in TRIGGERS]


def _links(tag: str = "li") -> str:
    return "".join(f"<{tag}><a href='/x{i}'>{t}</a></{tag}>" for i, t in enumerate(ITEMS))


@pytest.mark.parametrize(
    "layout",
    [
        # A plain section with a heading and a list, no helpful classes.
        "<div class='row'><div class='c'>{article}</div>"
        "<section class='block'><h2>الأكثر قراءة</h2><ol>" + _links() + "</ol></section></div>",
        # id only.
        "<div>{article}</div><div id='most-read'><ul>" + _links() + "</ul></div>",
        # camelCase class.
        "<div>{article}</div><div class='mostViewed'>" + _links("p") + "</div>",
        # Heading in a <div>, items as unlinked paragraphs, box before the article.
        "<div class='col'><div class='hd'>الأكثر قراءة</div>"
        + "".join(f"<p>{t}</p>" for t in ITEMS)
        + "</div><div class='main'>{article}</div>",
        # Inside the article container, after the text.
        "<article>{article}<h3>الأكثر مشاهدة</h3>"
        + "".join(f"<p>{t}</p>" for t in ITEMS)
        + "</article>",
        # Wrapper whose class says "sidebar" but which holds the article.
        "<div class='layout has-sidebar'><article><h1>عنوان</h1>{article}</article>"
        "<div class='sidebar-widget'><h4>الأكثر قراءة</h4>" + _links("div") + "</div></div>",
        # Tabs of lists in a <table> layout.
        "<table><tr><td>{article}</td><td><span>الأكثر قراءة</span><br>"
        + "".join(f"<a href='/x'>{t}</a><br>" for t in ITEMS)
        + "</td></tr></table>",
    ],
)
def test_most_read_layouts_never_reach_the_body(layout: str) -> None:
    html = "<html><body>" + layout.replace("{article}", ARTICLE_PARAS) + "</body></html>"
    body = extract_article(html, "http://x/").body
    assert body.count("\n\n") == 2, body
    assert body.startswith("الفقرة الأولى")
    for word in ["كوريا", "روسيا", "قوات", "الأكثر"]:
        assert word not in body, (word, body)


def test_teaser_cards_as_article_elements_do_not_win() -> None:
    cards = "".join(
        f"<article class='card'><a href='/{i}'>عنوان</a><p>ملخص قصير {i}.</p></article>"
        for i in range(5)
    )
    html = f"<html><body><div class='story'>{ARTICLE_PARAS}</div><div>{cards}</div></body></html>"
    body = extract_article(html, "http://x/").body
    assert body.startswith("الفقرة الأولى") and body.count("\n\n") == 2


def test_metadata_blocks_and_standfirst() -> None:
    html = (
        "<html><body><article><h1>عنوان الخبر</h1>"
        "<p class='post-date'>الجمعة 1 نوفمبر 2024</p><p>1 نوفمبر 2024</p>"
        "<p class='author'>بقلم: مراسلنا</p>"
        "<figure><img src='x.jpg'><p>صورة أرشيفية لقوات روسية</p></figure>"
        "<h2>عنوان فرعي يلخص الخبر</h2>"
        "<p>بيروت (رويترز) - نص الخبر الأول.</p><p>نص الخبر الثاني.</p>"
        "</article></body></html>"
    )
    article = extract_article(html, "http://x/")
    assert article.body == "عنوان فرعي يلخص الخبر\n\nنص الخبر الأول.\n\nنص الخبر الثاني."
    assert (article.dateline, article.agency) == ("بيروت", "Reuters")
    assert article.published == utc(2024, 11, 1)


def test_paragraphs_directly_in_body_beat_an_unmarked_sidebar() -> None:
    html = (
        "<html><body>"
        + ARTICLE_PARAS
        + "<div><h3>الأكثر قراءة</h3>"
        + "".join(f"<p>{t}</p>" for t in ITEMS)
        + "</div></body></html>"
    )
    body = extract_article(html, "http://x/").body
    assert body.startswith("الفقرة الأولى") and body.count("\n\n") == 2
    assert "روسيا" not in body


def test_second_paragraph_speech_is_not_a_dateline() -> None:
    html = "<article><p>نص الخبر الأول.</p><p>وقال المتحدث باسمه: لا تعليق.</p></article>"
    article = extract_article(html, "http://x/")
    assert article.dateline is None
    assert article.body == "نص الخبر الأول.\n\nوقال المتحدث باسمه: لا تعليق."
