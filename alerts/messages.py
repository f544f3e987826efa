"""The two messages that are not a single news alert: a digest and an ops notice.

Plain, frozen data like :class:`~alerts.render.AlertView` (safe to hand to another
thread); :mod:`alerts.render` turns them into text, and every sender accepts them where
it accepts an alert view (``alerts.render.Message``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.render import AlertView, EvidenceView

__all__ = ["DigestView", "NoticeView"]


@dataclass(frozen=True)
class DigestView:
    """Several alerts of one channel sent as one message (see :mod:`alerts.hold`).

    ``key`` is the digest id (``dig_...``); ``alerts`` in queue order; ``period_start`` /
    ``period_end`` (ISO 8601) the span of the digest periods covered; ``created_at`` the
    newest alert's queue time.
    """

    key: str
    channel: str
    alerts: tuple[AlertView, ...]
    period_start: str
    period_end: str
    created_at: str | None = None

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules of the alerts, in first-seen order, each once."""
        return tuple(dict.fromkeys(alert.rule for alert in self.alerts))

    @property
    def rule(self) -> str:
        """The rule names on one line (email header, logs)."""
        return ", ".join(self.rules)

    @property
    def title(self) -> str:
        return f"{len(self.alerts)} alerts: {self.rule}"

    @property
    def url(self) -> str:
        return self.alerts[0].url if self.alerts else ""


@dataclass(frozen=True)
class NoticeView:
    """An ops notice (:mod:`alerts.ops`): a source ``kind`` ``broken`` | ``recovered``.

    ``title`` is the one-line summary, ``url`` the source's URL or path (redacted).
    ``rule`` (``ops:<source>``), ``evidence`` (none) and the other alert-like attributes
    keep senders and receivers written for alerts working.
    """

    key: str
    channel: str
    source: str
    kind: str
    reason: str
    title: str
    url: str
    created_at: str | None = None
    published: None = None
    agency: None = None

    @property
    def rule(self) -> str:
        return f"ops:{self.source}"

    @property
    def evidence(self) -> list[EvidenceView]:
        return []

    @property
    def excerpt(self) -> str:
        return self.reason
