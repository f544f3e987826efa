"""The one classification table: HTTP statuses, SMTP codes, exceptions."""

from __future__ import annotations

import smtplib

import httpx
import pytest

from alerts.result import DeliveryResult, FailureReason, classify, parse_retry_after

R = FailureReason


@pytest.mark.parametrize(
    ("status", "ok", "retryable", "reason"),
    [
        (200, True, False, None),
        (204, True, False, None),
        (301, False, False, R.REDIRECT),
        (302, False, False, R.REDIRECT),
        (308, False, False, R.REDIRECT),
        (400, False, False, R.CLIENT_ERROR),
        (401, False, False, R.CLIENT_ERROR),
        (404, False, False, R.CLIENT_ERROR),
        (408, False, True, R.SERVER_ERROR),
        (410, False, False, R.GONE),
        (413, False, False, R.CLIENT_ERROR),
        (429, False, True, R.RATE_LIMITED),
        (500, False, True, R.SERVER_ERROR),
        (502, False, True, R.SERVER_ERROR),
        (503, False, True, R.SERVER_ERROR),
        (504, False, True, R.SERVER_ERROR),
    ],
)
def test_http_status_table(
    status: int, ok: bool, retryable: bool, reason: FailureReason | None
) -> None:
    result = classify(http_status=status)
    assert (result.ok, result.retryable, result.reason) == (ok, retryable, reason)
    assert str(status) in result.detail


@pytest.mark.parametrize(
    ("code", "retryable", "reason"),
    [
        (421, True, R.SMTP_TRANSIENT),
        (450, True, R.SMTP_TRANSIENT),
        (451, True, R.SMTP_TRANSIENT),
        (452, True, R.SMTP_TRANSIENT),
        (535, False, R.AUTH),
        (550, False, R.SMTP_PERMANENT),
        (552, False, R.SMTP_PERMANENT),
        (554, False, R.SMTP_PERMANENT),
        (-1, True, R.CONNECTION),
    ],
)
def test_smtp_code_table(code: int, retryable: bool, reason: FailureReason) -> None:
    result = classify(smtp_code=code)
    assert not result.ok
    assert (result.retryable, result.reason) == (retryable, reason)


@pytest.mark.parametrize(
    ("error", "retryable", "reason"),
    [
        (httpx.ConnectTimeout("slow"), True, R.TIMEOUT),
        (httpx.ReadTimeout("slow"), True, R.TIMEOUT),
        (httpx.ConnectError("refused"), True, R.CONNECTION),
        (httpx.RemoteProtocolError("bad"), True, R.CONNECTION),
        (TimeoutError("timed out"), True, R.TIMEOUT),
        (ConnectionRefusedError(111, "refused"), True, R.CONNECTION),
        (smtplib.SMTPServerDisconnected("gone"), True, R.CONNECTION),
        (smtplib.SMTPDataError(451, b"try later"), True, R.SMTP_TRANSIENT),
        (smtplib.SMTPDataError(554, b"rejected"), False, R.SMTP_PERMANENT),
        (smtplib.SMTPSenderRefused(550, b"no", "a@b"), False, R.SMTP_PERMANENT),
        (smtplib.SMTPAuthenticationError(535, b"bad creds"), False, R.AUTH),
        (
            smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (450, b"later")}),
            True,
            R.SMTP_TRANSIENT,
        ),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")}), False, R.SMTP_PERMANENT),
        (RuntimeError("surprise"), True, R.UNKNOWN),
    ],
)
def test_exception_table(error: BaseException, retryable: bool, reason: FailureReason) -> None:
    result = classify(error=error)
    assert not result.ok
    assert (result.retryable, result.reason) == (retryable, reason)


def test_classify_needs_exactly_one_outcome() -> None:
    with pytest.raises(ValueError):
        classify()
    with pytest.raises(ValueError):
        classify(http_status=200, smtp_code=250)


def test_retry_after_is_kept_on_retryable_http() -> None:
    assert classify(http_status=503, retry_after=120.0).retry_after == 120.0
    assert classify(http_status=429, retry_after=5.0).retry_after == 5.0


def test_outcome_names() -> None:
    assert DeliveryResult.delivered().outcome == "delivered"
    assert classify(http_status=503).outcome == "retry"
    assert classify(http_status=404).outcome == "failed"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
