"""HTML article page → story fields. Pure functions: text and URL in, :class:`Article` out.

What goes into the body is decided in this order, because the failure that matters most
is a "most read" sidebar full of trigger words (كوريا الشمالية، روسيا، قوات) leaking into a
story about something else:

1. remove page furniture (:mod:`crawler.furniture`) by tag (``nav``, ``aside``,
   ``footer``, ...), by class/id (``sidebar``, ``most-read``, ``related``, ``comments``,
   ...) and by heading (a block headed «الأكثر قراءة», «اقرأ أيضا», «مواضيع ذات صلة»);
2. pick the body container: ``itemprop=articleBody``, then ``<article>``, then a
   class/id such as ``article-body``/``entry-content``, then the block with the most
   paragraph text;
3. keep its paragraphs, dropping link lists (link density > 0.5) and boilerplate lines.

Dates: the caller's hint (feed/sitemap) → JSON-LD ``datePublished`` → meta
``article:published_time`` and friends → ``<time datetime>`` → Arabic date text, parsed
by dateparser with explicit locales (auto-detection is ~100× slower). Always UTC.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree, html

from crawler.dates import find_arabic_date, parse_date
from crawler.encoding import arabic_ratio, clean_text
from crawler.furniture import (
    BODY_CLASS,
    FURNITURE_HEADING,
    attr_words,
    drop,
    remove_furniture,
    short_text,
    text_of,
)
from crawler.textstory import (
    BOILERPLATE_LINE,
    headline_from,
    normalise_agency,
    sign_off_agency,
    split_dateline,
)

TITLE_MAX = 300

_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|»|·)\s+")
_TAG = re.compile(r"<[^>]{0,200}>")
_WS = re.compile(r"\s+")
_DATE_HINT = re.compile(r"date|time|publish|posted|\bmeta\b", re.IGNORECASE)
_BYLINE_HINT = re.compile(r"byline|author|source|agency|credit", re.IGNORECASE)
# Blocks inside the body container that carry metadata or captions, not article text.
_NOT_TEXT = re.compile(
    r"date|time|byline|author|caption|credit|photo|image|meta|breadcrumb|label|kicker",
    re.IGNORECASE,
)
_DATE_ONLY = 60  # a block this short that holds a date is the dateline of the page

_PARSER = html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)


@dataclass(frozen=True)
class Article:
    """Fields extracted from one article page. ``body`` paragraphs are joined by "\\n\\n"."""

    title: str
    body: str
    published: datetime | None
    agency: str | None
    dateline: str | None
    language: str


def clean_title(text: str | None) -> str:
    """One line of plain text: markup removed, every whitespace run (CR/LF too) → one space.

    Crawled titles end up in email subjects and console lines; a title carrying
    ``\\r\\nBcc: ...`` must not become a header, so no line break survives here.
    """
    if not text:
        return ""
    text = clean_text(_TAG.sub(" ", text))
    text = _WS.sub(" ", text).strip()
    if len(text) > TITLE_MAX:
        text = text[: TITLE_MAX - 1].rstrip() + "…"
    return text


def _paragraphs_of(container: etree._Element) -> list[str]:
    """The text blocks of the body container, minus link lists and boilerplate lines."""
    # Nested blocks (<blockquote><p>) would be counted twice; keep the innermost.
    blocks = [
        el
        for el in container.iter("p", "h2", "h3", "blockquote", "li")
        if el.tag == "p" or el.find(".//p") is None
    ]
    if not any(text_of(el) for el in blocks):
        # Sites that separate paragraphs with <br> only.
        for br in container.iter("br"):
            br.tail = "\n" + (br.tail or "")
        raw = container.text_content()
        return [p for p in (_WS.sub(" ", line).strip() for line in raw.split("\n")) if p]
    paragraphs = []
    for el in blocks:
        text = text_of(el)
        if not text:
            continue
        linked = sum(len(text_of(a)) for a in el.iter("a")) / len(text)
        # List items are headline lists more often than article text: a stricter bar.
        if linked > (0.3 if el.tag == "li" else 0.5):
            continue
        if BOILERPLATE_LINE.match(text) or (FURNITURE_HEADING.match(text) and len(text) < 40):
            continue
        if _NOT_TEXT.search(attr_words(el)) or (
            len(text) <= _DATE_ONLY and find_arabic_date(text) is not None
        ):
            continue
        paragraphs.append(text)
    return paragraphs


def _body_container(root: etree._Element) -> etree._Element | None:
    """The element holding the article text.

    Marked-up containers win (``articleBody``, ``<article>``, an ``article-body``-like
    class) unless they hold far less text than the densest paragraph block — which is
    what a page whose ``<article>`` elements are teaser cards looks like.
    """
    best: etree._Element | None = None
    best_score = 0
    for el in root.iter("body", "div", "section", "main", "td", "article"):
        score = sum(len(text_of(p)) for p in el.findall("p"))
        if score > best_score:
            best, best_score = el, score
    groups = [
        root.xpath('//*[@itemprop="articleBody"]'),
        root.xpath("//article"),
        [el for el in root.iter() if isinstance(el.tag, str) and BODY_CLASS.search(attr_words(el))],
    ]
    for group in groups:
        if not group:
            continue
        largest = max(group, key=lambda el: len(text_of(el)))
        size = len(text_of(largest))
        if size and size >= 0.3 * best_score:
            return largest
    return best


def _meta(root: etree._Element, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            found = root.xpath(f'//meta[@{attr}="{name}"]/@content')
            if found and str(found[0]).strip():
                return str(found[0]).strip()
    return None


def _jsonld_objects(root: etree._Element) -> list[dict[str, object]]:
    objects: list[dict[str, object]] = []
    for script in root.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack and len(objects) < 50:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return objects


def _strip_site_name(title: str, site: str | None) -> str:
    """«عنوان الخبر | وكالة الأخبار» → «عنوان الخبر» when the suffix is the site's name."""
    if not site:
        return title
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) > 1 and site.strip() in (parts[0].strip(), parts[-1].strip()):
        kept = parts[1:] if parts[0].strip() == site.strip() else parts[:-1]
        return " - ".join(kept)
    return title


