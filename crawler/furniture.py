"""Page furniture removal for :mod:`crawler.extract`: navigation, sidebars, "most read".

A «الأكثر قراءة» box is a list of other stories' headlines — exactly the trigger words
(كوريا الشمالية، روسيا، قوات) a watch rule looks for — so it must never reach a body.
Furniture is recognised three ways, each cheap and each guarded so that the article
itself is never thrown away:

- by tag: ``nav``, ``aside``, ``footer``, ``form``, scripts, ...;
- by class/id words: ``sidebar``, ``most-read``/``mostRead``, ``related``, ``comments``,
  ``share``, ... — unless the element holds the article (``<article>``, ``articleBody``,
  the ``<h1>``, or most of the page's paragraph text);
- by heading: a short element reading «الأكثر قراءة», «اقرأ أيضا», «مواضيع ذات صلة», ...
  takes its box with it when the box is mostly links or short, else the list after it.
"""

from __future__ import annotations

import re

from lxml import etree

DROP_TAGS = (
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
    "figure",
    "figcaption",
    "object",
    "embed",
)
# Class/id words that mark furniture, matched on word parts: "article-sidebar" and
# "mostRead" (camelCase is split first) hit, "readable" does not.
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:side-?bar|most-?(?:read|viewed|popular)|popular|trending|related|"
    r"read-?more|more-?news|recommended|comments?|share|sharing|social|newsletter|"
    r"subscribe|breadcrumbs?|menu|navbar|nav|footer|site-?header|masthead|widget|"
    r"advert\w*|ads?|sponsor\w*|promo\w*|tags?|tag-?list|author-?bio|cookie\w*|"
    r"modal|popup|ticker|breaking-?bar)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Headings that introduce furniture blocks on Arabic (and English) news sites.
