"""Webhook channel: a signed JSON ``POST`` per alert (or digest, or ops notice), per Standard
Webhooks.

Headers on every attempt:

- ``webhook-id``: the alert (or digest) key — the same on every retry and after a crash,
  so receivers can deduplicate;
- ``webhook-timestamp``: unix seconds of *this* attempt (from the injected clock);
- ``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, ``"{id}.{timestamp}.{body}"``)).

The HMAC key is the channel secret with an optional ``whsec_`` prefix removed and then
base64-decoded, as the spec says. A secret that is not valid base64 after the prefix is
used as its UTF-8 bytes instead (so ``secret: hunter2`` still signs, and a receiver using
the same rule verifies) — :func:`signing_key` is that rule.

httpx with ``follow_redirects=False`` (a 3xx is a permanent ``redirect`` failure: the
signed body is never replayed to another host) and the channel's ``timeout`` for
connect/read/write/pool. The body is the same on every attempt; see
:func:`alerts.render.webhook_payload` for its shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import httpx

from alerts.render import Message, webhook_payload
from alerts.result import DeliveryResult, classify, parse_retry_after
from crawler.config import WebhookChannel

__all__ = ["WebhookSender", "encode_body", "sign", "signing_key"]

USER_AGENT = "wirewatch-webhook/0.1"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def signing_key(secret: str) -> bytes:
    """HMAC key bytes for a Standard Webhooks secret (``whsec_`` + base64, see module doc)."""
    raw = secret.strip()
    if raw.startswith("whsec_"):
        raw = raw[len("whsec_") :]
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode("utf-8")
    return key if key else raw.encode("utf-8")


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def encode_body(payload: Mapping[str, object]) -> bytes:
    """Compact UTF-8 JSON (Arabic kept as is, not ``\\u`` escapes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """Standard Webhooks delivery for one :class:`~crawler.config.WebhookChannel`.

    ``transport`` is for tests (``httpx.MockTransport``); the client is created lazily and
    released by :meth:`close`. The secret never appears in reprs, logs or results.
    """

    kind = "webhook"

    def __init__(
        self,
        channel: WebhookChannel,
        *,
        now: Callable[[], datetime] = _utcnow,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.channel = channel
        self._key = signing_key(channel.secret.get_secret_value())
        self._now = now
        self._transport = transport
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"WebhookSender(url={self.channel.url!r}, secret=<secret>)"

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                follow_redirects=False,
                timeout=httpx.Timeout(self.channel.timeout),
                transport=self._transport,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
            )
        return self._client

    def request_for(self, key: str, view: Message) -> tuple[bytes, dict[str, str]]:
        """The body and the signed headers of one attempt (timestamp = now)."""
        body = encode_body(webhook_payload(view))
        timestamp = int(self._now().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, key, timestamp, body),
        }
        return body, headers

    def send(self, key: str, view: Message) -> DeliveryResult:
        """POST the alert; status codes and transport errors become a DeliveryResult."""
        body, headers = self.request_for(key, view)
        url = self.channel.url
        try:
            # Streamed and never read: only the status line and headers matter, and a
            # hostile endpoint cannot make us buffer a huge body.
            with self._http().stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                detail = response.reason_phrase or ""
                if response.is_redirect:
                    target = response.headers.get("location", "")
                    detail = f"{detail} to {target}".strip() if target else detail
                retry_after = parse_retry_after(response.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            return classify(error=exc)
        return classify(http_status=status, detail=detail, retry_after=retry_after)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
