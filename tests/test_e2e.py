"""End to end, as a user runs it: ``wirewatch crawl`` in a subprocess against a feed and
article pages on 127.0.0.1, a real SMTP server (aiosmtpd) and a webhook receiver.

Three crawls in a row: the first alerts once per story cluster and channel, the second
fetches and sends nothing, the third finds a new story while the mail server is down —
the email stays queued and ``wirewatch deliver`` sends it once the server is back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPO, copy_seeds
from tests.httpserver import LocalHTTPServer, RecordedRequest, Reply

RULE = "north-korea-russia-troops"
SECRET = "whsec_" + base64.b64encode(b"e2e signing key of thirty-two b!").decode()
SIDEBAR = (
    "<aside class='most-read'><h3>الأكثر قراءة</h3><ul>"
    "<li><a href='/x1'>كوريا الشمالية ترسل قوات إلى روسيا</a></li>"
    "<li><a href='/x2'>بيونغ يانغ وموسكو: آلاف الجنود على الجبهة</a></li>"
    "<li><a href='/x3'>القوات الروسية والكورية الشمالية في كورسك</a></li>"
    "</ul></aside>"
)

STORIES = {
    "/a/1.html": (
        "كوريا الشمالية ترسل آلاف الجنود إلى روسيا",
        [
            "سول – (رويترز): أرسلت بيونغ يانغ آلاف الجنود إلى روسيا خلال الأسابيع "
            "الماضية، بحسب ما أعلنت أجهزة المخابرات في كوريا الجنوبية اليوم الثلاثاء.",
            "وقال مسؤولون إن القوات الكورية الشمالية تتلقى تدريبات في مناطق شرق روسيا "
            "قبل نشرها على خطوط الجبهة في أوكرانيا.",
            "ولم يصدر أي تعليق فوري من موسكو أو بيونغ يانغ على هذه التقارير.",
        ],
    ),
    # A republished copy of /a/1.html: harakat, another spelling, a site footer.
    "/a/2.html": (
        "كوريا الشمالية ترسل آلاف الجنود إلى روسيا",
        [
            "سول – (رويترز): أَرْسَلَت بيونج يانج آلاف الجُنُود إلى روسيا خلال الأسابيع "
            "الماضية، بحسب ما أعلنت أجهزة المخابرات في كوريا الجنوبية اليوم الثلاثاء.",
            "وقال مسؤولون إن القوات الكورية الشمالية تتلقى تدريبات في مناطق شرق روسيا "
            "قبل نشرها على خطوط الجبهة في أوكرانيا.",
            "ولم يصدر أي تعليق فوري من موسكو أو بيونج يانج على هذه التقارير.",
        ],
    ),
    # Served as undeclared windows-1256; its title tries markup and header injection.
    "/a/3.html": (
        "<script>alert(1)</script> عاجل: قوات كورية شمالية في كورسك & خاركيف\r\nBcc: x@example.org",
        [
            "موسكو (أ ف ب) - قالت وزارة الدفاع الأوكرانية إن جنودا من كوريا الشمالية "
            "يقاتلون إلى جانب القوات الروسية في منطقة كورسك.",
            "وأضافت الوزارة أن عدد الجنود الكوريين الشماليين يقدر بنحو عشرة آلاف.",
        ],
    ),
    # Trigger words only in the «most read» sidebar: no alert.
    "/a/4.html": (
        "المنتخب يفوز بكأس البطولة بعد مباراة مثيرة",
        [
            "فاز المنتخب الوطني لكرة القدم بكأس البطولة الإقليمية مساء الأحد بعد مباراة "
            "مثيرة انتهت بركلات الترجيح أمام جماهير غفيرة في الملعب الرئيسي.",
            "وقال المدرب إن اللاعبين قدموا أداء رائعا طوال البطولة وإن الفوز ثمرة عمل طويل.",
        ],
    ),
}
LATE = {
    "/a/5.html": (
        "روسيا تستقبل دفعة جديدة من القوات الكورية الشمالية",
        [
            "كييف (الأناضول) - أفادت الاستخبارات الأوكرانية بأن دفعة جديدة من القوات "
            "الكورية الشمالية وصلت إلى روسيا عبر ميناء فلاديفوستوك.",
            "وتقدر كييف أن أكثر من خمسة عشر ألف جندي كوري شمالي باتوا في روسيا.",
        ],
    )
}


def page(title: str, paragraphs: list[str], charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="ar" dir="rtl"><head>{meta}<title>{escape(title)}</title>'
        "</head><body><nav><a href='/'>الرئيسية</a> | <a href='/world'>العالم</a></nav>"
        f"<article><h1>{escape(title)}</h1>{body}</article>{SIDEBAR}"
        "<footer>جميع الحقوق محفوظة</footer></body></html>"
    )


def feed(base: str, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{escape(({**STORIES, **LATE})[p][0])}</title><link>{base}{p}</link>"
        "<pubDate>Tue, 05 Nov 2024 08:00:00 GMT</pubDate></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>wire</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_smtp(mailbox: Mailbox, port: int) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def verify_signature(req: RecordedRequest) -> dict[str, Any]:
    """What a Standard Webhooks receiver does with the request."""
    msg_id, stamp = req.headers["webhook-id"], req.headers["webhook-timestamp"]
    assert abs(time.time() - int(stamp)) < 300
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{msg_id}.{stamp}.".encode() + req.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    versions = dict(s.split(",", 1) for s in req.headers["webhook-signature"].split())
    assert hmac.compare_digest(versions["v1"], expected)
    return dict(json.loads(req.body))


@pytest.fixture
def site() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer({}) as server:
        base = server.url("").rstrip("/")
        for path, (title, paragraphs) in STORIES.items():
            if path == "/a/3.html":
                server.add(
                    path,
                    Reply(
                        200,
                        {"Content-Type": "text/html"},
                        page(title, paragraphs, None).encode("cp1256"),
                    ),
                )
            else:
                server.add(
                    path,
                    Reply(
                        200,
                        {"Content-Type": "text/html; charset=utf-8"},
                        page(title, paragraphs).encode(),
                    ),
                )
        server.add(
            "/feed.xml",
            Reply(200, {"Content-Type": "application/rss+xml"}, feed(base, list(STORIES))),
        )
        server.add("/hook", Reply(200, {}, b"ok"))
        yield server


def wirewatch(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "-c", str(config), *args],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_three_crawls_alert_once_and_survive_a_mail_outage(
    site: LocalHTTPServer, database_url: str, tmp_path: Path
) -> None:
    base = site.url("").rstrip("/")
    smtp_port = free_port()
    mailbox = Mailbox()
    (tmp_path / "watchlist.yaml").write_text(
        f'rules:\n  - name: {RULE}\n    all: ["North Korea", "Russia", "troops"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        f"database: {database_url}\n"
        f"sources:\n  - name: wire\n    type: feed\n    url: {base}/feed.xml\n"
        "watchlists: [watchlist.yaml]\n"
        "channels:\n"
        f"  desk-mail:\n    type: email\n    host: 127.0.0.1\n    port: {smtp_port}\n"
        "    sender: wirewatch@example.org\n    to: [desk@example.org]\n    timeout: 5\n"
        f"  desk-hook:\n    type: webhook\n    url: {base}/hook\n    secret: {SECRET}\n"
        "  terminal:\n    type: console\n",
        encoding="utf-8",
    )

    # 1. First crawl: two clusters match (/a/1 = /a/2, and /a/3); /a/4 only has a sidebar.
    smtp = start_smtp(mailbox, smtp_port)
    try:
        first = wirewatch(config, "crawl")
    finally:
        smtp.stop()
    console = [line for line in first.stdout.splitlines() if line.startswith(f"[{RULE}]")]
    assert len(console) == 2, first.stdout
    assert any("/a/3.html" in line for line in console)
    assert any("/a/1.html" in line or "/a/2.html" in line for line in console)

    assert len(mailbox.messages) == 2
    for msg in mailbox.messages:
        assert RULE in str(msg["subject"])
        assert "\n" not in str(msg["subject"])
        assert msg["bcc"] is None
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert 'dir="rtl"' in html
        assert "<script>" not in html
        assert base in html and base in text
    injected = [m for m in mailbox.messages if "كورسك" in str(m["subject"])]
    assert len(injected) == 1
    html = injected[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "كورسك &amp; خاركيف" in html

    hooks = [verify_signature(r) for r in site.requests if r.bare_path == "/hook"]
    assert len(hooks) == 2
    assert {h["rule"] for h in hooks} == {RULE}
    assert len({r.headers["webhook-id"] for r in site.requests if r.bare_path == "/hook"}) == 2
    windows_1256 = next(h for h in hooks if h["story"]["url"].endswith("/a/3.html"))
    assert "قوات كورية شمالية في كورسك" in windows_1256["story"]["title"]
    assert windows_1256["evidence"]

    stories = json.loads(wirewatch(config, "stories", "--json").stdout)
    by_path = {s["url"].removeprefix(base): s for s in stories}
    assert set(by_path) == set(STORIES)
    assert by_path["/a/1.html"]["cluster"] == by_path["/a/2.html"]["cluster"]
    assert len({s["cluster"] for s in stories}) == 3
    assert "الأكثر قراءة" not in json.dumps(stories, ensure_ascii=False)
    assert by_path["/a/3.html"]["agency"] == "AFP"

    # 2. Second crawl: nothing fetched again, nothing sent again.
    smtp = start_smtp(mailbox, smtp_port)
    try:
        second = wirewatch(config, "crawl")
    finally:
        smtp.stop()
    assert not [line for line in second.stdout.splitlines() if line.startswith(f"[{RULE}]")]
    assert len(mailbox.messages) == 2
    assert len([r for r in site.requests if r.bare_path == "/hook"]) == 2
    for path in STORIES:
        assert site.hits(path) == 1, path

    # 3. A new story while the mail server is down: email stays queued, then is delivered.
    site.add(
        "/feed.xml",
        Reply(200, {"Content-Type": "application/rss+xml"}, feed(base, [*STORIES, *LATE])),
    )
    site.add(
        "/a/5.html",
        Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page(*LATE["/a/5.html"]).encode()),
    )
    third = wirewatch(config, "crawl")
    assert "1 to retry" in third.stdout
    alerts = json.loads(wirewatch(config, "alerts", "--json").stdout)
    queued = [a for a in alerts if a["status"] == "queued"]
    assert [(a["channel"], a["story"]) for a in queued] == [("desk-mail", f"{base}/a/5.html")]
    assert len([a for a in alerts if a["status"] == "delivered"]) == 3 * 2 + 2

    smtp = start_smtp(mailbox, smtp_port)
    try:
        # The failed attempt scheduled a retry with backoff; `deliver` honours it, so
        # move time on by making the row due in the database through the CLI's view.
        _make_due(database_url)
        wirewatch(config, "deliver")
        wirewatch(config, "deliver")
    finally:
        smtp.stop()
    assert len(mailbox.messages) == 3
    assert "كوري" in str(mailbox.messages[-1]["subject"])
    alerts = json.loads(wirewatch(config, "alerts", "--json").stdout)
    assert {a["status"] for a in alerts} == {"delivered"}
    assert len(alerts) == 9


def _make_due(database_url: str) -> None:
    from sqlalchemy import create_engine, update

    from crawler.models import Alert

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            update(Alert).where(Alert.status == "queued").values(next_attempt_at=Alert.created_at)
        )
    engine.dispose()


def test_default_quick_start_alerts_once_per_seed(tmp_path: Path) -> None:
    """``wirewatch crawl`` on the repo's own wirewatch.yaml, copied with its seeds."""
    copy_seeds(tmp_path)
    (tmp_path / "wirewatch.yaml").write_bytes((REPO / "wirewatch.yaml").read_bytes())
    config = tmp_path / "wirewatch.yaml"
    first = wirewatch(config, "crawl")
    lines = [line for line in first.stdout.splitlines() if line.startswith(f"[{RULE}]")]
    assert len(lines) == 2
    assert {line.rsplit("/", 1)[-1] for line in lines} == {
        p.name for p in (REPO / "seeds").glob("*.txt")
    }
    second = wirewatch(config, "crawl")
    assert not [line for line in second.stdout.splitlines() if line.startswith(f"[{RULE}]")]
    assert "2 already seen" in second.stdout


def test_a_failing_source_does_not_stop_the_others(site: LocalHTTPServer, tmp_path: Path) -> None:
    base = site.url("").rstrip("/")
    dead = free_port()  # nothing listens there
    (tmp_path / "watchlist.yaml").write_text(
        f'rules:\n  - name: {RULE}\n    all: ["North Korea", "Russia", "troops"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        "database: sqlite:///w.db\n"
        "sources:\n"
        f"  - name: down\n    type: feed\n    url: http://127.0.0.1:{dead}/feed.xml\n"
        f"  - name: broken\n    type: sitemap\n    url: {base}/a/4.html\n"
        f"  - name: wire\n    type: feed\n    url: {base}/feed.xml\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    done = wirewatch(config, "crawl")
    summary = {line.split(":", 1)[0]: line for line in done.stdout.splitlines()}
    assert "4 new stories" in summary["wire"]
    assert "0 new stories" in summary["down"] and "0 errors" not in summary["down"]
    assert "0 new stories" in summary["broken"]
    assert len([line for line in done.stdout.splitlines() if line.startswith(f"[{RULE}]")]) == 2
