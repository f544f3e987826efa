"""Rendering: the view, the console line, the email parts, the webhook body."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.render import (
    EvidenceView,
    build_view,
    excerpt,
    mark_html,
    one_line,
    render_console,
    render_email,
    webhook_payload,
)
from crawler.models import Alert
from tests.alerts.conftest import EVIDENCE, TITLE, add_story, make_view


def test_one_line_collapses_every_line_break() -> None:
    assert one_line("a\r\nb\nc\u2028d\u2029e\x85f\x0bg") == "a b c d e f g"
    assert one_line("  عاجل:\n\n قوات  ") == "عاجل: قوات"
    assert one_line(None) == ""


def test_excerpt_is_first_paragraph_and_bounded() -> None:
    assert excerpt("\n\nالفقرة الأولى\nسطر\n\nالثانية") == "الفقرة الأولى"
    long = "كلمة " * 200
    cut = excerpt(long)
    assert len(cut) <= 400 and cut.endswith("…")
    assert excerpt("") == ""


def test_mark_html_escapes_before_marking() -> None:
    html = str(mark_html('<img src=x onerror="a()"> قالت [[موسكو]] & [[بيونغ يانغ]]'))
    assert "<img" not in html
    assert "&lt;img" in html
    assert "<mark>موسكو</mark>" in html
    assert "<mark>بيونغ يانغ</mark>" in html
    assert "&amp;" in html


def test_console_line() -> None:
    view = make_view(title="عاجل:\nكوريا الشمالية\r\nترسل قوات")
    line = render_console(view)
    assert line == (
        "[north-korea-russia-troops] عاجل: كوريا الشمالية ترسل قوات — https://news.example/a/1"
    )
    assert "\n" not in line


def test_email_parts_escape_mark_and_are_rtl() -> None:
    view = make_view(
        title="<script>alert(1)</script> كوريا",
        agency="<b>وكالة</b>",
        excerpt='"><img src=x>',
        evidence=[EvidenceView("all", "North Korea", ["<i>كوريا</i>"], ["<u>x</u> [[كوريا]]"])],
    )
    content = render_email(view)
    assert "<script>" not in content.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert "<img" not in content.html and "<b>" not in content.html and "<i>" not in content.html
    assert "<mark>كوريا</mark>" in content.html
    assert 'dir="rtl"' in content.html and 'lang="ar"' in content.html
    assert 'href="https://news.example/a/1"' in content.html
    # the text part keeps the crawled text as text
    assert "<script>alert(1)</script> كوريا" in content.text
    assert "https://news.example/a/1" in content.text
    assert "[[كوريا]]" in content.text
    assert "North Korea" in content.text


def test_non_http_url_is_not_a_link() -> None:
    content = render_email(make_view(url="javascript:alert(1)"))
    assert 'href="javascript' not in content.html
    assert "javascript:alert(1)" in content.html


def test_subject_is_one_line_with_rule_and_headline() -> None:
    content = render_email(make_view(title="عاجل\r\nBcc: victim@example.org\nكوريا"))
    assert "\n" not in content.subject and "\r" not in content.subject
    assert "north-korea-russia-troops" in content.subject
    assert "عاجل Bcc: victim@example.org كوريا" in content.subject


def test_webhook_payload_shape() -> None:
    payload = webhook_payload(make_view())
    assert payload["rule"] == "north-korea-russia-troops"
    assert set(payload["story"]) == {"url", "title", "published", "agency", "excerpt"}
    assert payload["story"]["title"] == TITLE
    assert payload["evidence"][0] == EVIDENCE[0]
    assert payload["cluster"] == {"id": "c1", "copies": 2, "agencies": ["أ ف ب", "رويترز"]}
    assert payload["id"] == "msg_0123"


def test_build_view_counts_cluster_copies_and_agencies(
    sessions: sessionmaker[Session],
) -> None:
    add_story(sessions, channels=("desk",))
    add_story(sessions, url="https://other.example/2", agency="أ ف ب", channels=("desk",))
    add_story(sessions, url="https://other.example/3", agency="رويترز", rule=None)
    add_story(sessions, url="https://x.example/4", cluster="c2", rule=None)
    with sessions() as s:
        alert = s.scalars(select(Alert)).one()
        view = build_view(s, alert)
    assert view.copies == 3
    assert view.agencies == sorted(["أ ف ب", "رويترز"])
    assert view.title == TITLE
    assert view.url == "https://news.example/a/1"
    assert view.published == "2026-11-23T11:00:00+00:00"
    assert view.excerpt.startswith("سول – (رويترز)")
    assert "الأسبوع" not in view.excerpt  # second paragraph
    assert view.evidence[1].forms == ["روسيا", "موسكو"]
