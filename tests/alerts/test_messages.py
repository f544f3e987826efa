"""Digest and ops-notice messages: rendering, and ops notices through real receivers."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from alerts.messages import DigestView, NoticeView
from alerts.ops import deliver_notices
from alerts.render import render_console, render_email, webhook_payload
from crawler.config import load_config
from crawler.db import transaction
from crawler.models import OpsNotice
from tests.alerts.conftest import TITLE, HttpReceiver, SmtpServer, make_view
from tests.alerts.test_webhook import SECRET, verify

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def digest(**over: Any) -> DigestView:
    fields: dict[str, Any] = {
        "key": "dig_0123",
        "channel": "desk",
        "alerts": (
            make_view(key="msg_1", title="<script>x</script> " + TITLE),
            make_view(key="msg_2", rule="russia-drones", url="https://b.example/2"),
        ),
        "period_start": "2026-11-23T12:00:00+00:00",
        "period_end": "2026-11-23T13:00:00+00:00",
        "created_at": "2026-11-23T12:40:00+00:00",
    }
    fields.update(over)
    return DigestView(**fields)


def test_digest_webhook_body_carries_the_single_alert_bodies() -> None:
    view = digest()
    body = webhook_payload(view)
    assert body["type"] == "wirewatch.digest"
    assert (body["id"], body["channel"], body["count"]) == ("dig_0123", "desk", 2)
    assert body["rules"] == ["north-korea-russia-troops", "russia-drones"]
    assert body["period"] == {
        "start": "2026-11-23T12:00:00+00:00",
        "end": "2026-11-23T13:00:00+00:00",
    }
    assert body["alerts"] == [webhook_payload(alert) for alert in view.alerts]


def test_digest_email_lists_every_alert_escaped_rtl() -> None:
    content = render_email(digest())
    assert content.subject == (
        "[wirewatch] desk: 2 alerts — north-korea-russia-troops, russia-drones"
    )
    for part in (content.text, content.html):
        assert "https://news.example/a/1" in part and "https://b.example/2" in part
        assert "msg_1" in part and "msg_2" in part and "dig_0123" in part
    assert 'dir="rtl"' in content.html and "<script>" not in content.html
    assert "&lt;script&gt;x&lt;/script&gt;" in content.html
    assert content.html.count("<mark>كوريا الشمالية</mark>") == 2
    assert content.text.count("[[كوريا الشمالية]]") == 2


def test_digest_subject_stays_one_line() -> None:
    view = digest(alerts=(make_view(rule="a\r\nBcc: x@evil"),), channel="desk")
    subject = render_email(view).subject
    assert "\n" not in subject and "\r" not in subject
    assert subject == "[wirewatch] desk: 1 alert — a Bcc: x@evil"


def test_digest_console_is_one_line_per_alert() -> None:
    lines = render_console(digest()).split("\n")
    assert lines == [render_console(alert) for alert in digest().alerts]


def notice(**over: Any) -> NoticeView:
    fields: dict[str, Any] = {
        "key": "ops_1",
        "channel": "ops",
        "source": "wire",
        "kind": "broken",
        "reason": "HTTP 404 <b>(3 failed runs in a row)</b>",
        "title": "source wire is failing: HTTP 404 <b>(3 failed runs in a row)</b>",
        "url": "https://wire.example/feed.xml",
        "created_at": T0.isoformat(),
    }
    fields.update(over)
    return NoticeView(**fields)


def test_notice_webhook_has_its_own_type() -> None:
    body = webhook_payload(notice())
    assert body["type"] == "wirewatch.ops"
    assert (body["source"], body["kind"], body["reason"]) == (
        "wire",
        "broken",
        "HTTP 404 <b>(3 failed runs in a row)</b>",
    )
    assert body["id"] == "ops_1" and body["url"] == "https://wire.example/feed.xml"
    # the alert-shaped fields older receivers read are still there
    assert body["rule"] == "ops:wire" and body["evidence"] == []
    assert body["story"]["title"].startswith("source wire is failing")


def test_notice_email_has_no_evidence_block() -> None:
    content = render_email(notice())
    assert content.subject == (
        "[wirewatch] ops: source wire is failing: HTTP 404 <b>(3 failed runs in a row)</b>"
    )
    assert "evidence" not in content.html.lower() and "الأدلة" not in content.html
    assert "Evidence" not in content.text
    assert "<b>" not in content.html and "&lt;b&gt;" in content.html
    assert 'href="https://wire.example/feed.xml"' in content.html
    assert "Reason: HTTP 404" in content.text and "ops_1" in content.text
    recovered = render_email(notice(kind="recovered", title="source wire recovered"))
    assert "Reason:" not in recovered.text and "works again" in recovered.html


def _queue_notice(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        s.add(
            OpsNotice(
                key="ops_wire_1",
                source="wire",
                kind="broken",
                reason="HTTP 404 (3 failed runs in a row)",
                created_at=T0,
                next_attempt_at=T0,
            )
        )


def _config(tmp_path: Path, database_url: str, channel: str) -> Any:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"database: {database_url}\n"
        "sources:\n  - {name: wire, type: feed, url: 'https://wire.example/feed.xml'}\n"
        f"channels:\n{channel}health: {{channel: ops}}\n",
        encoding="utf-8",
    )
    return load_config(path)


def test_ops_notice_webhook_through_a_real_receiver(
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    http_receiver: HttpReceiver,
) -> None:
    _queue_notice(sessions)
    channel = f"  ops:\n    type: webhook\n    url: {http_receiver.url}\n    secret: {SECRET}\n"
    config = _config(tmp_path, database_url, channel)
    assert deliver_notices(sessions, config, now=lambda: T0).delivered == 1
    (request,) = http_receiver.requests
    body = verify(SECRET, request.headers, request.body, int(T0.timestamp()))
    assert request.headers["webhook-id"] == "ops_wire_1"
    assert body["type"] == "wirewatch.ops"
    assert (body["source"], body["kind"]) == ("wire", "broken")
    assert body["reason"] == "HTTP 404 (3 failed runs in a row)"
    assert json.loads(request.body)["url"] == "https://wire.example/feed.xml"


def test_ops_notice_email_through_a_real_smtp_server(
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
) -> None:
    _queue_notice(sessions)
    channel = (
        f"  ops:\n    type: email\n    host: 127.0.0.1\n    port: {smtp_server.port}\n"
        "    sender: w@example.org\n    to: [ops@example.org]\n"
    )
    config = _config(tmp_path, database_url, channel)
    assert deliver_notices(sessions, config, now=lambda: T0).delivered == 1
    (raw,) = smtp_server.handler.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["Message-ID"] == "<ops_wire_1@wirewatch>"
    assert str(msg["Subject"]) == (
        "[wirewatch] ops: source wire is failing: HTTP 404 (3 failed runs in a row)"
    )
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "evidence" not in html.lower() and "wire.example/feed.xml" in html
