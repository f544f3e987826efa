"""The one place that turns an alert into text: console line, email parts, webhook JSON.

:func:`build_view` reads an :class:`~crawler.models.Alert` with its story and cluster
into an :class:`AlertView` (plain data, safe to hand to another thread); the ``render_*``
functions and :func:`webhook_payload` are pure functions of that view.

Crawled text is hostile until proven otherwise:

- every line that ends up in a one-line context (console, email Subject) goes through
  :func:`one_line`, which collapses CR, LF and the other Unicode line breaks, so a title
  such as ``"عاجل\\r\\nBcc: x@evil"`` is delivered as one harmless line;
- the HTML part is rendered by Jinja2 with autoescape on; evidence marks ``[[...]]`` are
  turned into ``<mark>`` only *after* escaping (:func:`mark_html`);
- only ``http``/``https`` story URLs become links.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.messages import DigestView, NoticeView
from crawler.models import Alert, Story

__all__ = [
    "AlertView",
    "DigestView",
    "EvidenceView",
    "Message",
    "NoticeView",
    "build_view",
    "excerpt",
    "mark_html",
    "one_line",
    "render_console",
    "render_email",
    "webhook_payload",
]

TEMPLATES = Path(__file__).parent / "templates"
EXCERPT_CHARS = 400

# CR, LF, VT, FF, NEL, LS, PS and the other C0/C1 controls except TAB.
_LINE_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]+")
_MARK = re.compile(r"\[\[(.+?)\]\]", re.DOTALL)

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["one_line"] = lambda value: one_line(str(value) if value is not None else None)


def one_line(text: str | None) -> str:
    """Collapse every line break and control character to one space and trim.

    >>> one_line("عاجل:\\r\\n  قوات كورية")
    'عاجل: قوات كورية'
    """
    if not text:
        return ""
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


def excerpt(body: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The first non-empty paragraph of ``body`` on one line, at most ``limit`` characters
    (cut at a word boundary, ending in ``…`` when cut)."""
    if not body:
        return ""
    first = ""
    for para in re.split(r"\n\s*\n|\r\n\s*\r\n|\n", body):
        first = one_line(para)
        if first:
            break
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def mark_html(sentence: str) -> Markup:
    """Escape a crawled sentence, then turn its ``[[...]]`` marks into ``<mark>``.

    >>> str(mark_html("<b>قالت [[موسكو]]</b>"))
    '&lt;b&gt;قالت <mark>موسكو</mark>&lt;/b&gt;'
    """
    escaped = str(escape(one_line(sentence)))
    return Markup(_MARK.sub(r"<mark>\1</mark>", escaped))


