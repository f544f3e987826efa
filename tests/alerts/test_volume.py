"""Volume control end to end: digests, quiet hours, cooldowns, against real receivers.

Every test runs on SQLite and PostgreSQL (``sessions``), with a fake clock moved by hand:
nothing waits for a real hour to pass.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import json
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.dispatch import Dispatcher
from alerts.outbox import alert_key, next_due
from alerts.render import AlertView
from alerts.result import DeliveryResult
from alerts.webhook import WebhookSender
from crawler.config import ConfigError, EmailChannel, WebhookChannel
from crawler.db import transaction
from crawler.models import Alert, DeliveryAttempt
from pipelines.rules import check_watchlist, load_watchlists
from tests.alerts.conftest import TITLE, Clock, HttpReceiver, SmtpServer, add_story
from tests.alerts.test_webhook import SECRET, verify

UTC = timezone.utc
RULE = "north-korea-russia-troops"
_SERIAL = itertools.count()


def hook(receiver: HttpReceiver, **volume: Any) -> WebhookChannel:
    return WebhookChannel(
        type="webhook", url=receiver.url, secret=SecretStr(SECRET), timeout=5, **volume
    )


def mail(server: SmtpServer, **volume: Any) -> EmailChannel:
    return EmailChannel(
        type="email",
        host=server.host,
        port=server.port,
        sender="wirewatch@example.org",
        to=["desk@example.org"],
        timeout=5,
        **volume,
    )


def bodies(receiver: HttpReceiver, clock: Clock) -> list[dict[str, Any]]:
    """Every request's JSON body, each checked against its Standard Webhooks signature;
    the last one must carry the clock's time (the others were sent at earlier times)."""
    found = []
    for request in receiver.requests:
        sent_at = int(request.headers["webhook-timestamp"])
        assert sent_at <= int(clock().timestamp())
        found.append(verify(SECRET, request.headers, request.body, sent_at))
    if receiver.requests:
        last = receiver.requests[-1]
        verify(SECRET, last.headers, last.body, int(clock().timestamp()))
    return found


