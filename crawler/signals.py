"""wirewatch's own Scrapy signals (``crawler.signals.send_catch_log(signal=..., ...)``).

``page_skipped(url, source, reason)``: an article page was fetched but gave no story —
``reason`` is ``empty_body``, ``mojibake`` or ``not_html``.  ``SeenArticleMiddleware``
records it so that the page waits before it is fetched again (see :mod:`crawler.seen`).
"""

from __future__ import annotations

page_skipped = object()