def safe_href(url: str) -> str | None:
    """The URL if it may become a link (http/https), else ``None`` (shown as text only)."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


@dataclass(frozen=True)
class EvidenceView:
    """One evidence entry (``crawler.items.Evidence.to_json()``), defensively read."""

    clause: str
    term: str
    forms: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> EvidenceView:
        if not isinstance(data, dict):
            return cls(clause="", term=one_line(str(data)))

        def strings(value: Any) -> list[str]:
            if isinstance(value, str):
                return [value]
            return [str(v) for v in value] if isinstance(value, list) else []

        return cls(
            clause=str(data.get("clause") or ""),
            term=str(data.get("term") or ""),
            forms=strings(data.get("forms")),
            sentences=strings(data.get("sentences")),
        )


@dataclass(frozen=True)
class AlertView:
    """Everything a channel needs to say about one alert, read at send time.

    ``published`` is ISO 8601 or ``None``; ``excerpt`` the first paragraph (≤ 400 chars);
    ``copies`` the number of stored stories in the cluster and ``agencies`` their distinct
    agencies (sorted).
    """

    key: str
    rule: str
    channel: str
    title: str
    url: str
    published: str | None
    agency: str | None
    excerpt: str
    evidence: list[EvidenceView]
    cluster_id: str
    copies: int
    agencies: list[str]
    created_at: str | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_view(session: Session, alert: Alert) -> AlertView:
    """Read ``alert``'s story and cluster (size and distinct agencies) into a view.

    Raises ``LookupError`` when the story row is gone.
    """
    story = session.get(Story, alert.story_id)
    if story is None:
        raise LookupError(f"story {alert.story_id} of alert {alert.key} not found")
    copies = session.scalar(
        select(func.count()).select_from(Story).where(Story.cluster_id == alert.cluster_id)
    )
    agencies = session.scalars(
        select(Story.agency)
        .where(Story.cluster_id == alert.cluster_id, Story.agency.is_not(None))
        .distinct()
    ).all()
    raw = alert.evidence if isinstance(alert.evidence, list) else []
    return AlertView(
        key=alert.key,
        rule=alert.rule,
        channel=alert.channel,
        title=story.title or "",
        url=story.url,
        published=_iso(story.published),
        agency=story.agency,
        excerpt=excerpt(story.body),
        evidence=[EvidenceView.from_json(e) for e in raw],
        cluster_id=alert.cluster_id,
        copies=int(copies or 1),
        agencies=sorted({a for a in agencies if a}),
        created_at=_iso(alert.created_at),
    )


def render_console(view: Message) -> str:
    """``[rule] headline — url`` on one line (no trailing newline); a digest gives one such
    line per alert, joined by newlines."""
    if isinstance(view, DigestView):
        return "\n".join(render_console(alert) for alert in view.alerts)
    return f"[{one_line(view.rule)}] {one_line(view.title)} — {one_line(view.url)}"


def email_subject(view: AlertView) -> str:
    """``[wirewatch] rule: headline`` — one line whatever the crawled title holds."""
    return one_line(f"[wirewatch] {view.rule}: {one_line(view.title) or view.url}")


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _context(view: AlertView | DigestView | NoticeView) -> dict[str, Any]:
    return {
        "view": view,
        "title": one_line(view.title),
        "href": safe_href(view.url),
        "one_line": one_line,
        "mark_html": mark_html,
        "safe_href": safe_href,
    }


def render_email(view: Message) -> EmailContent:
    """Subject, plain-text part and HTML part (autoescaped, ``dir="rtl" lang="ar"``) of
    one alert, a digest (``digest.*`` templates) or an ops notice (``notice.*``)."""
    if isinstance(view, DigestView):
        return render_digest_email(view)
    if isinstance(view, NoticeView):
        return render_notice_email(view)
    ctx = _context(view)
    return EmailContent(
        subject=email_subject(view),
        text=_env.get_template("email.txt").render(ctx),
        html=_env.get_template("email.html").render(ctx),
    )


def _alert_payload(view: AlertView) -> dict[str, Any]:
    """The webhook JSON body (see README "what an alert looks like")::

        {"type": "wirewatch.alert", "id": key, "timestamp": created_at,
         "rule": ..., "channel": ...,
         "story": {"url", "title", "published", "agency", "excerpt"},
         "evidence": [{"clause", "term", "forms", "sentences"}, ...],
         "cluster": {"id", "copies", "agencies"}}

    The body is the same on every attempt (only the signature headers change).
    """
    return {
        "type": "wirewatch.alert",
        "id": view.key,
        "timestamp": view.created_at,
        "rule": view.rule,
        "channel": view.channel,
        "story": {
            "url": view.url,
            "title": view.title,
            "published": view.published,
            "agency": view.agency,
            "excerpt": view.excerpt,
        },
        "evidence": [asdict(e) for e in view.evidence],
        "cluster": {"id": view.cluster_id, "copies": view.copies, "agencies": view.agencies},
    }


def webhook_payload(view: Message) -> dict[str, Any]:
    """The webhook JSON body of any message: one alert (``wirewatch.alert``, above), a
    digest (``wirewatch.digest``) or an ops notice (``wirewatch.ops``); see
    :mod:`alerts.render_more`. The same on every attempt."""
    if isinstance(view, DigestView):
        return digest_payload(view)
    if isinstance(view, NoticeView):
        return notice_payload(view)
    return _alert_payload(view)


def _digest_subject(view: DigestView) -> str:
    """``[wirewatch] desk-mail: 3 alerts — rule-a, rule-b`` on one line."""
    count = len(view.alerts)
    noun = "alert" if count == 1 else "alerts"
    return one_line(f"[wirewatch] {view.channel}: {count} {noun} — {', '.join(view.rules)}")


def render_digest_email(view: DigestView) -> EmailContent:
    """One email for a digest: every alert with headline, URL and evidence."""
    ctx = {**_context(view), "digest": view}
    return EmailContent(
        subject=_digest_subject(view),
        text=_env.get_template("digest.txt").render(ctx),
        html=_env.get_template("digest.html").render(ctx),
    )


def render_notice_email(view: NoticeView) -> EmailContent:
    """An ops notice: what happened to which source; no evidence block."""
    return EmailContent(
        subject=one_line(f"[wirewatch] ops: {view.title}"),
        text=_env.get_template("notice.txt").render(_context(view)),
        html=_env.get_template("notice.html").render(_context(view)),
    )


def digest_payload(view: DigestView) -> dict[str, Any]:
    """``{"type": "wirewatch.digest", "id", "timestamp", "channel", "rules", "count",
    "period": {"start", "end"}, "alerts": [<the wirewatch.alert body of each>]}``."""
    return {
        "type": "wirewatch.digest",
        "id": view.key,
        "timestamp": view.created_at,
        "channel": view.channel,
        "rules": list(view.rules),
        "count": len(view.alerts),
        "period": {"start": view.period_start, "end": view.period_end},
        "alerts": [_alert_payload(alert) for alert in view.alerts],
    }


def notice_payload(view: NoticeView) -> dict[str, Any]:
    """``{"type": "wirewatch.ops", "id", "timestamp", "channel", "source", "kind",
    "reason", "url"}`` plus, for receivers written before notices had a type of their
    own, the alert-shaped ``rule`` (``ops:<source>``), ``story`` and empty ``evidence``."""
    return {
        "type": "wirewatch.ops",
        "id": view.key,
        "timestamp": view.created_at,
        "channel": view.channel,
        "source": view.source,
        "kind": view.kind,
        "reason": view.reason,
        "url": view.url,
        "rule": view.rule,
        "story": {
            "url": view.url,
            "title": view.title,
            "published": None,
            "agency": None,
            "excerpt": view.reason,
        },
        "evidence": [],
    }


Message = AlertView | DigestView | NoticeView
