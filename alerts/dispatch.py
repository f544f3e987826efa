"""Delivery of queued alerts: claim with a lease → send → record, per channel.

The stages, after Alertmanager's notification pipeline:

1. **claim** (one short transaction): due rows — ``status = 'queued'``,
   ``next_attempt_at <= now``, no live lease — get ``lease_until = now + lease``
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises
   claimers). Their story and cluster are read into :class:`~alerts.render.AlertView`\\ s.
2. **send**, outside any transaction, one worker thread per channel, so a dead channel
   only delays its own rows. Every sender bounds its network calls with a timeout. After
   a timeout, connection error or other retryable failure the channel's remaining rows
   are released untried and pushed to the same retry time (a circuit breaker), so a dead
   channel costs one timeout per round, not one per alert.
3. **record** (one short transaction per alert): a ``DeliveryAttempt`` row and the new
   state — ``delivered`` (+ ``delivered_at``), back to the queue with
   ``next_attempt_at = now + backoff`` (exponential with jitter, capped at 1 h; a
   receiver's ``Retry-After`` wins), or ``failed`` for a permanent failure, with the reason
   in ``last_error``. The update only applies while this dispatcher still holds the lease.

A crash between send and record leaves the lease to expire; the row is then claimed
again and re-sent with the same key (``webhook-id``, ``Message-ID``), which receivers can
deduplicate. A delivered row is never claimed again.

Volume control (:mod:`alerts.hold`, :mod:`alerts.claims`): a channel's ``cooldown`` and
``quiet_hours`` and a rule's ``digest`` hold rows back at claim time; rows released
together go out as one digest message (``dig_...`` key), claimed, sent, retried and
recorded as one unit exactly like a single alert. Each row remembers its message
(``batch_key``), so a re-send after a crash is the same message with the same key.

An HTTP 410 disables a webhook endpoint: the failing alert is ``failed`` (reason
``gone``), and later alerts for the same channel *and URL* stay queued untried (counted as
``skipped``) — found again from the stored attempt on every run, so it survives restarts.
Pointing the channel at another URL re-enables it. Rows for channels that are not
configured stay queued and are skipped with a warning.

The database side of all this (claim, record, release, the 410 lookup) lives in
:mod:`alerts.ledger`; this module orchestrates senders and threads.

Stats keys (``DeliverySummary.stats``, counting alert rows): ``alerts/<kind>/delivered``,
``alerts/<kind>/retry/<reason>``, ``alerts/<kind>/failed/<reason>``,
``alerts/skipped/<why>``, ``alerts/held/<why>`` (``digest`` | ``quiet_hours`` |
``cooldown``); ``alerts/<kind>/digests`` counts digest messages delivered.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from alerts.console import ConsoleSender
from alerts.email import EmailSender
from alerts.hold import Volume
from alerts.ledger import Backoff, ChannelConfig, Claim, DeliveryOutcome, Ledger
from alerts.result import DeliveryResult, FailureReason, Sender
from alerts.webhook import WebhookSender
from crawler.config import ConsoleChannel, EmailChannel, WebhookChannel

__all__ = ["Backoff", "ChannelConfig", "DeliveryOutcome", "DeliverySummary", "Dispatcher"]

log = logging.getLogger(__name__)

#: Failures after which the rest of the channel's batch is not tried this round.
_CIRCUIT_REASONS = frozenset(
    {
        FailureReason.TIMEOUT,
        FailureReason.CONNECTION,
        FailureReason.TLS,
        FailureReason.SERVER_ERROR,
        FailureReason.RATE_LIMITED,
        FailureReason.SMTP_TRANSIENT,
    }
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DeliverySummary:
    """What one :meth:`Dispatcher.deliver_due` did.

    Counts are alert rows (a digest of three delivered counts 3; ``messages`` counts what
    was sent). ``retrying`` rows stay queued with a later ``next_attempt_at``; ``skipped``
    are due rows left untried (unknown or disabled channel, open circuit, lease running
    out); ``held`` are due rows volume control put off (digest period, quiet hours,
    cooldown), due again when the hold ends.
    """

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    messages: int = 0
    stats: dict[str, int] = field(default_factory=dict)
    outcomes: list[DeliveryOutcome] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def inc(self, key: str, count: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + count

    def merge(self, other: DeliverySummary) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.skipped += other.skipped
        self.held += other.held
        self.messages += other.messages
        for key, value in other.stats.items():
            self.inc(key, value)
        self.outcomes.extend(other.outcomes)


class Dispatcher:
    """Delivers due alerts for the configured channels.

    ``channels`` maps channel names to their config (``Config.channels``); ``senders``
    overrides the sender of a channel by name (tests, custom channels). ``now`` is the
    clock (timezone-aware UTC), ``rng`` returns floats in [0, 1) for jitter, ``console``
    the console channel's stream (stdout by default). ``lease`` must comfortably exceed
    the time to send ``batch`` alerts on one channel; a worker stops sending when its lease
    is about to run out. Use as a context manager or call :meth:`close` to release HTTP
    clients.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, ChannelConfig],
        *,
        now: Callable[[], datetime] = _utcnow,
        senders: Mapping[str, Sender] | None = None,
        console: TextIO | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 100,
        backoff: Backoff | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self._channels = dict(channels)
        self._now = now
        self._console = console
        self._lease = lease
        self._ledger = Ledger(
            sessions,
            now=now,
            lease=lease,
            batch=batch,
            backoff=backoff or Backoff(),
            rng=rng or random.random,
            volumes={name: Volume.of(config) for name, config in self._channels.items()},
        )
        self._stopping = threading.Event()
        self._given: dict[str, Sender] = dict(senders or {})
        self._built: dict[str, Sender] = {}

    def __repr__(self) -> str:
        return f"Dispatcher(channels={sorted(self._channels)!r}, lease={self._lease})"

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Ask for a graceful stop (thread-safe, e.g. from a signal handler): workers
        finish the alert in flight and give the rest back; later :meth:`deliver_due`
        calls claim nothing. Sticky for the life of this dispatcher."""
        self._stopping.set()

    def close(self) -> None:
        """Close the senders this dispatcher built (not the ones it was given); they are
        rebuilt on demand. :meth:`deliver_due` calls this at the end of every round."""
        for sender in self._built.values():
            sender.close()
        self._built.clear()

    # -- senders --------------------------------------------------------------------------

    def sender(self, name: str) -> Sender:
        """The sender of channel ``name`` (built on first use). ``KeyError`` if unknown."""
        if name in self._given:
            return self._given[name]
        if name not in self._built:
            config = self._channels[name]
            built: Sender
            if isinstance(config, WebhookChannel):
                built = WebhookSender(config, now=self._now)
            elif isinstance(config, EmailChannel):
                built = EmailSender(config, now=self._now)
            elif isinstance(config, ConsoleChannel):
                built = ConsoleSender(self._console)
            else:  # pragma: no cover - config validation makes this unreachable
                raise KeyError(name)
            self._built[name] = built
        return self._built[name]

    def _kind(self, name: str) -> str:
        if name in self._given:
            return str(getattr(self._given[name], "kind", "custom"))
        config = self._channels.get(name)
        return str(getattr(config, "type", "custom"))

    # -- the pipeline ---------------------------------------------------------------------

    def deliver_due(self) -> DeliverySummary:
        """Claim the due alerts, send them, record the outcomes; return the counts.

        Never raises for delivery problems (they are recorded); database errors
        propagate. Rows claimed but not sent are released for the next round.
        """
        summary = DeliverySummary()
        if self._stopping.is_set():
            return summary
        names = set(self._channels) | set(self._given)
        disabled = self._ledger.disabled_channels(self._channels)
        for name in sorted(disabled):
            log.warning(
                "alerts: channel %s is disabled (its endpoint answered HTTP 410 Gone); "
                "its alerts stay queued until the channel points to another URL",
                name,
            )
        claims, skipped, held = self._ledger.claim(sorted(names - disabled), disabled)
        for why, count in skipped.items():
            summary.skipped += count
            summary.inc(f"alerts/skipped/{why}", count)
        for why, count in held.items():
            summary.held += count
            summary.inc(f"alerts/held/{why}", count)
        groups: dict[str, list[Claim]] = {}
        for claim in claims:
            groups.setdefault(claim.channel, []).append(claim)
        try:
            if len(groups) <= 1:
                for name, group in groups.items():
                    summary.merge(self._run_channel(name, group))
            else:
                with ThreadPoolExecutor(
                    max_workers=len(groups), thread_name_prefix="wirewatch-alerts"
                ) as pool:
                    futures = [pool.submit(self._run_channel, n, g) for n, g in groups.items()]
                    for future in futures:
                        summary.merge(future.result())
        finally:
            # Connections live for one round: nothing leaks when a caller builds a
            # dispatcher per round and never closes it.
            self.close()
        if summary.attempted or summary.skipped or summary.held:
            log.info(
                "alerts: %d delivered, %d retrying, %d failed, %d skipped, %d held",
                summary.delivered,
                summary.retrying,
                summary.failed,
                summary.skipped,
                summary.held,
            )
        return summary

    def _run_channel(self, name: str, claims: list[Claim]) -> DeliverySummary:
        """Send one channel's claims; whatever is not started is given back on the way out.

        A sender that cannot be built releases the whole group. An interruption
        (``KeyboardInterrupt``, ``SystemExit``, ...) releases the claims not yet started
        and propagates; the alert in flight keeps its lease, so it is re-sent with the
        same key once the lease expires — never lost, at worst sent twice.
        """
        summary = DeliverySummary()
        pending = deque(claims)
        try:
            sender = self.sender(name)
        except Exception:
            log.exception("alerts: cannot build the sender of channel %s", name)
            self._give_back(pending, summary, "sender_error")
            return summary
        try:
            self._send_each(name, sender, pending, summary)
        except BaseException:
            self._give_back(pending, summary, "interrupted", quiet=True)
            raise
        return summary

    def _give_back(
        self, pending: deque[Claim], summary: DeliverySummary, why: str, *, quiet: bool = False
    ) -> None:
        while pending:
            claim = pending.popleft()
            try:
                self._ledger.release(claim, claim.next_attempt_at)
            except Exception:
                if not quiet:
                    raise
                log.exception("alerts: could not release %s; its lease will expire", claim.key)
            summary.skipped += claim.size
            summary.inc(f"alerts/skipped/{why}", claim.size)

    def _send_each(
        self, name: str, sender: Sender, pending: deque[Claim], summary: DeliverySummary
    ) -> None:
        """Send in order; stop early on a retryable failure, a stop request or a lease
        about to run out (the rest is released untried)."""
        kind = self._kind(name)
        timeout = float(getattr(self._channels.get(name), "timeout", 10.0))
        margin = min(timedelta(seconds=4 * timeout), self._lease / 2)
        hold_until: datetime | None = None  # set when the circuit opens
        hold_why = ""
        while pending:
            claim = pending.popleft()
            if hold_until is None and self._stopping.is_set():
                hold_until, hold_why = claim.next_attempt_at, "stopping"
            if hold_until is None and self._now() + margin >= claim.lease_until:
                hold_until, hold_why = claim.next_attempt_at, "lease_expiring"
            if hold_until is not None:
                self._ledger.release(claim, hold_until)
                summary.skipped += claim.size
                summary.inc(f"alerts/skipped/{hold_why}", claim.size)
                continue
            try:
                result = sender.send(claim.key, claim.view)
            except Exception as exc:  # a sender bug must not lose the batch
                log.exception("alerts: sender for channel %s raised", name)
                result = DeliveryResult(
                    False, True, FailureReason.UNKNOWN, f"{type(exc).__name__}: {exc}"
                )
            outcome = self._ledger.record(claim, result, self._channels.get(name))
            summary.outcomes.append(outcome)
            if result.ok:
                summary.delivered += claim.size
                summary.messages += 1
                summary.inc(f"alerts/{kind}/delivered", claim.size)
                if claim.key.startswith("dig_"):
                    summary.inc(f"alerts/{kind}/digests")
                continue
            reason = (result.reason or FailureReason.UNKNOWN).value
            if result.retryable:
                summary.retrying += claim.size
                summary.inc(f"alerts/{kind}/retry/{reason}", claim.size)
                log.warning(
                    "alerts: %s via %s failed (%s: %s); retry at %s",
                    claim.key,
                    name,
                    reason,
                    result.detail,
                    outcome.next_attempt_at,
                )
                if result.reason in _CIRCUIT_REASONS:
                    hold_until, hold_why = outcome.next_attempt_at, "channel_down"
            else:
                summary.failed += claim.size
                summary.inc(f"alerts/{kind}/failed/{reason}", claim.size)
                log.error(
                    "alerts: %s via %s failed permanently (%s: %s)",
                    claim.key,
                    name,
                    reason,
                    result.detail,
                )
                if result.reason is FailureReason.GONE:
                    hold_until, hold_why = claim.next_attempt_at, "disabled"
