"""Email channel: one multipart/alternative (text + HTML, UTF-8) message per alert — or per
digest (``X-Wirewatch-Digest``) or ops notice.

Built with :class:`email.message.EmailMessage` (which refuses CR/LF in header values);
the crawled headline is collapsed to one line by :func:`alerts.render.one_line` before it
reaches the Subject, so an injection attempt is neutralised *and* the alert delivered.
``Message-ID`` is ``<alert or digest key@wirewatch>``: a re-send after a crash is the same message
to the receiving side. Every SMTP step runs under the channel's ``timeout``; STARTTLS,
implicit TLS (``ssl: true``) and login are used when configured. The password is a
``SecretStr`` and only revealed to ``smtplib.SMTP.login``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime, timezone
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime

from alerts.render import DigestView, Message, one_line, render_email
from alerts.result import DeliveryResult, classify
from crawler.config import EmailChannel

__all__ = ["EmailSender", "build_message"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def build_message(
    view: Message, channel: EmailChannel, *, now: datetime | None = None
) -> EmailMessage:
    """The complete message for ``view`` on ``channel`` (no I/O)."""
    content = render_email(view)
    msg = EmailMessage()
    _set_subject(msg, content.subject)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    msg["Date"] = format_datetime(now or _utcnow())
    msg["Message-ID"] = f"<{view.key}@wirewatch>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Wirewatch-Rule"] = one_line(view.rule)
    if isinstance(view, DigestView):
        msg["X-Wirewatch-Digest"] = view.key
        msg["X-Wirewatch-Count"] = str(len(view.alerts))
    else:
        msg["X-Wirewatch-Alert"] = view.key
    msg.set_content(content.text, subtype="plain", charset="utf-8")
    msg.add_alternative(content.html, subtype="html", charset="utf-8")
    return msg


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """Set a one-line Subject, folded by :class:`email.header.Header` (RFC 2047-encoded
    when it is not ASCII).

    Why not ``msg["Subject"] = subject``: CPython's folder (3.11/3.12) encodes each Arabic
    word of a long mixed header as its own encoded-word with the spaces *between* them,
    and decoders drop whitespace between encoded-words — the headline arrives as
    ``كورياالشمالية``; and an ASCII subject just over 78 columns is folded right after
    ``Subject:``, which readers show as a leading space. ``Header.encode`` keeps the
    spaces inside the encoded-words and folds under 78 columns, so the policy stores the
    lines as they are. ``subject`` is already one line (:func:`alerts.render.one_line`),
    so nothing can be injected.
    """
    charset = "us-ascii" if subject.isascii() else "utf-8"
    msg.set_raw("Subject", Header(subject, charset, header_name="Subject").encode())


class EmailSender:
    """SMTP delivery for one :class:`~crawler.config.EmailChannel`.

    One connection per message: simple, and a broken connection never poisons the next
    alert. ``ssl_context`` defaults to :func:`ssl.create_default_context` (verified).
    """

    kind = "email"

    def __init__(
        self,
        channel: EmailChannel,
        *,
        now: Callable[[], datetime] = _utcnow,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.channel = channel
        self._now = now
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        user = self.channel.username
        auth = f", username={user!r}, password=<secret>" if user else ""
        return f"EmailSender({self.channel.host}:{self.channel.port}{auth})"

    def _connect(self) -> smtplib.SMTP:
        ch = self.channel
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if ch.ssl:
            smtp = smtplib.SMTP_SSL(ch.host, ch.port, timeout=ch.timeout, context=context)
        else:
            smtp = smtplib.SMTP(ch.host, ch.port, timeout=ch.timeout)
        try:
            smtp.ehlo()
            if ch.starttls and not ch.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if ch.username:
                password = ch.password.get_secret_value() if ch.password else ""
                smtp.login(ch.username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, key: str, view: Message) -> DeliveryResult:
        """Send the alert; SMTP replies and socket errors become a :class:`DeliveryResult`."""
        msg = build_message(view, self.channel, now=self._now())
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(
                    msg, from_addr=self.channel.sender, to_addrs=self.channel.to
                )
            finally:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        except (smtplib.SMTPException, OSError) as exc:
            return classify(error=exc)
        if refused:
            # Some recipients took it: a retry would duplicate it for them.
            listed = ", ".join(f"{r} ({c})" for r, (c, _m) in refused.items())
            return DeliveryResult.delivered(f"accepted; refused for {listed}")
        return DeliveryResult.delivered("SMTP 250")

    def close(self) -> None:
        """Nothing to release: connections live for one message."""
