"""Webhook delivery against a real HTTP receiver on 127.0.0.1, verified independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatch import Dispatcher
from alerts.outbox import alert_key
from alerts.result import FailureReason
from alerts.webhook import WebhookSender, signing_key
from crawler.config import WebhookChannel
from crawler.models import Alert, DeliveryAttempt
from tests.alerts.conftest import (
    EVIDENCE,
    TITLE,
    Clock,
    HttpReceiver,
    add_story,
    make_view,
)

SECRET = "whsec_" + base64.b64encode(b"a very secret signing key, 32b!!").decode()
RULE = "north-korea-russia-troops"


def verify(secret: str, headers: dict[str, str], body: bytes, now: int) -> dict[str, Any]:
    """An independent reading of the Standard Webhooks spec (what a receiver does)."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    assert abs(now - int(timestamp)) <= 300, "timestamp outside tolerance"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return dict(json.loads(body))
    raise AssertionError("no valid v1 signature")


def hook(receiver: HttpReceiver, secret: str = SECRET, timeout: float = 5.0) -> WebhookChannel:
    return WebhookChannel(
        type="webhook", url=receiver.url, secret=SecretStr(secret), timeout=timeout
    )


def rows(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def attempts(sessions: sessionmaker[Session]) -> list[DeliveryAttempt]:
    with sessions() as s:
        return list(s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all())


def test_signed_post_verifies_and_carries_the_contract_fields(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    add_story(sessions, channels=("hook",))
    add_story(sessions, url="https://copy.example/x", agency="أ ف ب", rule=None)
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert (summary.delivered, summary.retrying, summary.failed) == (1, 0, 0)
    assert summary.stats == {"alerts/webhook/delivered": 1}
    (req,) = http_receiver.requests
    payload = verify(SECRET, req.headers, req.body, int(clock().timestamp()))
    assert req.headers["webhook-id"] == alert_key(RULE, "c1", "hook")
    assert req.headers["webhook-timestamp"] == str(int(clock().timestamp()))
    assert req.headers["content-type"].startswith("application/json")
    assert payload["rule"] == RULE
    assert payload["story"] == {
        "url": "https://news.example/a/1",
        "title": TITLE,
        "published": "2026-11-23T11:00:00+00:00",
        "agency": "رويترز",
        "excerpt": payload["story"]["excerpt"],
    }
    assert payload["story"]["excerpt"].startswith("سول")
    assert payload["evidence"] == EVIDENCE
    assert payload["cluster"]["id"] == "c1"
    assert payload["cluster"]["copies"] == 2
    assert sorted(payload["cluster"]["agencies"]) == sorted(["رويترز", "أ ف ب"])
    (row,) = rows(sessions)
    assert row.status == "delivered" and row.attempts == 1 and row.delivered_at == clock()
    assert row.lease_until is None


def test_503_with_retry_after_then_200_same_id_delivered_once(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    http_receiver.script = [(503, {"Retry-After": "120"})]
    add_story(sessions, channels=("hook",))
    dispatcher = Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock)

    first = dispatcher.deliver_due()
    assert (first.delivered, first.retrying) == (0, 1)
    assert first.stats == {"alerts/webhook/retry/server_error": 1}
    (row,) = rows(sessions)
    assert row.status == "queued" and row.attempts == 1
    assert row.next_attempt_at == clock() + timedelta(seconds=120)  # Retry-After honoured
    assert row.last_error and "503" in row.last_error

    clock.advance(seconds=60)
    assert dispatcher.deliver_due().attempted == 0  # not due yet
    clock.advance(seconds=61)
    second = dispatcher.deliver_due()
    assert second.delivered == 1
    clock.advance(hours=5)
    assert dispatcher.deliver_due().attempted == 0  # never again
    dispatcher.close()

    assert len(http_receiver.requests) == 2
    ids = {r.headers["webhook-id"] for r in http_receiver.requests}
    stamps = [r.headers["webhook-timestamp"] for r in http_receiver.requests]
    assert ids == {alert_key(RULE, "c1", "hook")}
    assert stamps[0] != stamps[1]  # fresh per attempt
    assert http_receiver.requests[0].body == http_receiver.requests[1].body
    for req in http_receiver.requests:
        verify(SECRET, req.headers, req.body, int(req.headers["webhook-timestamp"]))
    assert [a.outcome for a in attempts(sessions)] == ["retry", "delivered"]
    (row,) = rows(sessions)
    assert row.status == "delivered" and row.attempts == 2


def test_410_fails_and_disables_the_endpoint_across_restarts(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    http_receiver.default = (410, {})
    add_story(sessions, channels=("hook",))
    add_story(sessions, url="https://b.example/2", cluster="c2", channels=("hook",))
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert (summary.failed, summary.skipped) == (1, 1)
    assert summary.stats["alerts/webhook/failed/gone"] == 1
    assert len(http_receiver.requests) == 1
    first, second = rows(sessions)
    assert first.status == "failed" and first.last_error and first.last_error.startswith("gone")
    assert second.status == "queued" and second.lease_until is None

    # A new process (new dispatcher) still knows: nothing is sent, nothing is lost.
    add_story(sessions, url="https://c.example/3", cluster="c3", channels=("hook",))
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        again = dispatcher.deliver_due()
    assert again.attempted == 0 and again.skipped == 2
    assert again.stats == {"alerts/skipped/disabled": 2}
    assert len(http_receiver.requests) == 1

    # Pointing the channel at another URL re-enables it.
    http_receiver.default = (200, {})
    moved = WebhookChannel(type="webhook", url=http_receiver.url + "/v2", secret=SecretStr(SECRET))
    with Dispatcher(sessions, {"hook": moved}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().delivered == 2


def test_redirect_is_not_followed(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    http_receiver.script = [(307, {"Location": http_receiver.url + "/elsewhere"})]
    add_story(sessions, channels=("hook",))
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        summary = dispatcher.deliver_due()
    assert summary.failed == 1
    assert summary.stats == {"alerts/webhook/failed/redirect": 1}
    assert [r.path for r in http_receiver.requests] == ["/hook"]
    (row,) = rows(sessions)
    assert row.status == "failed" and "/elsewhere" in (row.last_error or "")


def test_4xx_is_permanent_and_429_is_not(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    http_receiver.script = [(429, {"Retry-After": "7"}), (400, {})]
    add_story(sessions, channels=("hook",))
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().retrying == 1
        (row,) = rows(sessions)
        assert row.next_attempt_at == clock() + timedelta(seconds=7)
        clock.advance(seconds=7)
        assert dispatcher.deliver_due().failed == 1
    (row,) = rows(sessions)
    assert row.status == "failed" and row.last_error == "client_error: HTTP 400: Bad Request"


class Crash(BaseException):
    """Stands for the process dying between the send and the record."""


def test_crash_after_send_resends_with_same_id_after_lease_expiry(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    add_story(sessions, channels=("hook",))
    channel = hook(http_receiver)

    class SendThenCrash(WebhookSender):
        def send(self, key: str, view: Any) -> Any:
            super().send(key, view)
            raise Crash

    crashing = SendThenCrash(channel, now=clock)
    dispatcher = Dispatcher(
        sessions,
        {"hook": channel},
        now=clock,
        senders={"hook": crashing},
        lease=timedelta(minutes=5),
    )
    with pytest.raises(Crash):
        dispatcher.deliver_due()
    crashing.close()
    (row,) = rows(sessions)
    assert row.status == "queued" and row.lease_until == clock() + timedelta(minutes=5)

    with Dispatcher(sessions, {"hook": channel}, now=clock) as restarted:
        assert restarted.deliver_due().attempted == 0  # lease still held
        clock.advance(minutes=5, seconds=1)
        assert restarted.deliver_due().delivered == 1
        clock.advance(hours=2)
        assert restarted.deliver_due().attempted == 0
    ids = [r.headers["webhook-id"] for r in http_receiver.requests]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_dead_endpoint_times_out_quickly_and_is_retried_later(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    http_receiver.delay = 0.5
    for n in range(3):
        add_story(sessions, url=f"https://n.example/{n}", cluster=f"c{n}", channels=("hook",))
    rng_values = iter([0.0, 0.0, 0.0])
    with Dispatcher(
        sessions,
        {"hook": hook(http_receiver, timeout=0.1)},
        now=clock,
        rng=lambda: next(rng_values),
    ) as dispatcher:
        summary = dispatcher.deliver_due()
    # one timeout, then the circuit opens: the other two are not tried this round
    assert (summary.retrying, summary.skipped) == (1, 2)
    assert summary.stats["alerts/webhook/retry/timeout"] == 1
    assert summary.stats["alerts/skipped/channel_down"] == 2
    all_rows = rows(sessions)
    assert all(r.status == "queued" and r.lease_until is None for r in all_rows)
    assert [r.attempts for r in all_rows] == [1, 0, 0]
    # backoff: 30 s base with equal jitter (rng 0.0 → 15 s); the others wait as long
    assert {r.next_attempt_at for r in all_rows} == {clock() + timedelta(seconds=15)}


def test_secret_handling() -> None:
    raw = b"\x00\x01secret-bytes"
    assert signing_key("whsec_" + base64.b64encode(raw).decode()) == raw
    assert signing_key(base64.b64encode(raw).decode()) == raw
    assert signing_key("whsec_not base64!") == b"not base64!"
    channel = WebhookChannel(type="webhook", url="http://127.0.0.1:9/h", secret=SecretStr(SECRET))
    sender = WebhookSender(channel)
    assert SECRET not in repr(sender) and "<secret>" in repr(sender)
    assert SECRET not in repr(channel)


def test_mock_transport_sees_no_redirect_following() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(301, headers={"location": "http://127.0.0.1:9/elsewhere"})

    channel = WebhookChannel(type="webhook", url="http://127.0.0.1:9/h", secret=SecretStr(SECRET))
    sender = WebhookSender(channel, transport=httpx.MockTransport(handler))
    result = sender.send("msg_1", make_view())
    sender.close()
    assert result.reason is FailureReason.REDIRECT and not result.retryable
    assert len(seen) == 1
