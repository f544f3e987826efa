"""SQLAlchemy 2.x models: everything that must survive a restart.

Stories, their clusters, the rule matches, the alert outbox and every delivery attempt.
The schema itself is created and upgraded by the Alembic migrations in
``crawler/migrations``; these classes are the one description of it in Python.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Cluster(Base):
    """A set of near-identical stories; ``id`` is chosen by the dedupe stage."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stories: Mapped[list[Story]] = relationship(back_populates="cluster_row")


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dateline: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="ar")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), index=True)
    body_hash: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    cluster_row: Mapped[Cluster] = relationship(back_populates="stories")


class Match(Base):
    """A rule that matched a story, with its evidence (list of Evidence.to_json())."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("story_id", "rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """The outbox: one row per (rule, cluster, channel), written with the story.

    ``key`` is stable for the life of the alert and becomes the webhook ``webhook-id``
    and the email ``Message-ID``, so a re-send after a crash is recognisable.
    ``status``: queued → delivered | failed (permanent). ``lease_until`` marks a row a
    dispatcher has claimed; an expired lease makes the row claimable again.

    Volume control (:mod:`alerts.hold`): ``mode`` is the rule's ``digest`` at enqueue
    (``now`` | ``hourly`` | ``daily``), ``urgent`` its ``urgent`` flag; ``batch_key`` is the
    message the row was put into when first claimed — its own ``key`` for a message of
    its own, ``dig_...`` for a digest — and never changes after that, so a re-send is
    the same message with the same id.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("rule", "cluster_id", "channel"),
        Index("ix_alerts_due", "status", "next_attempt_at"),
        Index("ix_alerts_batch_key", "batch_key"),
        Index("ix_alerts_channel_delivered", "channel", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200))
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), index=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    mode: Mapped[str] = mapped_column(String(8), default="now", server_default="now")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    batch_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    story: Mapped[Story] = relationship()
    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="alert", order_by="DeliveryAttempt.id"
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | failed
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)

    alert: Mapped[Alert] = relationship(back_populates="attempts_log")


class SourceRun(Base):
    """One crawl of one source, as :func:`crawler.health.run_from_report` read it.

    ``outcome``: ``ok`` | ``failed`` (see :mod:`crawler.health` for when a run fails).
    ``error`` is one line and never holds a secret.
    """

    __tablename__ = "source_runs"
    __table_args__ = (Index("ix_source_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    http_errors: Mapped[int] = mapped_column(Integer, default=0)
    items_found: Mapped[int] = mapped_column(Integer, default=0)
    items_extracted: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    empty_bodies: Mapped[int] = mapped_column(Integer, default=0)
    missing_dates: Mapped[int] = mapped_column(Integer, default=0)
    mojibake: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class OpsNotice(Base):
    """An operations notice about a source: ``broken`` or ``recovered`` (not a news alert).

    ``key`` is stable per transition (the webhook-id / Message-ID of every attempt).
    ``status``: queued → delivered | failed; ``channel`` is where it was last tried.
    ``lease_until`` marks a row a process is sending, as in the alert outbox.
    """

    __tablename__ = "ops_notices"
    __table_args__ = (
        Index("ix_ops_notices_source", "source", "id"),
        Index("ix_ops_notices_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # broken | recovered
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class SkippedPage(Base):
    """An article page that was fetched but gave no story (empty body, mojibake, not HTML).

    It is not fetched again before ``retry_at`` (see :mod:`crawler.seen`); a story stored
    later under the same URL removes the row.
    """

    __tablename__ = "skipped_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_tried: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    tries: Mapped[int] = mapped_column(Integer, default=1)
    retry_at: Mapped[datetime] = mapped_column(UTCDateTime())
