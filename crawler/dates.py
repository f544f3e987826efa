"""Publication dates from feeds, sitemaps and pages, always as timezone-aware UTC.

Machine formats (ISO 8601 / W3C-DTF, RFC 822 from RSS) are parsed directly; Arabic date
text goes through dateparser with explicit locales only — ``ar-LB`` reads both the
Levantine months (تشرين الثاني، كانون الأول) and the Egyptian ones (نوفمبر، ديسمبر), and
auto-detection would be ~100× slower. A date with no zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from email.utils import parsedate_to_datetime

import dateparser

_MONTHS = (
    "يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|اغسطس|"
    "سبتمبر|أكتوبر|اكتوبر|نوفمبر|ديسمبر|"
    "كانون الثاني|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز|آب|اب|أيلول|ايلول|"
    "تشرين الأول|تشرين الاول|تشرين الثاني|كانون الأول|كانون الاول"
)
_DIGITS = r"[0-9٠-٩]"
# «1 نوفمبر 2024», «١ تشرين الثاني ٢٠٢٤ - 10:30»: day, month name, year, optional time.
_ARABIC_DATE = re.compile(
    rf"{_DIGITS}{{1,2}}\s*(?:{_MONTHS})\s*[،,]?\s*{_DIGITS}{{4}}"
    rf"(?:\s*[-–،,|]?\s*(?:الساعة\s*)?{_DIGITS}{{1,2}}:{_DIGITS}{{2}}(?:\s*[صم])?)?"
)
_DATEPARSER_SETTINGS = {
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DATES_FROM": "past",
}
# Earliest and latest plausible publication dates: reject "0001-01-01" placeholders and
# far-future typos rather than store them.
_MIN_YEAR, _MAX_YEAR = 1990, 2100


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken as already UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _plausible(value: datetime | None) -> datetime | None:
    if value is None or not (_MIN_YEAR <= value.year <= _MAX_YEAR):
        return None
    return to_utc(value)


def parse_date(value: str | datetime | date | None) -> datetime | None:
    """Parse a machine-readable date (ISO 8601, W3C-DTF, RFC 822) to UTC, else None.

    Accepts datetimes (converted to UTC) and dates (midnight UTC). Arabic text is left to
    :func:`find_arabic_date`; anything unparseable or implausible gives None, never an
    exception.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _plausible(value)
    if isinstance(value, date):
        return _plausible(datetime.combine(value, time(), tzinfo=timezone.utc))
    text = value.strip()
    if not text or len(text) > 64:
        return None
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return _plausible(datetime.fromisoformat(iso))
    except ValueError:
        pass
    try:
        return _plausible(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    # Near-ISO stragglers ("2024-11-01 10:30:00 +0300", "2024/11/01") — English only, so
    # dateparser does not go guessing languages.
    if re.match(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}", text):
        return _plausible(dateparser.parse(text, languages=["en"], settings=_DATEPARSER_SETTINGS))
    return None


def find_arabic_date(text: str) -> datetime | None:
    """The first Arabic date written out in ``text`` («الجمعة 1 تشرين الثاني 2024»), UTC.

    Only a day-month-year phrase with a month name is taken, so stray numbers and
    relative phrases («منذ ساعتين») are ignored.
    """
    match = _ARABIC_DATE.search(text)
    if not match:
        return None
    phrase = match.group(0)
    found = dateparser.parse(phrase, locales=["ar-LB"], settings=_DATEPARSER_SETTINGS)
    if found is None:
        found = dateparser.parse(phrase, languages=["ar"], settings=_DATEPARSER_SETTINGS)
    return _plausible(found)
