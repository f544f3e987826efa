"""Which URLs a source may follow: one check for every link and every redirect hop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["HostPolicy", "split_hosts"]


def split_hosts(value: str | Iterable[str] | None) -> list[str]:
    """``"a.org, b.org"`` or ``["a.org"]`` → lower-case host names, empties dropped."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [h.strip().lower().rstrip(".") for h in items if h and h.strip()]


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class HostPolicy:
    """Which URLs a source may follow: http(s) on its own host or a listed one.

    Host names compare case-insensitively with ``www.`` and a trailing dot ignored; ports
    are not compared. Only hosts the operator wrote down are ever followed, so a link or
    redirect from a public site to ``127.0.0.1``, ``169.254.169.254`` or ``localhost`` is
    refused by construction — and a source configured on a loopback address works,
    because the operator chose it.
    """

    hosts: frozenset[str]

    @classmethod
    def for_source(cls, url: str, allow_hosts: str | Iterable[str] | None) -> HostPolicy:
        """Policy for a source at ``url`` that may also follow ``allow_hosts``."""
        host = urlsplit(url).hostname or ""
        return cls(frozenset(_bare_host(h) for h in [host, *split_hosts(allow_hosts)] if h))

    def allows(self, url: str) -> bool:
        """True when ``url`` is http(s) on one of the policy's hosts."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host:
            return False
        return _bare_host(host) in self.hosts
