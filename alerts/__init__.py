"""The outbox and delivery of alerts.

- :func:`alerts.outbox.enqueue` — queue alert rows inside the story's transaction;
- :class:`alerts.dispatch.Dispatcher` — claim due rows with a lease, send, record;
- senders: :class:`alerts.console.ConsoleSender`, :class:`alerts.email.EmailSender`,
  :class:`alerts.webhook.WebhookSender`, each answering with a
  :class:`alerts.result.DeliveryResult`;
- :mod:`alerts.render` — the only place that renders alerts, digests and ops notices
  (Jinja2 templates in ``alerts/templates/``);
- :mod:`alerts.hold` — volume control (digest periods, quiet hours, cooldowns) as pure
  functions; :mod:`alerts.claims` applies it when claiming.
"""

from __future__ import annotations

from alerts.dispatch import Backoff, DeliveryOutcome, DeliverySummary, Dispatcher
from alerts.hold import Volume
from alerts.messages import DigestView, NoticeView
from alerts.outbox import alert_key, enqueue
from alerts.render import AlertView, Message, build_view
from alerts.result import DeliveryResult, FailureReason, Sender, classify

__all__ = [
    "AlertView",
    "Backoff",
    "DeliveryOutcome",
    "DeliveryResult",
    "DeliverySummary",
    "DigestView",
    "Dispatcher",
    "FailureReason",
    "Message",
    "NoticeView",
    "Sender",
    "Volume",
    "alert_key",
    "build_view",
    "classify",
    "enqueue",
]