FURNITURE_HEADING = re.compile(
    r"^\s*(?:الأكثر|الاكثر)\s+(?:قراءة|قراءه|مشاهدة|مشاهده|تداولا|تداولاً|شعبية)"
    r"|^\s*(?:اقرأ|إقرأ|اقرا)\s+(?:أيضا|أيضاً|ايضا|المزيد)"
    r"|^\s*(?:مواضيع|أخبار|اخبار|مقالات|قصص)\s+(?:ذات صلة|متعلقة|مشابهة)"
    r"|^\s*(?:شاهد|طالع)\s+(?:أيضا|أيضاً|ايضا)"
    r"|^\s*(?:المزيد من|آخر الأخبار|اخر الاخبار|أخبار متعلقة|التعليقات|تابعونا)"
    r"|^\s*(?:most\s+(?:read|viewed|popular)|related|read\s+more|trending)",
    re.IGNORECASE,
)
# The strongest of those: a box of other stories' headlines, never article text.
_HEADLINE_BOX_HEADING = re.compile(
    r"^\s*(?:الأكثر|الاكثر|مواضيع|أخبار|اخبار|مقالات|قصص|most|related|trending)",
    re.IGNORECASE,
)
_HEADLINE_MAX = 150  # a sibling this short after a "most read" heading is a headline
BODY_CLASS = re.compile(
    r"article[-_]?(?:body|content|text)|story[-_]?(?:body|content|text)|entry[-_]?content|"
    r"post[-_]?(?:body|content)|news[-_]?(?:body|content|text)|content[-_]?body|"
    r"main[-_]?text|(?:^|\s)text(?:$|\s)",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
_HOLDS_ARTICLE = 'boolean(.//article|.//h1|.//*[@itemprop="articleBody"])'
HEADING_MAX = 40  # a furniture heading is short; longer text is content


def text_of(el: etree._Element) -> str:
    """Element text with whitespace runs collapsed to single spaces."""
    return _WS.sub(" ", el.text_content()).strip()


def short_text(el: etree._Element, limit: int) -> str:
    """Like :func:`text_of` but reads at most about ``limit`` characters.

    Used where only short elements matter (headings, bylines, dates), so that checking
    every element of a deep page stays linear instead of re-reading whole subtrees.
    """
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        parts.append(piece)
        size += len(piece)
        if size > limit * 2:
            break
    return _WS.sub(" ", "".join(parts)).strip()


def attr_words(el: etree._Element) -> str:
    """``class`` and ``id`` of ``el``, camelCase split (``mostRead`` → ``most-Read``)."""
    value = f"{el.get('class', '')} {el.get('id', '')}"
    return _CAMEL.sub("-", value)


def link_density(el: etree._Element) -> float:
    """Share of ``el``'s text that sits inside links (0.0 for an empty element)."""
    total = len(text_of(el))
    if not total:
        return 0.0
    return sum(len(text_of(a)) for a in el.iter("a")) / total


def drop(el: etree._Element) -> None:
    """Remove ``el`` and its subtree, keeping its tail text in the parent."""
    if el.getparent() is not None:
        el.drop_tree()


def _paragraph_chars(el: etree._Element) -> int:
    return sum(len(text_of(p)) for p in el.iter("p"))


class _Guard:
    """Answers "does this element hold the article?" for the class/id rule."""

    def __init__(self, root: etree._Element) -> None:
        self.total = _paragraph_chars(root)

    def holds_article(self, el: etree._Element) -> bool:
        if el.get("itemprop") == "articleBody" or BODY_CLASS.search(attr_words(el)):
            return True
        if el.tag == "article" or el.xpath(
            'boolean(.//article|.//h1|.//*[@itemprop="articleBody"])'
        ):
            return True
        return self.total > 0 and _paragraph_chars(el) > 0.5 * self.total


def remove_furniture(root: etree._Element) -> None:
    """Remove navigation, sidebars, related/most-read boxes, comments and footers in place."""
    for el in list(root.iter(*DROP_TAGS)):
        drop(el)
    guard = _Guard(root)
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.tag in ("html", "body"):
            continue
        words = attr_words(el)
        if words.strip() and _FURNITURE.search(words) and not guard.holds_article(el):
            drop(el)
    for heading in list(root.iter("h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "div", "p")):
        # A heading has at most a couple of child elements; skipping the rest keeps this
        # pass linear on deep pages.
        if heading.getparent() is None or len(heading) > 2:
            continue
        text = short_text(heading, HEADING_MAX)
        if len(text) <= HEADING_MAX and FURNITURE_HEADING.search(text):
            _drop_headed_block(heading, headlines=bool(_HEADLINE_BOX_HEADING.match(text)))


def _drop_headed_block(heading: etree._Element, *, headlines: bool) -> None:
    """Drop a furniture heading with its box, or with the list that follows it.

    ``headlines`` (a «الأكثر قراءة»/«أخبار ذات صلة» heading) also takes the headline-sized
    siblings that follow it, linked or not; an «اقرأ أيضا» heading only takes a list or
    links, since it often sits between two paragraphs of the article.
    """
    parent = heading.getparent()
    if (
        parent is not None
        and parent.tag not in ("body", "article", "main", "html")
        and parent.get("itemprop") != "articleBody"
        and _is_furniture_box(parent, heading)
    ):
        drop(parent)
        return
    sibling = heading.getnext()
    while sibling is not None and (
        sibling.tag in ("ul", "ol", "dl")
        or link_density(sibling) > 0.5
        or (headlines and 0 < len(short_text(sibling, _HEADLINE_MAX)) <= _HEADLINE_MAX)
    ):
        following = sibling.getnext()
        drop(sibling)
        sibling = following
    drop(heading)


def _is_furniture_box(box: etree._Element, heading: etree._Element) -> bool:
    """True when ``box`` holds little besides ``heading`` and links, or a short list.

    A body container that merely *contains* a «اقرأ أيضا» block has far more unlinked
    text than a box of headlines, so it survives.
    """
    total = len(text_of(box)) - len(text_of(heading))
    if total <= 0:
        return True
    linked = sum(len(text_of(a)) for a in box.iter("a"))
    return linked / total > 0.5 or total - linked < 200
