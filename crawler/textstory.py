"""The seed text-story format, and the wire conventions it shares with web pages.

A text story is plain UTF-8::

     date 2024-11-01 موسكو: أكدت وزيرة الخارجية الكورية الشمالية ...   ← optional date line
    سول – (رويترز): ذكرت وسائل إعلام رسمية ...                          ← dateline + agency
    ...one paragraph per line, or paragraphs separated by blank lines...
    (أ ف ب)                                                             ← agency sign-off
    هل ترغب بالتعليق على الموضوع؟                                       ← site boilerplate

The date line may be indented and may carry the start of the story on the same line.
:func:`parse_text_story` turns that into title/body/published/agency/dateline; the
dateline, agency and boilerplate helpers are reused by :mod:`crawler.extract` for pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from crawler.encoding import clean_text

# Agency spellings → canonical name. Keys are folded with _agency_key (no spaces, dots,
# hamza forms or "وكالة"), so "أ ف ب", "ا.ف.ب" and "(أ ف ب)" all land on "افب".
_AGENCIES: dict[str, str] = {
    "رويترز": "Reuters",
    "reuters": "Reuters",
    "افب": "AFP",
    "فرانسبرس": "AFP",
    "afp": "AFP",
    "الاناضول": "Anadolu",
    "اناضول": "Anadolu",
    "anadolu": "Anadolu",
    "اب": "AP",
    "اسوشيتدبرس": "AP",
    "اسوشيتيدبرس": "AP",
    "ap": "AP",
    "دبا": "dpa",
    "dpa": "dpa",
    "وام": "WAM",
    "واس": "SPA",
    "قنا": "QNA",
    "كونا": "KUNA",
    "سانا": "SANA",
    "شينخوا": "Xinhua",
    "xinhua": "Xinhua",
    "بترا": "Petra",
    "واع": "INA",
    "وفا": "WAFA",
    "بنا": "BNA",
    "العمانيه": "ONA",
    "ومع": "MAP",
    "واج": "APS",
    "اشا": "MENA",
    "سبا": "Saba",
    "وات": "TAP",
    "سبوتنيك": "Sputnik",
    "تاس": "TASS",
    "نوفوستي": "RIA Novosti",
    "ريانوفوستي": "RIA Novosti",
    "يونهاب": "Yonhap",
    "ارنا": "IRNA",
    "ايفي": "EFE",
    "كيودو": "Kyodo",
    "يو بي اي": "UPI",
    "يوبياي": "UPI",
}

_AGENCY_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_AGENCY_NOISE = re.compile(r"[\s.·()\[\]«»\"'/\\-]+")

# Trailing site furniture in scraped text stories, matched on a whole line.
BOILERPLATE_LINE = re.compile(
    r"^\s*(?:"
    r"هل ترغب (?:ب|في )?التعليق.*"
    r"|لا تتردد في (?:إعطاء|اعطاء) تعليقك.*"
    r"|(?:شارك|شاركوا|تابعنا|تابعونا)(?: [^\n]{0,40})?(?:على|عبر) .*"
    r"|(?:اقرأ|إقرأ|اقرا) (?:أيضا|أيضاً|ايضا|المزيد).*"
    r"|(?:جميع|كل) الحقوق محفوظة.*"
    r"|أضف تعليق(?:ك|ا)?.*"
    r"|التعليقات"
    r"|©.*"
    r")\s*$"
)

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4})-(\d{2})-(\d{2})\b[ \t]*(.*)$", re.IGNORECASE)

# «سول – (رويترز):», «موسكو:», «واشنطن (أ ف ب) -», «القاهرة - الأناضول:». The place is one
# to three words without digits or sentence punctuation, so an opening «قال الوزير:» with
# more words, or a number, is not mistaken for a dateline.
_DATELINE = re.compile(
    r"^\s*(?P<place>[^\W\d_](?:[^\W\d_]|[ '’-](?=[^\W\d_])){0,30}?)"
    r"\s*(?:[–—-]\s*)?"
    r"(?:[(\[]\s*(?P<agency>[^()\[\]\n]{1,30}?)\s*[)\]]\s*)?"
    r"(?P<sep>[:：]|[–—-](?=\s))\s*"
)
# «قال المتحدث: ...» opens with a quote, not a place.
_SPEECH_VERBS = frozenset(
    "قال قالت وقال وقالت أعلن أعلنت وأعلن وأعلنت أكد أكدت وأكد وأكدت أضاف أضافت وأضاف "
    "وأضافت ذكر ذكرت وذكر وذكرت أوضح أوضحت وأوضح وأوضحت تابع وتابع كتب كتبت وكتب".split()
)
_SIGN_OFF = re.compile(r"^\s*[(\[]?\s*(?P<agency>[^()\[\]\n]{1,30}?)\s*[)\]]?\s*\.?\s*$")
_SENTENCE_END = re.compile(r"[.!؟?](?=\s|$)")

TITLE_MAX = 140
HEADLINE_MAX = 150
# A headline may end with a question or a quote («هل تصمد الهدنة؟», «بوتين: "سنرد"»), not
# like a sentence, a list or a dateline.
_HEADLINE_END = re.compile(r"[.:،,؛;…]\s*$")


@dataclass(frozen=True)
class TextStory:
    """A parsed text story. ``body`` holds paragraphs separated by a blank line."""

    title: str
    body: str
    published: datetime | None
    agency: str | None
    dateline: str | None


def _agency_key(text: str) -> str:
    text = text.translate(_AGENCY_FOLD).lower()
    text = re.sub(r"^وكال[هة]\s*", "", text.strip(" ()[]"))
    return _AGENCY_NOISE.sub("", text)


def normalise_agency(text: str | None) -> str | None:
    """Canonical agency name for ``text`` (``"ا ف ب"`` → ``"AFP"``), else None.

    Only known agencies are recognised; callers decide what to do with unknown names.
    """
    if not text:
        return None
    key = _agency_key(text)
    if key in _AGENCIES:
        return _AGENCIES[key]
    # «رويترز وأ ف ب» or «الأناضول - خاص»: take the first known agency mentioned.
    for part in re.split(r"\s+و(?=\S)|[,،/+-]", text):
        found = _AGENCIES.get(_agency_key(part))
        if found:
            return found
    return None


@dataclass(frozen=True)
class Dateline:
    """The dateline opening a paragraph: place, raw agency text, and what follows it."""

    place: str
    agency: str | None
    rest: str


def split_dateline(paragraph: str) -> Dateline | None:
    """Split «سول – (رويترز): ذكرت ...» into place, agency and the rest of the paragraph.

    A bare «موسكو: ...» has no agency. Returns None when the paragraph does not open with a
    dateline, or when removing it would leave nothing.
    """
    match = _DATELINE.match(paragraph)
    if not match:
        return None
    place = match.group("place").strip()
    agency = match.group("agency")
    # A dash-separated opening is only a dateline when it also names an agency:
    # «موسكو - أكدت» is ambiguous, «موسكو (أ ف ب) - أكدت» is not.
    if match.group("sep") != ":" and not (agency and normalise_agency(agency)):
        return None
    words = place.split()
    if len(words) > 3 or words[0] in _SPEECH_VERBS:
        return None
    rest = paragraph[match.end() :].strip()
    if not rest:
        return None
    return Dateline(place=place, agency=agency.strip() if agency else None, rest=rest)


def matched_body(body: str, dateline: str | None) -> str:
    """The body as watch rules read it: the dateline that the stored body leaves out
    stays in front («موسكو: أكدت ...»).  Where a story was filed is often what it is
    about, and a one-line «عراقجي: لا مفاوضات مباشرة» names its speaker there."""
    return f"{dateline}: {body}" if dateline and body else body


def sign_off_agency(line: str) -> str | None:
    """Agency named by a sign-off line such as «(أ ف ب)» or «رويترز», else None."""
    match = _SIGN_OFF.match(line)
    if not match or len(line) > 40:
        return None
    return normalise_agency(match.group("agency"))


def headline_from(text: str, limit: int = TITLE_MAX) -> str:
    """A headline for a story that has none: its first sentence, trimmed to ``limit``.

    Cuts at the sentence end; a longer sentence is cut at a comma (،) or, failing that,
    at a word boundary, and marked with «…».
    """
    text = " ".join(text.split())
    end = _SENTENCE_END.search(text)
    sentence = text[: end.start()] if end else text
    if len(sentence) <= limit:
        return sentence.strip()
    head = sentence[:limit]
    comma = max(head.rfind("،"), head.rfind(","))
    if comma >= limit // 3:
        return head[:comma].strip()
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip(" ،,؛;:-–") + "…"


def _is_bare_dateline(line: str) -> bool:
    found = split_dateline(f"{line} …")
    return found is not None and found.rest == "…"


def _looks_like_headline(line: str) -> bool:
    """A short line of several words that does not end like a sentence or a dateline.

    «بوتين: سنرد على أي هجوم» is a headline (speaker, colon, words), though its start is
    shaped like a dateline: a real dateline opens the story's first paragraph, which runs
    on past a headline's length or ends with a full stop.
    """
    return (
        len(line) <= HEADLINE_MAX
        and len(line.split()) >= 3
        and not _HEADLINE_END.search(line)
        and sign_off_agency(line) is None
    )


def _paragraphs(text: str) -> list[str]:
    # Seeds use either one paragraph per line or blank-line-separated paragraphs; a line
    # is a paragraph in both.
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def parse_text_story(text: str) -> TextStory:
    """Parse a text story (see the module docstring) into its parts.

    ``published`` comes only from the ``date`` line (midnight UTC); the body has the date
    line, dateline, sign-off and trailing boilerplate removed. Never raises; an empty or
    all-boilerplate text gives an empty body, which the caller skips.
    """
    text = clean_text(text.lstrip("\ufeff"))
    published: datetime | None = None
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = _DATE_LINE.match(line)
        if match:
            year, month, day, rest = match.groups()
            try:
                published = datetime(int(year), int(month), int(day), tzinfo=timezone.utc)
            except ValueError:
                published = None
            lines[index] = rest
        break
    paragraphs = [p for p in _paragraphs("\n".join(lines)) if not BOILERPLATE_LINE.match(p)]

    # A dateline alone on its line («سول – (رويترز):») opens the paragraph after it.
    if len(paragraphs) >= 2 and _is_bare_dateline(paragraphs[0]):
        paragraphs[0:2] = [f"{paragraphs[0]} {paragraphs[1]}"]
    # The seeds carry no headline, but a text file that does starts with a short line
    # that is not a sentence; use it rather than deriving one.
    headline: str | None = None
    if len(paragraphs) >= 2 and _looks_like_headline(paragraphs[0]):
        headline = paragraphs.pop(0)

    agency_text: str | None = None
    agency: str | None = None
    if paragraphs:
        signed = sign_off_agency(paragraphs[-1])
        if signed:
            agency = signed
            paragraphs.pop()

    dateline: str | None = None
    if paragraphs:
        found = split_dateline(paragraphs[0])
        if found:
            dateline = found.place
            agency_text = found.agency
            paragraphs[0] = found.rest
    if agency is None and agency_text:
        agency = normalise_agency(agency_text) or agency_text

    body = "\n\n".join(paragraphs)
    if headline and body:
        title = headline if len(headline) <= TITLE_MAX else headline_from(headline)
    else:
        title = headline_from(paragraphs[0]) if paragraphs else ""
    return TextStory(title=title, body=body, published=published, agency=agency, dateline=dateline)
