"""HTML article page → story fields. Pure functions: text and URL in, :class:`Article` out.

What goes into the body is decided in this order, because the failure that matters most
is a "most read" sidebar full of trigger words (كوريا الشمالية، روسيا، قوات) leaking into a
story about something else:

1. remove page furniture by tag (``nav``, ``aside``, ``footer``, ``form``, scripts, ...),
   by class/id (``sidebar``, ``most-read``, ``related``, ``comments``, ``share``, ...) and
   by heading (a block headed «الأكثر قراءة», «اقرأ أيضا», «مواضيع ذات صلة», ...);
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
from crawler.textstory import (
    BOILERPLATE_LINE,
    headline_from,
    normalise_agency,
    sign_off_agency,
    split_dateline,
)

TITLE_MAX = 300

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "footer",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "textarea",
    "input",
    "figcaption",
    "object",
    "embed",
)
# Class/id words that mark furniture. Matched on word parts, so "article-sidebar" and
# "mostRead" hit but "readable" does not.
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:side-?bar|most-?(?:read|viewed|popular)|popular|trending|related|"
    r"read-?more|more-?news|recommended|comments?|share|sharing|social|newsletter|"
    r"subscribe|breadcrumbs?|menu|navbar|nav|footer|site-?header|masthead|widget|"
    r"advert\w*|ads?|sponsor\w*|promo\w*|tags?|tag-?list|author-?bio|cookie\w*|"
    r"modal|popup|ticker|breaking-?bar)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Headings that introduce furniture blocks on Arabic news sites.
_FURNITURE_HEADING = re.compile(
    r"^\s*(?:الأكثر|الاكثر)\s+(?:قراءة|قراءه|مشاهدة|مشاهده|تداولا|تداولاً|شعبية)"
    r"|^\s*(?:اقرأ|إقرأ|اقرا)\s+(?:أيضا|أيضاً|ايضا|المزيد)"
    r"|^\s*(?:مواضيع|أخبار|اخبار|مقالات|قصص)\s+(?:ذات صلة|متعلقة|مشابهة)"
    r"|^\s*(?:شاهد|طالع)\s+(?:أيضا|أيضاً|ايضا)"
    r"|^\s*(?:المزيد من|آخر الأخبار|اخر الاخبار|أخبار متعلقة|التعليقات|تابعونا)"
    r"|^\s*(?:most\s+(?:read|viewed|popular)|related|read\s+more|trending)",
    re.IGNORECASE,
)
_BODY_CLASS = re.compile(
    r"article[-_]?(?:body|content|text)|story[-_]?(?:body|content|text)|entry[-_]?content|"
    r"post[-_]?(?:body|content)|news[-_]?(?:body|content|text)|content[-_]?body|"
    r"main[-_]?text|(?:^|\s)text(?:$|\s)",
    re.IGNORECASE,
)
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|»|·)\s+")
_TAG = re.compile(r"<[^>]{0,200}>")
_WS = re.compile(r"\s+")
_DATE_HINT = re.compile(r"date|time|publish|posted|\bmeta\b", re.IGNORECASE)
_BYLINE_HINT = re.compile(r"byline|author|source|agency|credit", re.IGNORECASE)

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


def _text(el: etree._Element) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _attr_words(el: etree._Element) -> str:
    value = f"{el.get('class', '')} {el.get('id', '')}"
    return _CAMEL.sub("-", value)


def _is_furniture(el: etree._Element) -> bool:
    words = _attr_words(el)
    if not words.strip() or not _FURNITURE.search(words):
        return False
    # Never throw away the article container for a class like "article has-comments".
    return not (el.get("itemprop") == "articleBody" or _BODY_CLASS.search(words))


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is not None:
        el.drop_tree()


def _link_density(el: etree._Element) -> float:
    total = len(_text(el))
    if not total:
        return 0.0
    linked = sum(len(_text(a)) for a in el.iter("a"))
    return linked / total


def _remove_furniture(root: etree._Element) -> None:
    for el in list(root.iter(*_DROP_TAGS)):
        _drop(el)
    for el in list(root.iter()):
        if isinstance(el.tag, str) and el.tag not in ("html", "body") and _is_furniture(el):
            _drop(el)
    for heading in list(root.iter("h2", "h3", "h4", "h5", "h6", "strong", "span", "div")):
        if heading.getparent() is None or len(_text(heading)) > 40:
            continue
        if not _FURNITURE_HEADING.search(_text(heading)):
            continue
        _drop_headed_block(heading)


def _drop_headed_block(heading: etree._Element) -> None:
    """Drop a furniture heading with the list that follows it, or its whole box."""
    parent = heading.getparent()
    # The heading's box, when the box is only this heading plus links: drop the box.
    if parent is not None and parent.tag not in ("body", "article", "main", "html"):
        if parent.get("itemprop") != "articleBody" and _link_density_without(parent, heading):
            _drop(parent)
            return
    sibling = heading.getnext()
    while sibling is not None and (
        sibling.tag in ("ul", "ol", "dl") or _link_density(sibling) > 0.5
    ):
        following = sibling.getnext()
        _drop(sibling)
        sibling = following
    _drop(heading)


def _link_density_without(box: etree._Element, heading: etree._Element) -> bool:
    heading_len = len(_text(heading))
    total = len(_text(box)) - heading_len
    if total <= 0:
        return True
    linked = sum(len(_text(a)) for a in box.iter("a"))
    return linked / total > 0.5 or (box.tag in ("section", "div") and bool(box.find(".//li")))


def _paragraphs_of(container: etree._Element) -> list[str]:
    blocks = [el for el in container.iter("p", "h2", "h3", "blockquote", "li") if _text(el)]
    # Nested blocks (<blockquote><p>) would be counted twice; keep the innermost.
    blocks = [el for el in blocks if not any(True for _ in el.iter("p") if _ is not el)]
    if not blocks:
        # Sites that separate paragraphs with <br> only.
        for br in container.iter("br"):
            br.tail = "\n" + (br.tail or "")
        raw = container.text_content()
        return [p for p in (_WS.sub(" ", line).strip() for line in raw.split("\n")) if p]
    paragraphs = []
    for el in blocks:
        if el.tag == "li" and el.getparent() is not None and _link_density(el) > 0.3:
            continue
        if _link_density(el) > 0.5:
            continue
        text = _text(el)
        if BOILERPLATE_LINE.match(text) or _FURNITURE_HEADING.match(text) and len(text) < 40:
            continue
        paragraphs.append(text)
    return paragraphs


def _body_container(root: etree._Element) -> etree._Element | None:
    for xpath in ('//*[@itemprop="articleBody"]', "//article"):
        found = root.xpath(xpath)
        if found:
            return max(found, key=lambda el: len(_text(el)))
    for el in root.iter():
        if isinstance(el.tag, str) and _BODY_CLASS.search(_attr_words(el)) and _text(el):
            return el
    best: etree._Element | None = None
    best_score = 0
    for el in root.iter("div", "section", "main", "td"):
        score = sum(len(_text(p)) for p in el.findall("p"))
        if score > best_score:
            best, best_score = el, score
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


def _title(root: etree._Element, jsonld: list[dict[str, object]]) -> str:
    og = _meta(root, "og:title", "twitter:title")
    if og:
        return clean_title(og)
    for h1 in root.iter("h1"):
        if _text(h1):
            return clean_title(_text(h1))
    for obj in jsonld:
        headline = obj.get("headline")
        if isinstance(headline, str) and headline.strip():
            return clean_title(headline)
    title_el = root.find(".//title")
    if title_el is not None and _text(title_el):
        parts = _TITLE_SEPARATORS.split(_text(title_el))
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
        if el.tag == "time" or _DATE_HINT.search(_attr_words(el)):
            found = find_arabic_date(_text(el)[:200])
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
        if isinstance(el.tag, str) and _BYLINE_HINT.search(_attr_words(el)):
            text = _text(el)
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
    title = _title(root, jsonld) or clean_title(title_hint)
    published = _published(root, jsonld, published_hint)
    byline = _byline_agency(root, jsonld)

    _remove_furniture(root)
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
    if paragraphs:
        found = split_dateline(paragraphs[0])
        if found:
            dateline = found.place
            paragraphs[0] = found.rest
            if found.agency:
                agency = agency or normalise_agency(found.agency) or found.agency
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
