"""Decode fetched bytes into text we can trust, and recognise text we cannot.

Scrapy decodes a page that declares no charset as cp1252, which turns a windows-1256
Arabic page into ``ÇáÚÑÈíÉ`` and a UTF-8 page read the wrong way into ``Ø§Ù„``. The
spiders therefore never use ``response.text``; they call :func:`decode_body` on the raw
bytes, and refuse text for which :func:`looks_like_mojibake` is true.

Order of trust (first that applies wins):

1. a per-source ``encoding`` override (the operator knows the site lies);
2. a byte-order mark;
3. strict UTF-8 (legacy-charset Arabic is never valid UTF-8 by accident, while a stale
   ``charset=windows-1256`` left in a template over UTF-8 text is common);
4. a declared charset (HTTP header, then ``<meta>``/XML declaration) that decodes the
   bytes strictly — except the Latin-1 family (``iso-8859-1``, ``cp1252``, ``ascii``),
   which servers announce by default and which can decode *any* bytes, so it proves
   nothing;
5. charset-normalizer's guess when it names an Arabic charset; else windows-1256 when
   that reads as Arabic (on a short feed the detector may say ``hp-roman8``); else the
   detector's guess; else windows-1256 with replacement characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# Charsets that every byte string "decodes" under, and that servers send by default.
_ARABIC_CHARSETS = frozenset({"cp1256", "iso8859-6"})
_UNTRUSTED_DECLARED = frozenset({"cp1252", "iso8859-1", "latin_1", "ascii", "us-ascii"})

# UTF-8 Arabic read as cp1252/latin-1: lead bytes D8..DB become Ø Ù Ú Û and are followed by
# a continuation byte (80..BF), which cp1252 shows as punctuation or Latin-1 symbols.
_CP1252_CONTINUATION = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_UTF8_AS_LATIN = re.compile(f"[\u00c2-\u00dfØÙÚÛ][{_CP1252_CONTINUATION}]")
# UTF-8 Arabic read as windows-1256: lead bytes D8/D9 are ط/ظ, continuation bytes are
# symbols ("ط§ظ„" for "ال"). Only symbols no Arabic word is ever followed by directly
# (quotes, ellipsis, dashes and Arabic punctuation are left out).
_UTF8_AS_CP1256 = re.compile("[طظ][€‚„†‡‰‹•™›¢£¤¥¦§¨©¬®¯°±²³´¶·¸¹¼½¾]")
# Latin UTF-8 read as cp1252: "Ã©" for "é", "â€™" for "’".
_UTF8_LATIN_AS_LATIN = re.compile("(?:Ã[\u0080-\u00bf\u2018-\u201e]|â€)")


_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")
_ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06fc\u0750-\u077f]")
# Control (Cc) and format (Cf) characters to drop; \t and \n stay, and so do ZWNJ/ZWJ.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


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
    if bom_encoding and bom:
        codec = normalise_encoding_name(bom_encoding) or "utf_8"
        return DecodedText(body[len(bom) :].decode(codec, errors="replace"), codec, "bom")

    declared = declared_encoding(body, content_type)
    text = _strict(body, "utf-8")
    if text is not None:
        # Valid UTF-8 wins over a legacy declaration: windows-1256 Arabic is never valid
        # UTF-8 by accident, while a stale charset=windows-1256 in a template is common.
        return DecodedText(text, "utf-8", "declared" if declared == "utf-8" else "utf-8")

    if declared and declared not in _UNTRUSTED_DECLARED and declared != "utf-8":
        text = _strict(body, declared)
        if text is not None:
            return DecodedText(text, declared, "declared")

    best = charset_normalizer.from_bytes(body).best()
    detected = normalise_encoding_name(best.encoding) if best is not None else None
    if best is not None and detected in _ARABIC_CHARSETS:
        return DecodedText(str(best), detected, "detected")
    # Any other guess (cp1252, or hp-roman8 on a short feed) loses to windows-1256 when
    # that reads as Arabic — judged on the non-ASCII letters only, since markup is ASCII
    # either way. Windows-1251 Cyrillic would read as Arabic too: such a source sets
    # ``encoding``.
    arabic = body.decode("cp1256", errors="replace")
    high = "".join(_NON_ASCII_LETTER.findall(arabic[:50000]))
    if high and arabic_ratio(high) > 0.5:
        return DecodedText(arabic, "cp1256", "detected")
    if best is not None and detected:
        return DecodedText(str(best), detected, "detected")
    return DecodedText(arabic, "cp1256", "fallback")


def arabic_ratio(text: str, sample: int = 50000) -> float:
    """Share of Arabic letters among all letters in ``text`` (0.0 when it has none).

    Measured on the first ``sample`` characters: a ratio does not need the whole page.
    """
    text = text[:sample]
    letters = len(_LETTER.findall(text))
    return len(_ARABIC_LETTER.findall(text)) / letters if letters else 0.0


def looks_like_mojibake(text: str) -> bool:
    """True when ``text`` looks like bytes decoded with the wrong charset.

    Three signs, each measured against the amount of text so that a French accent or a
    stray ``Ø`` in a Danish name does not trip it:

    - UTF-8 read as cp1252/latin-1 (``Ø§Ù„`` for ``ال``, ``Ã©`` for ``é``) or as
      windows-1256 (``ط§ظ„``);
    - windows-1256 Arabic read as cp1252 (``ÇáÚÑÈíÉ``): most letters in Latin-1
      Supplement and almost none Arabic;
    - replacement characters (U+FFFD) making up a visible share of the text.
    """
    sample = text[:20000]
    letters = sum(1 for ch in sample if ch.isalpha())
    if letters == 0:
        return False
    pairs = (
        len(_UTF8_AS_LATIN.findall(sample))
        + len(_UTF8_LATIN_AS_LATIN.findall(sample))
        + len(_UTF8_AS_CP1256.findall(sample))
    )
    if pairs >= 3 and pairs / letters > 0.05:
        return True
    latin1 = sum(1 for ch in sample if "\u00c0" <= ch <= "\u00ff")
    if letters >= 20 and latin1 / letters > 0.3 and arabic_ratio(sample) < 0.1:
        return True
    replacement = sample.count("\ufffd")
    return replacement >= 3 and replacement / letters > 0.02


def clean_text(text: str) -> str:
    """Drop control and format characters that have no place in stored text.

    Line breaks become ``\\n`` (CR LF and lone CR included); keeps ``\\t``; keeps ZWNJ/ZWJ
    (U+200C/D), which Persian and Urdu words need; drops the rest of category Cc/Cf (NUL,
    bidi overrides, BOMs), which a hostile page can use to smuggle content past a reader.
    """
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
