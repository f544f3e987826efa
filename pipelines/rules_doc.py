"""A story tokenised once for rule matching, with the way back to the original text.

Token positions run over the title first, then the body.  A sentence ends at a line break
or at . ! ? ؟ ؛ … followed by space, a closing quote/bracket or the end (so «3.5» and
«بي-52» stay whole); a blank line also ends the paragraph.  Each token knows its sentence
(and through it its paragraph and field); character spans in the original text are only
computed when a rule fired and evidence is written.

Speed matters here (every story, every rule set): one ``findall`` per field yields words
and boundaries together, one ``fold`` call folds all the words of a field.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pipelines.arabic import RAW_WORD, fold, words

FIELD_NAMES = ("title", "body")
MARK_OPEN, MARK_CLOSE = "[[", "]]"
_ENDERS = ".!?؟؛…"
# Words first (most of the text), then sentence ends, then line breaks; a run of line
# breaks with only blanks between them is one item, a paragraph break.
_SENTENCE_END = re.compile(f"[{_ENDERS}]+(?=[\\s\"'»”’)\\]}}]|$)")
_ITEMS = re.compile(f"{RAW_WORD.pattern}|{_SENTENCE_END.pattern}|\\n(?:[^\\S\\n]*\\n)*")


class Sentence(NamedTuple):
    """Raw words ``[first, end)`` of field ``field``, in paragraph ``paragraph``."""

    field: int
    first: int
    end: int
    paragraph: int


class Span(NamedTuple):
    """Tokens as they appear in the original text of one sentence."""

    sentence: int
    begin: int  # character offsets in the field's text
    end: int
    text: str


@dataclass
class Document:
    """Folded tokens of a story plus what is needed to point back into it."""

    texts: tuple[str, ...]
    tokens: list[str]
    token_sentence: list[int]
    token_raw: list[int]  # index of the raw word (in its field) the token comes from
    sentences: list[Sentence]
    field_first: list[int]
    _items: dict[int, tuple[list[tuple[int, int]], dict[int, int]]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # per-story results shared by rules

    @classmethod
    def build(cls, title: str, body: str) -> Document:
        """Tokenise ``title`` and ``body``."""
        tokens: list[str] = []
        token_sentence: list[int] = []
        token_raw: list[int] = []
        sentences: list[Sentence] = []
        field_first: list[int] = []
        texts = (title or "", body or "")
        for index, text in enumerate(texts):
            field_first.append(len(tokens))
            raws: list[str] = []
            para = first = 0
            for item in _ITEMS.findall(text):
                c = item[0]
                if c != "\n" and c not in _ENDERS:
                    raws.append(item)
                    continue
                if len(raws) > first:
                    token_sentence.extend([len(sentences)] * (len(raws) - first))
                    sentences.append(Sentence(index, first, len(raws), para))
                    first = len(raws)
                if c == "\n" and item.count("\n") > 1 and sentences:
                    para += 1
            if len(raws) > first:
                token_sentence.extend([len(sentences)] * (len(raws) - first))
                sentences.append(Sentence(index, first, len(raws), para))
            if not raws:
                continue
            folded = fold("\n".join(raws)).split("\n")
            if all(map(str.isalnum, folded)):
                tokens.extend(folded)  # the usual case: one folded word per raw word
                token_raw.extend(range(len(raws)))
                continue
            # A ligature such as ﷺ folds into several words, a mark-only word into none.
            owners = token_sentence[len(tokens) :]
            del token_sentence[len(tokens) :]
            for r, (word, sid) in enumerate(zip(folded, owners, strict=True)):
                for piece in [word] if word.isalnum() else words(word):
                    tokens.append(piece)
                    token_sentence.append(sid)
                    token_raw.append(r)
        return cls(texts, tokens, token_sentence, token_raw, sentences, field_first)

    # -- positions ----------------------------------------------------------------------

    def field_of(self, token: int) -> int:
        return 1 if len(self.field_first) > 1 and token >= self.field_first[1] else 0

    def same_field(self, a: int, b: int) -> bool:
        return self.field_of(a) == self.field_of(b)

    def in_fields(
        self, spans: list[tuple[int, int]], fields: frozenset[str]
    ) -> list[tuple[int, int]]:
        """The spans that lie in one of ``fields`` ("title", "body")."""
        if len(fields) == len(FIELD_NAMES):
            return spans
        keep = {FIELD_NAMES.index(f) for f in fields}
        return [s for s in spans if self.field_of(s[0]) in keep]

    def unit(self, token: int, scope: str) -> int:
        """The id of the sentence/paragraph/story ``token`` is in (unique per field)."""
        if scope == "story":
            return 0
        sid = self.token_sentence[token]
        if scope == "sentence":
            return sid
        sentence = self.sentences[sid]
        return sentence.field * 1_000_000 + sentence.paragraph

    # -- back to the original text --------------------------------------------------------

    def _field_items(self, index: int) -> tuple[list[tuple[int, int]], dict[int, int]]:
        """Spans of the raw words of a field, and the end of the sentence-final
        punctuation that follows raw word ``r`` (keyed by ``r``)."""
        found = self._items.get(index)
        if found is None:
            text = self.texts[index]
            spans = [m.span() for m in RAW_WORD.finditer(text)]
            starts = [a for a, _ in spans]
            ends = {
                bisect.bisect_left(starts, m.start()) - 1: m.end()
                for m in _SENTENCE_END.finditer(text)
            }
            found = self._items[index] = (spans, ends)
        return found

    def bounds(self, sid: int) -> tuple[int, int]:
        """Character offsets of sentence ``sid`` in its field's text."""
        s = self.sentences[sid]
        spans, ends = self._field_items(s.field)
        return spans[s.first][0], ends.get(s.end - 1, spans[s.end - 1][1])

    def span(self, start: int, end: int) -> Span:
        """Original text of tokens ``[start, end)``: «وبيونغ يانغ» for a foreign-name hit."""
        sid = self.token_sentence[start]
        index = self.sentences[sid].field
        spans, _ = self._field_items(index)
        begin = spans[self.token_raw[start]][0]
        finish = spans[self.token_raw[end - 1]][1]
        return Span(sid, begin, finish, self.texts[index][begin:finish])

    def marked(self, sid: int, marks: list[Span]) -> str:
        """Sentence ``sid`` in its original text, each of ``marks`` wrapped in [[...]]."""
        text = self.texts[self.sentences[sid].field]
        begin, end = self.bounds(sid)
        out: list[str] = []
        pos = begin
        for mark in sorted(marks, key=lambda m: m.begin):
            if mark.begin < pos:  # overlapping hits: the first one is already marked
                continue
            stop = min(mark.end, end)
            out += [text[pos : mark.begin], MARK_OPEN, text[mark.begin : stop], MARK_CLOSE]
            pos = stop
        out.append(text[pos:end])
        return "".join(out).strip()
