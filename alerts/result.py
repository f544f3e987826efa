"""What a delivery attempt came to, and the one function that decides it.

Every sender answers the same two questions — did it fail, and is it worth retrying? —
with a :class:`DeliveryResult`. :func:`classify` is the only place that turns an HTTP
status, an SMTP reply code or an exception into that answer (Alertmanager's
``notify.RetryError`` idea), so the retry policy is one table, tested as a table:

========================================  =========  ===========================
outcome                                   retryable  reason
========================================  =========  ===========================
HTTP 2xx                                  —          (delivered)
HTTP 408, 425, 429                        yes        ``rate_limited`` / ``server_error``
HTTP 5xx                                  yes        ``server_error``
HTTP 410                                  no         ``gone`` (endpoint disabled)
HTTP other 4xx                            no         ``client_error``
HTTP 3xx (redirects are never followed)   no         ``redirect``
SMTP 4xx                                  yes        ``smtp_transient``
SMTP 5xx (535: ``auth``)                  no         ``smtp_permanent``
timeouts                                  yes        ``timeout``
refused / reset / DNS / disconnect        yes        ``connection``
TLS handshake / certificate               no         ``tls``
anything else                             yes        ``unknown``
========================================  =========  ===========================
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from alerts.render import Message

__all__ = [
    "DeliveryResult",
    "FailureReason",
    "Sender",
    "classify",
    "parse_retry_after",
]


class Reason(str, Enum):
    """A string enum that prints as its value (``enum.StrEnum`` needs Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)


class FailureReason(Reason):
    """Why a delivery did not go through; the value is what is stored and printed."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    TLS = "tls"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    CLIENT_ERROR = "client_error"
    GONE = "gone"
    REDIRECT = "redirect"
    SMTP_TRANSIENT = "smtp_transient"
    SMTP_PERMANENT = "smtp_permanent"
    AUTH = "auth"
    DISABLED = "disabled"
    RENDER = "render"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeliveryResult:
    """The answer of one send.

    ``ok`` — the receiver accepted it. Otherwise ``retryable`` says whether trying again
    later can help, ``reason`` says why it failed, ``detail`` is a short human line (never
    contains a secret) and ``retry_after`` is the receiver's own wish in seconds, if any.
    """

    ok: bool
    retryable: bool = False
    reason: FailureReason | None = None
    detail: str = ""
    retry_after: float | None = None

    @classmethod
    def delivered(cls, detail: str = "") -> DeliveryResult:
        return cls(ok=True, detail=detail)

    @property
    def outcome(self) -> str:
        """``delivered`` | ``retry`` | ``failed`` — the value stored in delivery_attempts."""
        if self.ok:
            return "delivered"
        return "retry" if self.retryable else "failed"


class Sender(Protocol):
    """A channel's way out. ``send`` must not raise for delivery problems: it returns a
    :class:`DeliveryResult` (use :func:`classify`). It must bound every network call with
    a timeout. ``key`` is the alert's stable id (webhook-id / Message-ID)."""

    kind: str  # "console" | "email" | "webhook" | ...: the second part of stats keys

    def send(self, key: str, view: Message) -> DeliveryResult: ...

    def close(self) -> None: ...


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (measured against the
    wall clock); ``None`` when absent or unreadable. A date in the past gives 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _http(status: int, detail: str, retry_after: float | None) -> DeliveryResult:
    line = f"HTTP {status}" + (f": {detail}" if detail else "")
    if 200 <= status < 300:
        return DeliveryResult.delivered(line)
    if status == 429:
        return DeliveryResult(False, True, FailureReason.RATE_LIMITED, line, retry_after)
    if status in (408, 425) or status >= 500 or status < 200:
        return DeliveryResult(False, True, FailureReason.SERVER_ERROR, line, retry_after)
    if status == 410:
        return DeliveryResult(False, False, FailureReason.GONE, line)
    if 300 <= status < 400:
        return DeliveryResult(
            False, False, FailureReason.REDIRECT, line + " (redirects are not followed)"
        )
    return DeliveryResult(False, False, FailureReason.CLIENT_ERROR, line)


def _smtp(code: int, detail: str) -> DeliveryResult:
    line = f"SMTP {code}" + (f": {detail}" if detail else "")
    if 400 <= code < 500:
        return DeliveryResult(False, True, FailureReason.SMTP_TRANSIENT, line)
    if code in (530, 534, 535):
        return DeliveryResult(False, False, FailureReason.AUTH, line)
    if 500 <= code < 600:
        return DeliveryResult(False, False, FailureReason.SMTP_PERMANENT, line)
    # -1 and other odd codes: smtplib's "connection unexpectedly closed" and friends.
    return DeliveryResult(False, True, FailureReason.CONNECTION, line)


def _smtp_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:300]


def _exception(exc: BaseException) -> DeliveryResult:
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:300]
    detail = f"{name}: {text}" if text else name
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        worst = min(codes) if codes else 554
        # Any transient refusal makes the whole message worth another try.
        code = next((c for c in codes if 400 <= c < 500), worst)
        msgs = "; ".join(f"{rcpt}: {c} {_smtp_text(m)}" for rcpt, (c, m) in exc.recipients.items())
        return _smtp(code, f"recipients refused ({msgs})")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _smtp(exc.smtp_code, _smtp_text(exc.smtp_error))
    if isinstance(exc, (httpx.TimeoutException, socket.timeout, TimeoutError)):
        return DeliveryResult(False, True, FailureReason.TIMEOUT, detail)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryResult(False, False, FailureReason.TLS, detail)
    if isinstance(exc, ssl.SSLError):
        return DeliveryResult(False, True, FailureReason.TLS, detail)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryResult(False, False, FailureReason.SMTP_PERMANENT, detail)
    if isinstance(exc, httpx.TooManyRedirects):
        return DeliveryResult(False, False, FailureReason.REDIRECT, detail)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return DeliveryResult(False, False, FailureReason.CLIENT_ERROR, detail)
    if isinstance(
        exc, (httpx.TransportError, smtplib.SMTPServerDisconnected, smtplib.SMTPException, OSError)
    ):
        return DeliveryResult(False, True, FailureReason.CONNECTION, detail)
    return DeliveryResult(False, True, FailureReason.UNKNOWN, detail)


def classify(
    *,
    http_status: int | None = None,
    smtp_code: int | None = None,
    error: BaseException | None = None,
    detail: str = "",
    retry_after: float | None = None,
) -> DeliveryResult:
    """Turn one outcome into a :class:`DeliveryResult` (see the module table).

    Give exactly one of ``http_status``, ``smtp_code`` or ``error``. ``detail`` is
    appended to the status line; ``retry_after`` (seconds) is kept on retryable HTTP
    failures. Raises ``ValueError`` when given none or several outcomes.
    """
    given = [x is not None for x in (http_status, smtp_code, error)]
    if sum(given) != 1:
        raise ValueError("classify() needs exactly one of http_status, smtp_code, error")
    if http_status is not None:
        return _http(http_status, detail, retry_after)
    if smtp_code is not None:
        return _smtp(smtp_code, detail)
    assert error is not None
    return _exception(error)
