"""The outbox and delivery of alerts.

- :func:`alerts.outbox.enqueue` — queue alert rows inside the story's transaction;
- :class:`alerts.dispatch.Dispatcher` — claim due rows with a lease, send, record;
- senders: :class:`alerts.console.ConsoleSender`, :class:`alerts.email.EmailSender`,
  :class:`alerts.webhook.WebhookSender`, each answering with a
  :class:`alerts.result.DeliveryResult`;
- :mod:`alerts.render` — the only place that renders alerts (Jinja2 templates in
  ``alerts/templates/``).
"""

from __future__ import annotations

from alerts.dispatch import Backoff, DeliveryOutcome, DeliverySummary, Dispatcher
from alerts.outbox import alert_key, enqueue
from alerts.render import AlertView, build_view
from alerts.result import DeliveryResult, FailureReason, Sender, classify

__all__ = [
    "AlertView",
    "Backoff",
    "DeliveryOutcome",
    "DeliveryResult",
    "DeliverySummary",
    "Dispatcher",
    "FailureReason",
    "Sender",
    "alert_key",
    "build_view",
    "classify",
    "enqueue",
]