def rows(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def stories(sessions: sessionmaker[Session], count: int, clock: Clock, **kw: Any) -> list[str]:
    """Queue ``count`` alerts on distinct clusters at the clock's time; their URLs."""
    urls = []
    for _ in range(count):
        n = next(_SERIAL)
        url = f"https://news.example/{clock().strftime('%H%M%S')}/{n}"
        cluster = f"c-{n}"
        add_story(sessions, url=url, cluster=cluster, now=clock(), **kw)
        urls.append(url)
    return urls


def test_hourly_digest_is_one_message_at_the_top_of_the_hour(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    urls = stories(sessions, 3, clock, channels=("hook",), mode="hourly")
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        first = dispatcher.deliver_due()
        assert (first.attempted, first.held) == (0, 3)
        assert first.stats == {"alerts/held/digest": 3}
        with sessions() as s:
            assert next_due(s) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
        clock.now = datetime(2026, 11, 23, 12, 59, 59, tzinfo=UTC)
        assert dispatcher.deliver_due().attempted == 0
        assert http_receiver.requests == []
        clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
        sent = dispatcher.deliver_due()
        assert (sent.delivered, sent.messages) == (3, 1)
        assert sent.stats["alerts/webhook/digests"] == 1
        assert dispatcher.deliver_due().attempted == 0
    (body,) = bodies(http_receiver, clock)
    assert body["type"] == "wirewatch.digest"
    assert body["count"] == 3 and body["rules"] == [RULE] and body["channel"] == "hook"
    assert body["period"] == {
        "start": "2026-11-23T12:00:00+00:00",
        "end": "2026-11-23T13:00:00+00:00",
    }
    assert [a["story"]["url"] for a in body["alerts"]] == urls
    for entry in body["alerts"]:  # the very object a single alert posts
        assert entry["type"] == "wirewatch.alert" and entry["rule"] == RULE
        assert entry["story"]["title"] == TITLE and entry["evidence"]
    (request,) = http_receiver.requests
    assert body["id"].startswith("dig_") and request.headers["webhook-id"] == body["id"]
    stored = rows(sessions)
    assert [r.status for r in stored] == ["delivered"] * 3
    assert [r.batch_key for r in stored] == [body["id"]] * 3


def test_daily_digest_goes_at_midnight_in_the_channel_timezone(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    # 12:00 UTC on 23 November is 07:00 in New York (UTC-5): the local day ends 05:00 UTC.
    hostile = "<script>alert(1)</script> " + TITLE
    add_story(sessions, title=hostile, channels=("mail",), mode="daily", now=clock())
    add_story(
        sessions,
        url="https://news.example/b",
        cluster="c2",
        rule="russia-drones",
        channels=("mail",),
        mode="daily",
        now=clock(),
    )
    channel = mail(smtp_server, timezone="America/New_York")
    with Dispatcher(sessions, {"mail": channel}, now=clock) as dispatcher:
        for hour in (0, 4):  # UTC midnight means nothing to this channel
            clock.now = datetime(2026, 11, 24, hour, 59, tzinfo=UTC)
            assert dispatcher.deliver_due().attempted == 0
        assert smtp_server.handler.messages == []
        clock.now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
        assert dispatcher.deliver_due().delivered == 2
        assert dispatcher.deliver_due().attempted == 0
    (raw,) = smtp_server.handler.messages
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/alternative"
    subject = str(msg["Subject"])
    assert "\n" not in subject
    assert "mail" in subject and "2 alerts" in subject
    assert RULE in subject and "russia-drones" in subject
    key = rows(sessions)[0].batch_key
    assert key is not None and msg["Message-ID"] == f"<{key}@wirewatch>"
    assert msg["X-Wirewatch-Digest"] == key and msg["X-Wirewatch-Count"] == "2"
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = str(text_part.get_content()), str(html_part.get_content())
    for part in (text, html):
        assert "https://news.example/a/1" in part and "https://news.example/b" in part
        assert "2026-11-23T05:00:00+00:00" in part and "2026-11-24T05:00:00+00:00" in part
    assert "[[كوريا الشمالية]]" in text and "<mark>كوريا الشمالية</mark>" in html
    assert 'dir="rtl"' in html and "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert TITLE in html and html.count("<mark>موسكو</mark>") == 2


def test_quiet_hours_hold_the_calm_and_pass_the_urgent(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    channel = hook(http_receiver, quiet_hours={"from": "22:00", "to": "07:00"})
    clock.now = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    calm = stories(sessions, 2, clock, channels=("hook",))
    add_story(
        sessions,
        url="https://news.example/urgent",
        cluster="cu",
        rule="nuclear-test",
        channels=("hook",),
        urgent=True,
        now=clock(),
    )
    with Dispatcher(sessions, {"hook": channel}, now=clock) as dispatcher:
        night = dispatcher.deliver_due()
        assert (night.delivered, night.held) == (1, 2)
        assert night.stats["alerts/held/quiet_hours"] == 2
        (urgent,) = bodies(http_receiver, clock)
        assert urgent["type"] == "wirewatch.alert" and urgent["rule"] == "nuclear-test"
        assert urgent["id"] == alert_key("nuclear-test", "cu", "hook")
        clock.now = datetime(2026, 11, 24, 6, 59, tzinfo=UTC)
        assert dispatcher.deliver_due().attempted == 0
        clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
        morning = dispatcher.deliver_due()
        assert (morning.delivered, morning.messages) == (2, 1)
    assert len(http_receiver.requests) == 2
    digest = bodies(http_receiver, clock)[1]
    assert digest["type"] == "wirewatch.digest"
    assert [a["story"]["url"] for a in digest["alerts"]] == calm


def test_cooldown_groups_what_arrives_in_the_window(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    channel = hook(http_receiver, cooldown="10m")
    with Dispatcher(sessions, {"hook": channel}, now=clock) as dispatcher:
        (first,) = stories(sessions, 1, clock, channels=("hook",))
        assert dispatcher.deliver_due().delivered == 1  # 12:00, nothing sent before
        later: list[str] = []
        for minutes in (2, 5):
            clock.now = datetime(2026, 11, 23, 12, minutes, tzinfo=UTC)
            later += stories(sessions, 1, clock, channels=("hook",))
            held = dispatcher.deliver_due()
            assert (held.attempted, held.held) == (0, 1)
            assert held.stats == {"alerts/held/cooldown": 1}
        clock.now = datetime(2026, 11, 23, 12, 9, 59, tzinfo=UTC)
        assert dispatcher.deliver_due().attempted == 0
        clock.now = datetime(2026, 11, 23, 12, 10, tzinfo=UTC)
        assert dispatcher.deliver_due().messages == 1
        clock.now = datetime(2026, 11, 23, 12, 11, tzinfo=UTC)
        (last,) = stories(sessions, 1, clock, channels=("hook",))
        assert dispatcher.deliver_due().held == 1  # 10 minutes after the digest
        clock.now = datetime(2026, 11, 23, 12, 20, tzinfo=UTC)
        assert dispatcher.deliver_due().delivered == 1
    sent = bodies(http_receiver, clock)
    assert [b["type"] for b in sent] == ["wirewatch.alert", "wirewatch.digest", "wirewatch.alert"]
    assert sent[0]["story"]["url"] == first
    assert [a["story"]["url"] for a in sent[1]["alerts"]] == later
    assert sent[2]["story"]["url"] == last


class SendThenCrash(WebhookSender):
    """Sends for real, then dies before the dispatcher can record the outcome."""

    def send(self, key: str, view: Any) -> DeliveryResult:
        super().send(key, view)
        raise SystemExit("killed after sending")


def test_crash_after_send_resends_the_same_batch_with_the_same_id(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    urls = stories(sessions, 3, clock, channels=("hook",), mode="hourly")
    channel = hook(http_receiver)
    clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    crashing = SendThenCrash(channel, now=clock)
    with (
        Dispatcher(sessions, {"hook": channel}, now=clock, senders={"hook": crashing}) as dead,
        pytest.raises(SystemExit),
    ):
        dead.deliver_due()
    assert len(http_receiver.requests) == 1
    assert {r.status for r in rows(sessions)} == {"queued"}
    with Dispatcher(sessions, {"hook": channel}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().attempted == 0  # the dead process's lease holds
        # Another alert of the same hour is stored late, and is due when the lease runs
        # out: it must not join the digest already sent (that would change its id).
        clock.advance(minutes=5)
        (late,) = stories(sessions, 1, clock, channels=("hook",), mode="hourly")
        with transaction(sessions) as s:
            row = s.scalars(select(Alert).where(Alert.batch_key.is_(None))).one()
            row.created_at = row.next_attempt_at = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
        clock.advance(minutes=1)
        again = dispatcher.deliver_due()
        assert (again.delivered, again.messages) == (4, 2)
        assert dispatcher.deliver_due().attempted == 0
    first, *after = http_receiver.requests
    by_id = {r.headers["webhook-id"]: r for r in after}
    assert len(by_id) == 2 and first.headers["webhook-id"] in by_id
    resent = by_id.pop(first.headers["webhook-id"])
    assert resent.body == first.body
    assert [a["story"]["url"] for a in json.loads(resent.body)["alerts"]] == urls
    (newcomer,) = by_id.values()
    assert [a["story"]["url"] for a in json.loads(newcomer.body)["alerts"]] == [late]


def test_a_503_then_200_delivers_the_digest_exactly_once(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    stories(sessions, 2, clock, channels=("hook",), mode="hourly")
    http_receiver.script = [(503, {"retry-after": "120"})]
    clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        failed = dispatcher.deliver_due()
        assert (failed.retrying, failed.delivered) == (2, 0)
        assert failed.stats == {"alerts/webhook/retry/server_error": 2}
        stored = rows(sessions)
        assert {(r.status, r.attempts) for r in stored} == {("queued", 1)}
        assert {r.next_attempt_at for r in stored} == {clock() + timedelta(seconds=120)}
        clock.advance(seconds=119)
        assert dispatcher.deliver_due().attempted == 0
        clock.advance(seconds=1)
        assert dispatcher.deliver_due().delivered == 2
        clock.advance(hours=2)
        assert dispatcher.deliver_due().attempted == 0
    one, two = http_receiver.requests
    assert one.headers["webhook-id"] == two.headers["webhook-id"]
    assert one.body == two.body
    assert {(r.status, r.attempts) for r in rows(sessions)} == {("delivered", 2)}
    with sessions() as s:
        outcomes = s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)).all()
    assert sorted(outcomes) == ["delivered", "delivered", "retry", "retry"]


def test_a_410_fails_every_alert_of_the_digest(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    stories(sessions, 2, clock, channels=("hook",), mode="hourly")
    http_receiver.default = (410, {})
    clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    with Dispatcher(sessions, {"hook": hook(http_receiver)}, now=clock) as dispatcher:
        assert dispatcher.deliver_due().failed == 2
    assert {r.status for r in rows(sessions)} == {"failed"}
    assert len(http_receiver.requests) == 1


def test_console_digest_is_one_line_per_alert(
    sessions: sessionmaker[Session], clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.config import ConsoleChannel

    clock.now = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    urls = stories(sessions, 2, clock, channels=("terminal",), mode="hourly")
    clock.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    with Dispatcher(sessions, {"terminal": ConsoleChannel(type="console")}, now=clock) as d:
        assert d.deliver_due().messages == 1
    assert capsys.readouterr().out.splitlines() == [f"[{RULE}] {TITLE} — {u}" for u in urls]


class Recording:
    kind = "test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def send(self, key: str, view: AlertView) -> DeliveryResult:
        self.sent.append((key, view))
        return DeliveryResult.delivered()

    def close(self) -> None:
        pass


def test_without_volume_keys_every_alert_is_its_own_message(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    stories(sessions, 3, clock, channels=("hook",))
    sender = Recording()
    with Dispatcher(sessions, {}, now=clock, senders={"hook": sender}) as dispatcher:
        assert dispatcher.deliver_due().messages == 3
    assert [type(view) for _key, view in sender.sent] == [AlertView] * 3
    assert [key for key, _ in sender.sent] == [r.key for r in rows(sessions)]
    assert [r.batch_key for r in rows(sessions)] == [r.key for r in rows(sessions)]


# --- the keys in the files ----------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


RULE_HEAD = "rules:\n  - name: r\n    all: [Russia]\n"


@pytest.mark.parametrize(
    ("extra", "line", "problem"),
    [
        ("    digest: weekly\n", 4, "digest must be one of hourly, daily, not 'weekly'"),
        ("    digest: [hourly]\n", 4, "digest must be one of hourly, daily, not a list"),
        ("    urgent: NO\n", 4, "urgent must be true or false, not 'NO'"),
        ("    urgent: yes\n", 4, "urgent must be true or false, not 'yes'"),
        ("    urgent: 'true'\n", 4, "urgent must be true or false, not the text 'true'"),
        ("    urgent: 1\n", 4, "urgent must be true or false, not number 1"),
        (
            "    digest: hourly\n    urgent: true\n",
            5,
            "urgent rules are sent at once; drop digest or urgent",
        ),
    ],
)
def test_watchlist_volume_errors_name_file_and_line(
    tmp_path: Path, extra: str, line: int, problem: str
) -> None:
    path = write(tmp_path, "w.yaml", RULE_HEAD + extra)
    errors = check_watchlist(path)
    assert [str(e) for e in errors] == [f"{path}:{line}: {problem}"]
    with pytest.raises(ConfigError) as caught:
        load_watchlists([path])
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_watchlist_volume_keys_load() -> None:
    from pipelines.rules import rules_from_data

    rules = rules_from_data(
        {
            "rules": [
                {"name": "a", "all": ["Russia"], "digest": "daily"},
                {"name": "b", "all": ["Russia"], "urgent": True},
                {"name": "c", "all": ["Russia"]},
            ]
        }
    )
    assert [(r.digest, r.urgent) for r in rules] == [("daily", False), (None, True), (None, False)]


def test_watchlist_file_volume_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "w.yaml",
        RULE_HEAD + "    urgent: True\n  - name: d\n    all: [Russia]\n"
        "    digest: hourly\n    urgent: false\n",
    )
    rules = load_watchlists([path]).rules
    assert [(r.name, r.digest, r.urgent) for r in rules] == [
        ("r", None, True),
        ("d", "hourly", False),
    ]


def test_a_retry_that_falls_in_quiet_hours_waits_and_keeps_its_message(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    channel = hook(http_receiver, quiet_hours={"from": "22:00", "to": "07:00"})
    clock.now = datetime(2026, 11, 23, 20, 5, tzinfo=UTC)
    evening = stories(sessions, 2, clock, channels=("hook",), mode="hourly")
    http_receiver.script = [(503, {"retry-after": "3600"})]
    with Dispatcher(sessions, {"hook": channel}, now=clock) as dispatcher:
        clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
        assert dispatcher.deliver_due().retrying == 2
        clock.now = datetime(2026, 11, 23, 23, 5, tzinfo=UTC)
        night = stories(sessions, 1, clock, channels=("hook",), mode="hourly")
        held: dict[str, int] = {}
        for hour in (22, 23):  # the retry is due at 22:00, inside the quiet hours
            clock.now = datetime(2026, 11, 23, hour, 30, tzinfo=UTC)
            round_ = dispatcher.deliver_due()
            assert round_.attempted == 0
            held.update(round_.stats)
        assert held == {"alerts/held/quiet_hours": 2, "alerts/held/digest": 1}
        clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
        morning = dispatcher.deliver_due()
        assert (morning.delivered, morning.messages) == (3, 2)
    first, retried, fresh = http_receiver.requests
    assert retried.headers["webhook-id"] == first.headers["webhook-id"]
    assert retried.body == first.body
    assert [a["story"]["url"] for a in json.loads(retried.body)["alerts"]] == evening
    assert [a["story"]["url"] for a in json.loads(fresh.body)["alerts"]] == night


def test_urgent_alerts_skip_the_cooldown(
    sessions: sessionmaker[Session], http_receiver: HttpReceiver, clock: Clock
) -> None:
    channel = hook(http_receiver, cooldown="1h")
    with Dispatcher(sessions, {"hook": channel}, now=clock) as dispatcher:
        stories(sessions, 1, clock, channels=("hook",))
        assert dispatcher.deliver_due().delivered == 1
        clock.advance(minutes=1)
        stories(sessions, 1, clock, channels=("hook",))
        stories(sessions, 1, clock, channels=("hook",), rule="nuclear-test", urgent=True)
        round_two = dispatcher.deliver_due()
        assert (round_two.delivered, round_two.held) == (1, 1)
    assert [b["rule"] for b in bodies(http_receiver, clock)] == [RULE, "nuclear-test"]
