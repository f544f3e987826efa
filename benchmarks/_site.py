"""Local sites for the benchmarks: :class:`LocalSite`, the server plumbing they share, and
:class:`Site`, a synthetic Arabic news site (an RSS feed plus one page per story).

Served by a threaded HTTP server on 127.0.0.1; every story is different (random
sentences from wire vocabulary), so dedupe keeps them apart.
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

WORDS = (
    "أعلنت وزارة الخارجية اليوم أن الوفد سيصل إلى العاصمة لإجراء محادثات حول التعاون "
    "الاقتصادي والأمني بين البلدين وقال المتحدث باسم الحكومة إن الاجتماع سيتناول ملفات "
    "الطاقة والتجارة والاستثمار وأضاف أن الجانبين يسعيان إلى توقيع اتفاقيات جديدة خلال "
    "الزيارة التي تستمر ثلاثة أيام وذكرت وكالة الأنباء الرسمية أن الرئيس استقبل السفير "
    "في القصر وبحث معه العلاقات الثنائية والتطورات الإقليمية والدولية وأكد الوزير أهمية "
    "الحوار ودعم جهود السلام والاستقرار في المنطقة وأشار البيان إلى أن البرلمان سيناقش "
    "مشروع القانون الأسبوع المقبل بعد موافقة اللجنة المختصة عليه بالإجماع"
).split()
NAMES = ["روسيا", "الصين", "اليابان", "فرنسا", "تركيا", "مصر", "الهند", "البرازيل"]


def story(i: int, rnd: random.Random) -> tuple[str, list[str]]:
    """Title and ~1.5 KB of paragraphs for story ``i``."""

    def sentence() -> str:
        words = rnd.choices(WORDS, k=rnd.randint(12, 22))
        words.insert(rnd.randrange(len(words)), rnd.choice(NAMES))
        return " ".join(words) + "."

    title = f"{' '.join(rnd.choices(WORDS, k=6))} {i}"
    paragraphs = [" ".join(sentence() for _ in range(3)) for _ in range(4)]
    return title, paragraphs


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections under Scrapy's concurrency, and each
    # dropped SYN costs a one-second retransmit: the benchmark would measure that.
    request_queue_size = 256
    daemon_threads = True


Response = tuple[int, bytes, str]  # status, body, content type
NOT_FOUND: Response = (404, b"not found", "text/plain")


class LocalSite:
    """A threaded HTTP/1.1 server (keep-alive, no Nagle delay, no request log) on
    127.0.0.1 for the benchmarks; ``with`` starts and stops it.  Subclasses answer
    :meth:`get` and :meth:`post`."""

    def __init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def get(self, path: str) -> Response:
        return NOT_FOUND

    def post(self, path: str, headers: Message, body: bytes) -> Response:
        return NOT_FOUND

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _send(self, response: Response) -> None:
                status, body, ctype = response
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(site.get(self.path))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(site.post(self.path, self.headers, body))

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Site(LocalSite):
    """``/feed.xml`` lists ``n`` stories at ``/a/<i>.html``."""

    def __init__(self, n: int, seed: int = 7) -> None:
        super().__init__()
        rnd = random.Random(seed)
        self.pages: dict[str, bytes] = {}
        now = datetime(2026, 11, 1, tzinfo=timezone.utc)
        items = []
        for i in range(n):
            title, paragraphs = story(i, rnd)
            date = format_datetime(now - timedelta(minutes=i))
            body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            self.pages[f"/a/{i}.html"] = (
                '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
                f"<title>{escape(title)}</title></head><body><nav><a href='/'>الرئيسية</a></nav>"
                f"<article><h1>{escape(title)}</h1>{body}</article>"
                "<aside><h3>الأكثر قراءة</h3><ul><li><a href='/x'>خبر</a></li></ul></aside>"
                "</body></html>"
            ).encode()
            items.append((title, f"/a/{i}.html", date))
        self.items = items

    def feed(self) -> bytes:
        entries = "".join(
            f"<item><title>{escape(t)}</title><link>{self.base}{p}</link>"
            f"<pubDate>{d}</pubDate></item>"
            for t, p, d in self.items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>bench</title><link>{self.base}/</link>{entries}</channel></rss>"
        ).encode()

    def get(self, path: str) -> Response:
        if path == "/feed.xml":
            return 200, self.feed(), "application/rss+xml"
        if path in self.pages:
            return 200, self.pages[path], "text/html; charset=utf-8"
        return NOT_FOUND
