"""Feeds and sitemaps parsed safely: no entities, no DTD, no network, no huge trees."""

from __future__ import annotations

import re
from html.entities import name2codepoint
from typing import Any

from lxml import etree

from crawler.encoding import decode_body

__all__ = ["UnsafeXML", "child_text", "localname", "parse_xml"]


class UnsafeXML(ValueError):
    """Raised for XML we refuse to parse (entity declarations, not XML at all)."""


# No network, no DTD loading, no entity expansion, no huge-tree mode: a billion-laughs or
# external-entity document fails fast instead of expanding or fetching anything.
_XML_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "recover": False,
}
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_HTML_ENTITY = re.compile(
    rb"&(" + b"|".join(n.encode() for n in name2codepoint if n not in _XML_ENTITIES) + rb");"
)


def _char_ref(match: re.Match[bytes]) -> bytes:
    return b"&#%d;" % name2codepoint[match.group(1).decode()]


def parse_xml(body: bytes, encoding: str | None = None) -> etree._Element:
    """Parse a feed or sitemap safely; raise :class:`UnsafeXML` or ``etree.XMLSyntaxError``.

    Any ``<!ENTITY`` declaration is refused outright: feeds and sitemaps have no use for
    them, and it is the one way to an entity bomb or an XXE. XML names its own charset, so
    the document is first parsed as declared; when its bytes do not match (a windows-1256
    feed without an XML declaration, say), ``encoding`` — the source override or the HTTP
    charset — is the second try, and charset detection the third.
    """
    if _ENTITY_DECL.search(body):
        raise UnsafeXML("document declares XML entities")
    try:
        root = etree.fromstring(body, etree.XMLParser(**_XML_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        if _HTML_ENTITY.search(body) and "Entity" in str(exc):
            # Feeds often carry HTML entities (&nbsp; &hellip;) that XML does not define;
            # spell them as character references and try once more.
            return parse_xml(_HTML_ENTITY.sub(_char_ref, body), encoding)
        if not encoding:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                encoding = decode_body(body).encoding
            else:
                raise exc from None  # valid UTF-8: the syntax error is real
        text = _XML_DECL.sub("", body.decode(encoding, errors="replace"), count=1)
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(**_XML_PARSER_OPTIONS))
    if root is None:
        raise UnsafeXML("empty document")
    return root


def localname(el: etree._Element) -> str:
    """Tag name without namespace: ``{http://www.w3.org/2005/Atom}entry`` → ``entry``."""
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def child_text(el: etree._Element, *names: str) -> str | None:
    """Stripped text of the first child whose local name is one of ``names``."""
    for name in names:
        for child in el:
            if localname(child) == name:
                text = "".join(child.itertext()).strip()
                if text:
                    return text
    return None
