"""Email delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatch import Dispatcher
from alerts.email import EmailSender, build_message
from alerts.outbox import alert_key
from crawler.config import EmailChannel
from crawler.models import Alert, DeliveryAttempt
from tests.alerts.conftest import TITLE, Clock, SmtpServer, add_story, free_port, make_view

RULE = "north-korea-russia-troops"


def mail(server: SmtpServer | None = None, **over: object) -> EmailChannel:
    fields: dict[str, object] = {
        "type": "email",
        "host": "127.0.0.1",
        "port": server.port if server else free_port(),
        "sender": "wirewatch@example.org",
        "to": ["desk@example.org", "chief@example.org"],
        "timeout": 5.0,
    }
    fields.update(over)
    return EmailChannel(**fields)  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def alert_rows(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def test_message_is_multipart_utf8_rtl_escaped_with_stable_message_id(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    hostile = "<script>alert(1)</script> " + TITLE
    add_story(sessions, title=hostile, channels=("mail",))
    with Dispatcher(sessions, {"mail": mail(smtp_server)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert summary.delivered == 1 and summary.stats == {"alerts/email/delivered": 1}
    (raw,) = smtp_server.handler.messages
    assert smtp_server.handler.envelopes == [
        ("wirewatch@example.org", ["desk@example.org", "chief@example.org"])
    ]
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Message-ID"] == f"<{alert_key(RULE, 'c1', 'mail')}@wirewatch>"
    subject = str(msg["Subject"])
    assert RULE in subject and TITLE in subject and "\n" not in subject
    text, html = parts(msg)
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
    assert "https://news.example/a/1" in text and "https://news.example/a/1" in html
    assert "[[كوريا الشمالية]]" in text and "North Korea" in text
    assert "<mark>كوريا الشمالية</mark>" in html and "<mark>موسكو</mark>" in html
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    (row,) = alert_rows(sessions)
    assert row.status == "delivered" and row.attempts == 1


def test_header_injection_in_title_is_neutralised_and_delivered(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    title = "عاجل\r\nBcc: victim@example.net\r\n\r\n<b>body</b>\nكوريا"
    add_story(sessions, title=title, channels=("mail",))
    with Dispatcher(sessions, {"mail": mail(smtp_server)}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().delivered == 1
    (raw,) = smtp_server.handler.messages
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert smtp_server.handler.envelopes[0][1] == ["desk@example.org", "chief@example.org"]
    assert str(msg["Subject"]).endswith("عاجل Bcc: victim@example.net <b>body</b> كوريا")
    _text, html = parts(msg)
    assert "<b>body</b>" not in html and "&lt;b&gt;body&lt;/b&gt;" in html


def test_4xx_then_accept_is_delivered_exactly_once(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    smtp_server.handler.script = ["451 4.3.0 Try again later"]
    add_story(sessions, channels=("mail",))
    with Dispatcher(sessions, {"mail": mail(smtp_server)}, now=clock) as dispatcher:
        first = dispatcher.deliver_due()
        assert (first.retrying, first.delivered) == (1, 0)
        assert first.stats == {"alerts/email/retry/smtp_transient": 1}
        (row,) = alert_rows(sessions)
        assert row.status == "queued" and row.attempts == 1
        assert row.last_error and "451" in row.last_error
        assert dispatcher.deliver_due().attempted == 0  # backing off
        clock.advance(hours=1)
        assert dispatcher.deliver_due().delivered == 1
        clock.advance(hours=1)
        assert dispatcher.deliver_due().attempted == 0
    assert smtp_server.handler.data_calls == 2
    (raw,) = smtp_server.handler.messages
    assert parse(raw)["Message-ID"] == f"<{alert_key(RULE, 'c1', 'mail')}@wirewatch>"
    (row,) = alert_rows(sessions)
    assert row.status == "delivered" and row.attempts == 2


def test_5xx_is_a_permanent_failure_with_its_reason(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    smtp_server.handler.script = ["554 5.7.1 Message rejected"]
    add_story(sessions, channels=("mail",))
    with Dispatcher(sessions, {"mail": mail(smtp_server)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
        assert summary.failed == 1
        assert summary.stats == {"alerts/email/failed/smtp_permanent": 1}
        clock.advance(days=1)
        assert dispatcher.deliver_due().attempted == 0
    (row,) = alert_rows(sessions)
    assert row.status == "failed"
    assert row.last_error == "smtp_permanent: SMTP 554: 5.7.1 Message rejected"
    with sessions() as s:
        (attempt,) = s.scalars(select(DeliveryAttempt)).all()
    assert (attempt.outcome, attempt.reason) == ("failed", "smtp_permanent")
    assert smtp_server.handler.messages == []


def test_refused_connection_stays_queued(sessions: sessionmaker[Session], clock: Clock) -> None:
    add_story(sessions, channels=("mail",))
    with Dispatcher(sessions, {"mail": mail(None, timeout=1.0)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert summary.retrying == 1
    assert summary.stats == {"alerts/email/retry/connection": 1}
    (row,) = alert_rows(sessions)
    assert row.status == "queued" and row.next_attempt_at > clock()


def test_password_never_in_repr() -> None:
    channel = mail(None, username="u", password=SecretStr("hunter2-secret"))
    sender = EmailSender(channel)
    assert "hunter2-secret" not in repr(sender) and "<secret>" in repr(sender)
    assert "hunter2-secret" not in repr(channel)


def test_build_message_without_network() -> None:
    msg = build_message(make_view(key="msg_abc"), mail(None))
    assert msg["Message-ID"] == "<msg_abc@wirewatch>"
    assert msg["To"] == "desk@example.org, chief@example.org"
    assert msg.is_multipart()
