"""A dispatcher process killed between sending and recording: the alert is re-sent with
the same ``webhook-id`` by the next process, and then never again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from alerts.dispatch import Dispatcher
from crawler.config import WebhookChannel
from crawler.db import open_database
from crawler.models import Alert
from tests.alerts.conftest import HttpReceiver, add_story

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="

# A dispatcher that sends, says so and hangs until it is killed.  An optional fourth
# argument fixes its clock (ISO time).
CHILD = textwrap.dedent(
    """
    import sys, threading
    from datetime import datetime, timedelta
    from pydantic import SecretStr
    from alerts.dispatch import Dispatcher
    from alerts.webhook import WebhookSender
    from crawler.config import WebhookChannel
    from crawler.db import open_database

    url, hook, secret = sys.argv[1:4]
    clock = {}
    if len(sys.argv) > 4:
        when = datetime.fromisoformat(sys.argv[4])
        clock = {"now": lambda: when}
    channel = WebhookChannel(type="webhook", url=hook, secret=SecretStr(secret), timeout=5)

    class SendThenHang(WebhookSender):
        def send(self, key, view):
            result = super().send(key, view)
            print("sent", flush=True)
            threading.Event().wait(60)  # killed here, before the outcome is recorded
            return result

    sender = SendThenHang(channel, **clock)
    Dispatcher(open_database(url), {"hook": channel}, senders={"hook": sender},
               lease=timedelta(minutes=5), **clock).deliver_due()
    """
)


def kill_after_send(script: str, *args: str) -> None:
    """Run ``script`` in a child until it prints ``sent``, then SIGKILL it: a crash after
    the send and before its outcome is recorded."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "sent"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)


def test_killed_after_send_is_resent_with_same_id(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    url = "sqlite:///" + str(tmp_path / "crash.db")
    sessions = open_database(url)
    add_story(sessions, channels=("hook",), now=datetime.now(timezone.utc))
    kill_after_send(CHILD, url, http_receiver.url, SECRET)
    assert len(http_receiver.requests) == 1
    with sessions() as s:
        row = s.scalars(select(Alert)).one()
    assert row.status == "queued" and row.lease_until is not None

    channel = WebhookChannel(
        type="webhook", url=http_receiver.url, secret=SecretStr(SECRET), timeout=5
    )
    real = datetime.now(timezone.utc)
    with Dispatcher(sessions, {"hook": channel}, now=lambda: real) as dispatcher:
        assert dispatcher.deliver_due().attempted == 0  # the dead process's lease holds
    later = real + timedelta(minutes=6)  # jump past the lease instead of waiting
    with Dispatcher(sessions, {"hook": channel}, now=lambda: later) as dispatcher:
        assert dispatcher.deliver_due().delivered == 1
        assert dispatcher.deliver_due().attempted == 0
    ids = [r.headers["webhook-id"] for r in http_receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1] == row.key


def test_killed_after_sending_a_digest_resends_the_same_digest(
    tmp_path: Path, http_receiver: HttpReceiver
) -> None:
    url = "sqlite:///" + str(tmp_path / "crash.db")
    sessions = open_database(url)
    queued = datetime(2026, 11, 23, 12, 5, tzinfo=timezone.utc)
    for i in range(3):
        add_story(
            sessions,
            url=f"https://news.example/{i}",
            cluster=f"c{i}",
            channels=("hook",),
            mode="hourly",
            now=queued,
        )
    top = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
    kill_after_send(CHILD, url, http_receiver.url, SECRET, top.isoformat())
    (first,) = http_receiver.requests
    with sessions() as s:
        stored = s.scalars(select(Alert).order_by(Alert.id)).all()
    assert {(r.status, r.batch_key) for r in stored} == {("queued", first.headers["webhook-id"])}
    channel = WebhookChannel(
        type="webhook", url=http_receiver.url, secret=SecretStr(SECRET), timeout=5
    )
    with Dispatcher(sessions, {"hook": channel}, now=lambda: top) as dispatcher:
        assert dispatcher.deliver_due().attempted == 0  # the dead process's lease holds
    # A fourth alert of the same hour is stored late, due with the re-send: it must not
    # join the digest already sent (that would change its id and body).
    add_story(
        sessions,
        url="https://news.example/late",
        cluster="late",
        channels=("hook",),
        mode="hourly",
        now=queued,
    )
    later = top + timedelta(minutes=6)  # past the dead process's lease
    with Dispatcher(sessions, {"hook": channel}, now=lambda: later) as dispatcher:
        again = dispatcher.deliver_due()
        assert (again.delivered, again.messages) == (4, 2)
        assert dispatcher.deliver_due().attempted == 0
    first, *after = http_receiver.requests
    by_id = {r.headers["webhook-id"]: r for r in after}
    resent = by_id.pop(first.headers["webhook-id"])
    assert resent.body == first.body
    (late,) = by_id.values()
    assert [a["story"]["url"] for a in json.loads(late.body)["alerts"]] == [
        "https://news.example/late"
    ]
