"""Console channel: one line per alert on a text stream (stdout by default); a digest is
one line per alert it carries."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from alerts.render import Message, render_console
from alerts.result import DeliveryResult, classify

__all__ = ["ConsoleSender"]


class ConsoleSender:
    """Writes ``[rule] headline — url`` and a newline to ``stream`` and flushes.

    ``stream=None`` means ``sys.stdout`` as it is at send time (so pytest's capture and
    CLI redirections see the lines). A write error (closed pipe) is a retryable failure.
    """

    kind = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ConsoleSender(stream={self._stream!r})"

    def send(self, key: str, view: Message) -> DeliveryResult:
        line = render_console(view)
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            with self._lock:
                stream.write(line + "\n")
                stream.flush()
        except (OSError, ValueError) as exc:
            return classify(error=exc)
        return DeliveryResult.delivered()

    def close(self) -> None:
        """Nothing to release: the stream belongs to the caller."""
