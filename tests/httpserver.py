"""A small threaded HTTP server on 127.0.0.1 for tests: fixed or dynamic routes, recorded hits.

Usage::

    from tests.httpserver import LocalHTTPServer, Reply

    routes = {
        "/feed.xml": Reply(200, {"Content-Type": "application/rss+xml"}, feed_bytes),
        "/a/1.html": (200, {"Content-Type": "text/html"}, page_bytes),   # tuple works too
        "/hook": lambda req: Reply(503 if len(server.requests_for("/hook")) < 2 else 200),
    }
    with LocalHTTPServer(routes) as server:
        server.url("/feed.xml")                 # "http://127.0.0.1:<port>/feed.xml"
        server.add("/late.html", Reply(...))    # routes may change while it runs
        ...
        server.hits("/a/1.html")                # how many requests that path got
        server.requests                         # every RecordedRequest, in arrival order

A route value is a :class:`Reply`, a ``(status, headers, body)`` tuple, plain ``bytes``
(200, ``application/octet-stream``), or a callable taking the :class:`RecordedRequest`
and returning any of those. Routes match the path with its query string first, then the
bare path; anything else is a 404. Every method is accepted (GET, HEAD, POST, PUT,
DELETE, PATCH), so the same server can play a webhook receiver; request bodies are
recorded. The server only ever binds 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TypeAlias
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """A canned response. ``headers`` may repeat a name by passing a list of values."""

    status: int = 200
    headers: Mapping[str, str | list[str]] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str  # path with query string, as sent
    headers: dict[str, str]  # header names lower-cased; repeated headers joined with ", "
    body: bytes

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path


Static: TypeAlias = "Reply | tuple[int, Mapping[str, str], bytes] | bytes"
Route: TypeAlias = "Static | Callable[[RecordedRequest], Static]"


def _as_reply(value: Static) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, bytes):
        return Reply(200, {"Content-Type": "application/octet-stream"}, value)
    status, headers, body = value
    return Reply(status, dict(headers), body)


class LocalHTTPServer:
    """Serve ``routes`` on ``127.0.0.1:<free port>`` from a background thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. Thread-safe: tests may
    add routes and read :attr:`requests` while clients are connected.
    """

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self._routes: dict[str, Route] = dict(routes or {})
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalHTTPServer:
        """Bind a free loopback port and start serving; returns ``self``."""
        if self._server is not None:
            return self
        handler = self._handler_class()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="test-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and routes ----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL for ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def add(self, path: str, route: Route) -> None:
        """Add or replace the route for ``path``."""
        with self._lock:
            self._routes[path] = route

    def remove(self, path: str) -> None:
        """Remove the route for ``path`` (later requests get 404)."""
        with self._lock:
            self._routes.pop(path, None)

    # -- what was received -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Requests whose path (with or without query) equals ``path``."""
        return [r for r in self.requests if path in (r.path, r.bare_path)]

    def hits(self, path: str) -> int:
        """Number of requests for ``path``."""
        return len(self.requests_for(path))

    def clear(self) -> None:
        """Forget the recorded requests (routes stay)."""
        with self._lock:
            self._requests.clear()

    # -- serving -------------------------------------------------------------------------------

    def _respond(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            route = self._routes.get(request.path) or self._routes.get(request.bare_path)
        if route is None:
            return Reply(404, {"Content-Type": "text/plain"}, b"not found")
        value = route(request) if callable(route) else route
        return _as_reply(value)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                headers: dict[str, str] = {}
                for name, value in self.headers.items():
                    key = name.lower()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                reply = server._respond(RecordedRequest(self.command, self.path, headers, body))
                self.send_response(reply.status)
                names = {name.lower() for name in reply.headers}
                for name, values in reply.headers.items():
                    for item in values if isinstance(values, list) else [values]:
                        self.send_header(name, item)
                if "content-length" not in names:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: object) -> None:
                # Quiet: tests assert on recorded requests, not on stderr.
                return

        return Handler


def serve(routes: Mapping[str, Route] | None = None) -> LocalHTTPServer:
    """Shorthand: ``with serve({...}) as server:``."""
    return LocalHTTPServer(routes)
