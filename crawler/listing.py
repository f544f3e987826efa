"""Read-side queries behind ``wirewatch stories`` and ``wirewatch alerts``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.models import Alert, Cluster, Match, Story


@dataclass
class StoryListing:
    url: str
    title: str
    published: datetime | None
    agency: str | None
    source: str
    cluster: str
    cluster_size: int
    fetched: datetime
    rules: list[str] = field(default_factory=list)
    cluster_first_seen: datetime | None = None
    cluster_agencies: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "agency": self.agency,
            "source": self.source,
            "cluster": self.cluster,
            "cluster_size": self.cluster_size,
            "cluster_first_seen": (
                self.cluster_first_seen.isoformat() if self.cluster_first_seen else None
            ),
            "cluster_agencies": self.cluster_agencies,
            "fetched": self.fetched.isoformat(),
            "rules": self.rules,
        }


@dataclass
class AlertListing:
    rule: str
    channel: str
    status: str
    story: str
    title: str
    cluster: str
    attempts: int
    created: datetime
    delivered: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "channel": self.channel,
            "status": self.status,
            "story": self.story,
            "title": self.title,
            "cluster": self.cluster,
            "attempts": self.attempts,
            "created": self.created.isoformat(),
            "delivered": self.delivered.isoformat() if self.delivered else None,
            "last_error": self.last_error,
        }


def list_stories(
    sessions: sessionmaker[Session],
    *,
    rule: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[StoryListing]:
    """Stories, newest first, with their cluster size and the rules they matched."""
    sizes = (
        select(Story.cluster_id, func.count(Story.id).label("size"))
        .group_by(Story.cluster_id)
        .subquery()
    )
    query = (
        select(Story, sizes.c.size)
        .join(sizes, sizes.c.cluster_id == Story.cluster_id)
        .order_by(Story.fetched_at.desc(), Story.id.desc())
    )
    if rule:
        query = query.where(Story.id.in_(select(Match.story_id).where(Match.rule == rule)))
    if since:
        query = query.where(func.coalesce(Story.published, Story.fetched_at) >= since)
    if limit:
        query = query.limit(limit)
    with sessions() as session:
        rows = session.execute(query).all()
        ids = [story.id for story, _ in rows]
        matched: dict[int, list[str]] = {}
        for story_id, rule_name in session.execute(
            select(Match.story_id, Match.rule).where(Match.story_id.in_(ids))
        ):
            matched.setdefault(story_id, []).append(rule_name)
        clusters = {story.cluster_id for story, _ in rows}
        first_seen: dict[str, datetime] = {
            cid: seen
            for cid, seen in session.execute(
                select(Cluster.id, Cluster.first_seen).where(Cluster.id.in_(clusters))
            )
        }
        agencies: dict[str, set[str]] = {}
        for cluster_id, agency in session.execute(
            select(Story.cluster_id, Story.agency)
            .where(Story.cluster_id.in_(clusters), Story.agency.is_not(None))
            .distinct()
        ):
            if agency:
                agencies.setdefault(cluster_id, set()).add(agency)
    return [
        StoryListing(
            url=s.url,
            title=s.title,
            published=s.published,
            agency=s.agency,
            source=s.source,
            cluster=s.cluster_id,
            cluster_size=size,
            fetched=s.fetched_at,
            rules=sorted(matched.get(s.id, [])),
            cluster_first_seen=first_seen.get(s.cluster_id),
            cluster_agencies=sorted(agencies.get(s.cluster_id, ())),
        )
        for s, size in rows
    ]


def list_alerts(
    sessions: sessionmaker[Session], *, status: str | None = None
) -> list[AlertListing]:
    """The alert log, oldest first."""
    query = select(Alert, Story.url, Story.title).join(Story, Story.id == Alert.story_id)
    if status:
        query = query.where(Alert.status == status)
    with sessions() as session:
        rows = session.execute(query.order_by(Alert.id)).all()
    return [
        AlertListing(
            rule=a.rule,
            channel=a.channel,
            status=a.status,
            story=url,
            title=title,
            cluster=a.cluster_id,
            attempts=a.attempts,
            created=a.created_at,
            delivered=a.delivered_at,
            last_error=a.last_error,
        )
        for a, url, title in rows
    ]