def _title(root: etree._Element, jsonld: list[dict[str, object]]) -> str:
    """og:title → the article's <h1> → a headline element → JSON-LD → <title>."""
    site = _meta(root, "og:site_name", "application-name")
    og = _meta(root, "og:title", "twitter:title")
    if og:
        return clean_title(_strip_site_name(og, site))
    for h1 in root.iter("h1"):
        # A site logo is often an <h1> in the page header; it is not the headline.
        if h1.xpath("ancestor::header|ancestor::nav") or "logo" in attr_words(h1).lower():
            continue
        if text_of(h1):
            return clean_title(text_of(h1))
    for el in root.xpath('//*[contains(@class, "headline") or contains(@itemprop, "headline")]'):
        if el.tag != "meta" and 0 < len(text_of(el)) <= TITLE_MAX:
            return clean_title(text_of(el))
    for obj in jsonld:
        headline = obj.get("headline")
        if isinstance(headline, str) and headline.strip():
            return clean_title(headline)
    title_el = root.find(".//title")
    if title_el is not None and text_of(title_el):
        parts = _TITLE_SEPARATORS.split(text_of(title_el))
        return clean_title(max(parts, key=len))
    return ""


def _published(
    root: etree._Element, jsonld: list[dict[str, object]], hint: datetime | None
) -> datetime | None:
    if hint is not None:
        return parse_date(hint)
    for obj in jsonld:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            value = obj.get(key)
            if isinstance(value, str) and (found := parse_date(value)):
                return found
    value = _meta(
        root,
        "article:published_time",
        "og:published_time",
        "datePublished",
        "pubdate",
        "publishdate",
        "date",
        "DC.date.issued",
        "dc.date",
        "sailthru.date",
    )
    if value and (found := parse_date(value)):
        return found
    for time_el in root.iter("time"):
        value = time_el.get("datetime") or time_el.get("content")
        if value and (found := parse_date(value)):
            return found
    # Arabic date text: look in elements that say they hold a date first, then anywhere
    # before the body would be too loose, so only those and <time> text.
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "time" or _DATE_HINT.search(attr_words(el)):
            found = find_arabic_date(short_text(el, 200)[:200])
            if found:
                return found
    return None


