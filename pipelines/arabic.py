"""Arabic text normalisation: pure functions, no I/O.

``fold`` maps every spelling variant that should compare equal to one form:
harakat and tatweel removed, bidi and zero-width marks removed, alef/hamza forms → ا,
ى → ي, ة → ه, Persian letters → Arabic, Arabic-Indic and Persian digits → ASCII,
Latin lower-cased.  ``words`` splits folded text into word tokens.
"""

from __future__ import annotations

import re
import unicodedata

_HARAKAT = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c\u00ad]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ی": "ي",
        "ي": "ي",
        "ک": "ك",
        "گ": "ك",
        "پ": "ب",
        "چ": "ج",
        "ژ": "ز",
        "ڤ": "ف",
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Fold ``text`` for comparison: «وَالجُنُودُ» → «والجنود», «٢٠٢٤» → «2024».

    Marks are removed before NFKC so that an isolated haraka never splits a word.
    """
    text = _INVISIBLE.sub("", text)
    text = _HARAKAT.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _HARAKAT.sub("", text)
    return text.translate(_LETTERS).lower()


def words(text: str) -> list[str]:
    """Word tokens of already folded text (underscores are not words)."""
    return [w for w in _WORD.findall(text) if w != "_" * len(w)]
