"""Decode fetched bytes into text we can trust, and recognise text we cannot.

Scrapy decodes a page that declares no charset as cp1252, which turns a windows-1256
Arabic page into ``ÇáÚÑÈíÉ`` and a UTF-8 page read the wrong way into ``Ø§Ù„``. The
spiders therefore never use ``response.text``; they call :func:`decode_body` on the raw
bytes, and refuse text for which :func:`looks_like_mojibake` is true.

Order of trust (first that applies wins):

1. a per-source ``encoding`` override (the operator knows the site lies);
2. a byte-order mark;
3. a declared charset (HTTP header, then ``<meta>``/XML declaration) that decodes the
   bytes strictly — except the Latin-1 family (``iso-8859-1``, ``cp1252``, ``ascii``),
   which servers announce by default and which can decode *any* bytes, so it proves
   nothing;
4. strict UTF-8;
5. charset-normalizer's best guess;
6. windows-1256 with replacement characters (the commonest legacy charset for Arabic).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# Charsets that every byte string "decodes" under, and that servers send by default.
_UNTRUSTED_DECLARED = frozenset({"cp1252", "latin_1", "iso8859_1", "ascii", "us_ascii"})

# UTF-8 Arabic read as cp1252/latin-1: lead bytes D8..DB become Ø Ù Ú Û and are followed by
# a continuation byte (80..BF), which cp1252 shows as punctuation or Latin-1 symbols.
_CP1252_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_UTF8_AS_LATIN = re.compile(f"[\u00c2-\u00dfØÙÚÛ][{_CP1252_CONTINUATION}]")
# Latin UTF-8 read as cp1252: "Ã©" for "é", "â€™" for "’".
_UTF8_LATIN_AS_LATIN = re.compile("(?:Ã[\u0080-\u00bf\u2018-\u201e]|â€)")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes, and how the charset was chosen.

    ``how`` is one of ``override``, ``bom``, ``declared``, ``utf-8``, ``detected``,
    ``fallback``; it feeds logs and stats, never behaviour.
    """

    text: str
    encoding: str
    how: str


def normalise_encoding_name(name: str | None) -> str | None:
    """Return the Python codec name for ``name`` (``"Windows-1256"`` → ``"cp1256"``).

    Unknown or empty names give None; w3lib's aliases apply (``iso-8859-1`` → ``cp1252``,
    as browsers do).
    """
    if not name:
        return None
    resolved = resolve_encoding(name.strip().strip("\"'"))
    if not resolved:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset a document announces: HTTP ``Content-Type`` first, then the body.

    The body check covers ``<meta charset>``, ``<meta http-equiv>`` and the XML
    declaration, within the first few KiB (as browsers do).
    """
    declared = http_content_type_encoding(content_type) if content_type else None
    if not declared:
        declared = html_body_declared_encoding(body)
    return normalise_encoding_name(declared)


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(
    body: bytes,
    *,
    content_type: str | None = None,
    override: str | None = None,
) -> DecodedText:
    """Decode ``body`` following the order of trust in the module docstring.

    ``content_type`` is the raw HTTP header value (or None); ``override`` is the source's
    configured encoding. Never raises on bad bytes: the last resort decodes with
    replacement characters, which :func:`looks_like_mojibake` then refuses when they
    dominate. An unknown ``override`` name raises ``LookupError`` (a config mistake the
    operator should see).
    """
    if override:
        codec = normalise_encoding_name(override)
        if codec is None:
            raise LookupError(f"unknown encoding {override!r}")
        return DecodedText(body.decode(codec, errors="replace"), codec, "override")

    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        codec = normalise_encoding_name(bom_encoding) or "utf_8"
        return DecodedText(body[len(bom) :].decode(codec, errors="replace"), codec, "bom")

    declared = declared_encoding(body, content_type)
    if declared and declared not in _UNTRUSTED_DECLARED:
        text = _strict(body, declared)
        if text is not None:
            return DecodedText(text, declared, "declared")

    text = _strict(body, "utf-8")
    if text is not None:
        return DecodedText(text, "utf_8", "utf-8")

    best = charset_normalizer.from_bytes(body).best()
    if best is not None and best.encoding:
        detected = normalise_encoding_name(best.encoding) or best.encoding
        # A Latin guess for a page that is mostly high bytes is the very mistake this
        # module exists to avoid; prefer windows-1256 when it reads as Arabic.
        if detected in _UNTRUSTED_DECLARED or detected.startswith("cp125"):
            arabic = body.decode("cp1256", errors="replace")
            if arabic_ratio(arabic) > 0.5:
                return DecodedText(arabic, "cp1256", "detected")
        return DecodedText(str(best), detected, "detected")

    return DecodedText(body.decode("cp1256", errors="replace"), "cp1256", "fallback")


def arabic_ratio(text: str) -> float:
    """Share of Arabic letters among all letters in ``text`` (0.0 when it has none)."""
    letters = arabic = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f":
                arabic += 1
    return arabic / letters if letters else 0.0


def looks_like_mojibake(text: str) -> bool:
    """True when ``text`` looks like bytes decoded with the wrong charset.

    Three signs, each measured against the amount of text so that a French accent or a
    stray ``Ø`` in a Danish name does not trip it:

    - UTF-8 read as cp1252/latin-1 (``Ø§Ù„`` for ``ال``, ``Ã©`` for ``é``);
    - windows-1256 Arabic read as cp1252 (``ÇáÚÑÈíÉ``): most letters in Latin-1
      Supplement and almost none Arabic;
    - replacement characters (U+FFFD) making up a visible share of the text.
    """
    sample = text[:20000]
    letters = sum(1 for ch in sample if ch.isalpha())
    if letters == 0:
        return False
    pairs = len(_UTF8_AS_LATIN.findall(sample)) + len(_UTF8_LATIN_AS_LATIN.findall(sample))
    if pairs >= 3 and pairs / letters > 0.05:
        return True
    latin1 = sum(1 for ch in sample if "\u00c0" <= ch <= "\u00ff")
    if letters >= 20 and latin1 / letters > 0.3 and arabic_ratio(sample) < 0.1:
        return True
    replacement = sample.count("\ufffd")
    return replacement >= 3 and replacement / letters > 0.02


def clean_text(text: str) -> str:
    """Drop control and format characters that have no place in stored text.

    Line breaks become ``\\n`` (CR LF and lone CR included); keeps ``\\t``; keeps ZWNJ/ZWJ (U+200C/D), which Persian and Urdu words
    need; drops the rest of category Cc/Cf (NUL, bidi overrides, BOMs), which a hostile
    page can use to smuggle content past a reader.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch
        for ch in text
        if ch in "\n\t\u200c\u200d" or unicodedata.category(ch) not in ("Cc", "Cf")
    )