def _byline_agency(root: etree._Element, jsonld: list[dict[str, object]]) -> str | None:
    for obj in jsonld:
        for key in ("author", "publisher", "sourceOrganization"):
            value = obj.get(key)
            names = value if isinstance(value, list) else [value]
            for item in names:
                name = item.get("name") if isinstance(item, dict) else item
                if isinstance(name, str) and (found := normalise_agency(name)):
                    return found
    for el in root.iter():
        if isinstance(el.tag, str) and _BYLINE_HINT.search(attr_words(el)):
            text = short_text(el, 80)
            if 0 < len(text) <= 80:
                for token in re.split(r"[:|،,/]|\s[-–]\s", text):
                    found = normalise_agency(token.replace("المصدر", "").replace("بقلم", ""))
                    if found:
                        return found
    return None


def _language(root: etree._Element, body: str) -> str:
    declared = (root.get("lang") or "").split("-")[0].strip().lower()
    if declared and declared.isalpha() and len(declared) <= 3:
        return declared
    return "ar" if arabic_ratio(body) >= 0.5 else "und"


def extract_article(
    text: str,
    url: str,
    *,
    title_hint: str | None = None,
    published_hint: datetime | None = None,
) -> Article:
    """Extract an article from decoded HTML ``text`` fetched from ``url``.

    ``title_hint`` and ``published_hint`` come from the feed or sitemap; the hint date
    wins (the feed is the wire's own record), the hint title is used only when the page
    has none. Never raises on bad HTML; a page without article text gives ``body == ""``
    and the caller skips it.
    """
    if not text.strip():
        return Article(clean_title(title_hint), "", parse_date(published_hint), None, None, "und")
    try:
        root = html.document_fromstring(text, parser=_PARSER, base_url=url)
    except (etree.ParserError, ValueError):
        return Article(clean_title(title_hint), "", parse_date(published_hint), None, None, "und")

    jsonld = _jsonld_objects(root)
    # Script and style text must not leak into the title or a byline.
    for el in list(root.iter("script", "style", "noscript", "template")):
        drop(el)
    title = _title(root, jsonld) or clean_title(title_hint)
    published = _published(root, jsonld, published_hint)
    byline = _byline_agency(root, jsonld)

    remove_furniture(root)
    container = _body_container(root)
    paragraphs = [clean_text(p) for p in _paragraphs_of(container)] if container is not None else []
    paragraphs = [p for p in paragraphs if p.strip()]
    # The headline often repeats as the first block inside <article>.
    if paragraphs and title and paragraphs[0] == title:
        paragraphs.pop(0)

    agency: str | None = None
    dateline: str | None = None
    if paragraphs:
        signed = sign_off_agency(paragraphs[-1])
        if signed:
            agency = signed
            paragraphs.pop()
    # The dateline opens the first paragraph, or the second when a standfirst (<h2>)
    # comes first — there only in its unambiguous form, with a known agency.
    for index, paragraph in enumerate(paragraphs[:2]):
        found = split_dateline(paragraph)
        if found and (index == 0 or normalise_agency(found.agency)):
            dateline = found.place
            paragraphs[index] = found.rest
            if found.agency:
                agency = agency or normalise_agency(found.agency) or found.agency
            break
    agency = agency or byline

    body = "\n\n".join(paragraphs)
    if not title and paragraphs:
        title = clean_title(headline_from(paragraphs[0]))
    return Article(
        title=title,
        body=body,
        published=published,
        agency=agency,
        dateline=dateline,
        language=_language(root, body),
    )
