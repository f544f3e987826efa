"""Fixtures for the alerts tests: a clock, stories with queued alerts, an SMTP and an HTTP
receiver. ``sessions`` comes from ``tests/conftest.py``: every test using it runs on a
SQLite file and on a PostgreSQL schema.

Everything runs on 127.0.0.1; nothing sleeps beyond the servers' start-up.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import enqueue
from alerts.render import AlertView, EvidenceView
from crawler.db import transaction
from crawler.models import Cluster, Story

START = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

TITLE = "كوريا الشمالية ترسل قوات إلى روسيا"
BODY = (
    "سول – (رويترز): قالت أجهزة المخابرات إن كوريا الشمالية أرسلت قوات إلى روسيا.\n\n"
    "وأضافت أن الجنود وصلوا إلى موسكو الأسبوع الماضي."
)
EVIDENCE: list[dict[str, Any]] = [
    {
        "clause": "all",
        "term": "North Korea",
        "forms": ["كوريا الشمالية"],
        "sentences": ["قالت أجهزة المخابرات إن [[كوريا الشمالية]] أرسلت قوات إلى روسيا."],
    },
    {
        "clause": "all",
        "term": "Russia",
        "forms": ["روسيا", "موسكو"],
        "sentences": ["وأضافت أن الجنود وصلوا إلى [[موسكو]] الأسبوع الماضي."],
    },
]


class Clock:
    """An injectable clock: ``clock()`` is now; ``clock.advance(seconds=...)`` moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def add_story(
    sessions: sessionmaker[Session],
    *,
    url: str = "https://news.example/a/1",
    title: str = TITLE,
    body: str = BODY,
    cluster: str = "c1",
    agency: str | None = "رويترز",
    published: datetime | None = START - timedelta(hours=1),
    rule: str | None = "north-korea-russia-troops",
    channels: tuple[str, ...] = (),
    now: datetime = START,
    mode: str = "now",
    urgent: bool = False,
) -> int:
    """Store a story (and its cluster) and, with ``channels``, queue its alerts in the same
    transaction, like the store pipeline does. Returns the story id."""
    with transaction(sessions) as s:
        if s.get(Cluster, cluster) is None:
            s.add(Cluster(id=cluster, first_seen=now))
        story = Story(
            url=url,
            source="test",
            title=title,
            body=body,
            published=published,
            agency=agency,
            cluster_id=cluster,
            body_hash=uuid.uuid4().hex,
            fetched_at=now,
        )
        s.add(story)
        s.flush()
        if channels and rule:
            enqueue(
                s,
                rule=rule,
                cluster_id=cluster,
                story_id=story.id,
                channels=channels,
                evidence=EVIDENCE,
                now=now,
                mode=mode,
                urgent=urgent,
            )
        return story.id


def make_view(**over: object) -> AlertView:
    base: dict[str, object] = {
        "key": "msg_0123",
        "rule": "north-korea-russia-troops",
        "channel": "desk",
        "title": TITLE,
        "url": "https://news.example/a/1",
        "published": "2026-11-23T11:00:00+00:00",
        "agency": "رويترز",
        "excerpt": "قالت أجهزة المخابرات",
        "evidence": [EvidenceView.from_json(e) for e in EVIDENCE],
        "cluster_id": "c1",
        "copies": 2,
        "agencies": ["أ ف ب", "رويترز"],
    }
    base.update(over)
    return AlertView(**base)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ----------------------------------------------------------------------------------


@dataclass
class SmtpHandler:
    """aiosmtpd handler: answers DATA with the scripted replies first, then ``250 OK``."""

    script: list[str] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    data_calls: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.script:
            return self.script.pop(0)
        self.messages.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: SmtpHandler


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Records every request; answers with ``script`` entries (status, headers) in turn,
    then ``default``."""

    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: tuple[int, dict[str, str]] = (200, {})
    delay: float = 0.0


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    state: dict[str, HttpReceiver] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self) -> None:
            receiver = state["r"]
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, headers = receiver.script.pop(0) if receiver.script else receiver.default
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up (timeout tests)
                pass

        do_POST = _answer
        do_GET = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    state["r"] = HttpReceiver(url=f"http://127.0.0.1:{port}/hook")
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state["r"]
    finally:
        server.shutdown()
        server.server_close()
