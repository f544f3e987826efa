"""crawler.encoding: charset choice and the mojibake check, table-driven."""

from __future__ import annotations

import pytest

from crawler.encoding import (
    arabic_ratio,
    clean_text,
    declared_encoding,
    decode_body,
    looks_like_mojibake,
    normalise_encoding_name,
)

ARABIC = "ذكرت وسائل إعلام رسمية في كوريا الشمالية أن الزعيم أبلغ وزير الخارجية الروسي"
PAGE = f"<html><head><title>خبر</title></head><body><p>{ARABIC}</p></body></html>"
META_1256 = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
META_PAGE = PAGE.replace("<head>", "<head>" + META_1256)


@pytest.mark.parametrize(
    ("body", "content_type", "override", "encoding", "how"),
    [
        (PAGE.encode("utf-8"), None, None, "utf-8", "utf-8"),
        # A stale windows-1256 declaration over UTF-8 bytes: the bytes win.
        (META_PAGE.encode("utf-8"), "text/html", None, "utf-8", "utf-8"),
        (PAGE.encode("utf-8"), "text/html; charset=windows-1256", None, "utf-8", "utf-8"),
        (PAGE.encode("utf-8"), "text/html; charset=utf-8", None, "utf-8", "declared"),
        (b"\xef\xbb\xbf" + PAGE.encode("utf-8"), None, None, "utf-8", "bom"),
        # Undeclared windows-1256: detected, not read as cp1252.
        (PAGE.encode("cp1256"), "text/html", None, "cp1256", "detected"),
        # Declared in <meta> only.
        (META_PAGE.encode("cp1256"), "text/html", None, "cp1256", "declared"),
        # Declared in the header.
        (PAGE.encode("cp1256"), "text/html; charset=windows-1256", None, "cp1256", "declared"),
        # A server default of iso-8859-1 proves nothing.
        (PAGE.encode("cp1256"), "text/html; charset=ISO-8859-1", None, "cp1256", "detected"),
        # A lying utf-8 declaration over cp1256 bytes.
        (PAGE.encode("cp1256"), "text/html; charset=utf-8", None, "cp1256", "detected"),
        # The source override wins over everything.
        (PAGE.encode("cp1256"), "text/html; charset=utf-8", "windows-1256", "cp1256", "override"),
    ],
)
def test_decode_body(
    body: bytes, content_type: str | None, override: str | None, encoding: str, how: str
) -> None:
    decoded = decode_body(body, content_type=content_type, override=override)
    assert ARABIC in decoded.text
    assert (decoded.encoding, decoded.how) == (encoding, how)
    assert not looks_like_mojibake(decoded.text)


@pytest.mark.parametrize(
    ("text", "charset", "encoding"),
    [
        ("<p>خبر عاجل</p>", "cp1256", "cp1256"),  # too short for the detector alone
        (
            "<p>Le ministre a été reçu à l'Élysée où il a évoqué la sécurité européenne "
            "et la coopération économique à Genève.</p>",
            "cp1252",
            None,
        ),
    ],
)
def test_detection_on_undeclared_legacy_bytes(
    text: str, charset: str, encoding: str | None
) -> None:
    decoded = decode_body(text.encode(charset))
    if encoding:
        assert (decoded.text, decoded.encoding) == (text, encoding)
    else:
        # Latin text is left to the detector (which may pick a neighbouring Latin
        # charset); what matters here is that it is never turned into Arabic.
        assert arabic_ratio(decoded.text) == 0
    assert not looks_like_mojibake(decoded.text)


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(LookupError):
        decode_body(b"x", override="no-such-charset")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Windows-1256", "cp1256"),
        ("utf8", "utf-8"),
        ("ISO-8859-1", "cp1252"),
        ("", None),
        ("bogus", None),
        (None, None),
    ],
)
def test_normalise_encoding_name(name: str | None, expected: str | None) -> None:
    assert normalise_encoding_name(name) == expected


def test_declared_encoding_header_before_meta() -> None:
    body = META_PAGE.encode("cp1256")
    assert declared_encoding(body, "text/html; charset=utf-8") == "utf-8"
    assert declared_encoding(body, None) == "cp1256"
    assert declared_encoding(b"<?xml version='1.0' encoding='windows-1256'?><a/>", None) == "cp1256"


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        (ARABIC, False),
        ("North Korea sent troops to Russia, officials said on Saturday.", False),
        ("Le ministre a été reçu à l'Élysée où il a évoqué la sécurité européenne.", False),
        ("Søren Kierkegaard og Ørsted", False),
        ("", False),
        ("1234 5678", False),
        # UTF-8 Arabic read as cp1252.
        (ARABIC.encode("utf-8").decode("cp1252", errors="replace"), True),
        # UTF-8 Arabic read as windows-1256.
        (ARABIC.encode("utf-8").decode("cp1256"), True),
        # Arabic that merely ends words in ط/ظ next to punctuation and quotes.
        ("قال «الضبط» فقط… ثم ضبط، وحفظ؛ " * 5, False),
        # windows-1256 Arabic read as cp1252.
        (ARABIC.encode("cp1256").decode("cp1252", errors="replace"), True),
        # UTF-8 Latin read as cp1252.
        ("Le ministre a Ã©tÃ© reÃ§u Ã  lâ€™Ã‰lysÃ©e oÃ¹ il a Ã©voquÃ© la sÃ©curitÃ©.", True),
        # Mostly replacement characters.
        ("\ufffd\ufffd\ufffd ab \ufffd\ufffd cd \ufffd\ufffd\ufffd", True),
    ],
)
def test_looks_like_mojibake(text: str, bad: bool) -> None:
    assert looks_like_mojibake(text) is bad


@pytest.mark.parametrize(
    ("text", "ratio"), [(ARABIC, 1.0), ("abc", 0.0), ("", 0.0), ("ab كو", 0.5)]
)
def test_arabic_ratio(text: str, ratio: float) -> None:
    assert arabic_ratio(text) == pytest.approx(ratio)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\x00b\x1bc", "abc"),
        ("\u202eevil\u202c", "evil"),  # bidi override
        ("مي\u200cخواهم", "مي\u200cخواهم"),  # ZWNJ kept
        ("tab\there", "tab\there"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
