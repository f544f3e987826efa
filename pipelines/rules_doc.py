"""A story tokenised once for rule matching, with the way back to the original text.

Token positions run over the title first, then the body.  A sentence ends at a line break
or at . ! ? ؟ ؛ … followed by space, a closing quote/bracket or the end (so «3.5» and
«بي-52» stay whole); a blank line also ends the paragraph.  Each token knows its sentence
(and through it its paragraph and field) and the character offset of its word in the
original text; sentence bounds and marked sentences are only worked out when a rule fired
and evidence is written.

Speed matters here (every story, every rule set), and a regex over Arabic text costs
~50 ns a character: a field is letter-folded in one pass when folding keeps every offset
(``pipelines.arabic.fold_letters``, nearly all wire copy), cut into lines and blanks in
C, and only chunks with punctuation or marks are looked at further.  The module is
compiled by mypyc (``pipelines.COMPILED``), which is why its loops are plain loops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from pipelines.arabic import RAW_WORD, fold, fold_letters, words
from pipelines.rules_model import Hit

FIELD_NAMES = ("title", "body")
MARK_OPEN: Final = "[["
MARK_CLOSE: Final = "]]"
_ENDERS = ".!?؟؛…"
_SENTENCE_END = re.compile(f"[{_ENDERS}]+(?=[\\s\"'»”’)\\]}}]|$)")
# Inside a run of non-blank characters: words and sentence ends.
_CHUNK_ITEMS = re.compile(f"{RAW_WORD.pattern}|{_SENTENCE_END.pattern}")
# A full stop after these words is an abbreviation's, not a sentence end:
# «U.S. troops», «St. Petersburg», «Gen. Milley».  So is one after a single letter («د.»).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj capt sgt adm cmdr sen rep gov pres rev st mt ft no"
    " jan feb mar apr jun jul aug sep sept oct nov dec inc corp co ltd jr sr vs".split()
)


def is_abbreviation(word: str) -> bool:
    """Whether a full stop right after ``word`` belongs to it."""
    word = word.lower()
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


# Punctuation that is neither part of a word nor a sentence end: «روسيا» or «الأحد،» is one
# word with punctuation around it, decided without the regex.
_PLAIN = frozenset(",،:;«»\"'()[]{}“”‘’-–—/")


class Sentence:
    """Raw words ``[first, end)`` of field ``field``, in paragraph ``paragraph``.

    (A plain class, not a NamedTuple: a story makes dozens, and compiled by mypyc a plain
    class is built in C.)
    """

    __slots__ = ("end", "field", "first", "paragraph")

    def __init__(self, field: int, first: int, end: int, paragraph: int) -> None:
        self.field = field
        self.first = first
        self.end = end
        self.paragraph = paragraph

    def __repr__(self) -> str:
        return f"Sentence({self.field}, {self.first}, {self.end}, {self.paragraph})"


class Span(NamedTuple):
    """Tokens as they appear in the original text of one sentence."""

    sentence: int
    begin: int  # character offsets in the field's text
    end: int
    text: str


def _segment(
    text: str,
    index: int,
    sentences: list[Sentence],
    token_sentence: list[int],
    odd: list[int],
    starts: list[int],
) -> list[str]:
    """The raw words of field ``index`` (``RAW_WORD`` runs of ``text``, in order).

    Appends the field's sentences to ``sentences``, each raw word's sentence id to
    ``token_sentence``, its character offset in ``text`` to ``starts`` and to ``odd`` the
    index of every word that is not all letters and digits (one with harakat, say).  A
    sentence ends at a run of sentence-final punctuation followed by space, a closing
    quote/bracket or the end, and at a line break; a run of line breaks with only blanks
    between them also ends the paragraph.

    A regex over the whole text costs ~50 ns per Arabic character; here lines and blanks
    are split in C, a chunk that ``str.isalnum`` accepts is a word, and only the rest (a
    word with a comma or full stop attached, say) is looked at further.  Offsets follow
    from the chunk lengths when one blank separates the chunks of a line (the usual
    case), else from searching the line.  (A plain loop: compiled by mypyc, it beats
    mapping and slicing in C.)
    """
    raws: list[str] = []
    append = raws.append
    cuts: list[tuple[int, int]] = []  # (words so far, paragraph) at each sentence end
    had_sentences = bool(sentences)
    para = run = 0
    line_start = 0
    for k, line in enumerate(text.split("\n")):
        if k:
            run += 1
        at = line_start
        line_start += len(line) + 1
        chunks = line.split()
        if not chunks:
            continue  # a blank line continues the run of line breaks
        if run:
            cuts.append((len(raws), para))
            # sentences exist once any word has been seen (the cut above closed it)
            if run > 1 and (had_sentences or raws):
                para += 1
            run = 0
        # one blank between chunks (the usual case): offsets follow from the lengths
        regular = sum(map(len, chunks)) + len(chunks) - 1 == len(line)
        cursor = 0  # in the line
        for chunk in chunks:
            if regular:
                start = at + cursor
                cursor += len(chunk) + 1
            else:
                cursor = line.find(chunk, cursor)
                start = at + cursor
                cursor += len(chunk)
            if chunk.isalnum():
                append(chunk)
                starts.append(start)
                continue
            head = chunk[:-1]
            if head.isalnum():
                last = chunk[-1]
                if last in _PLAIN:
                    append(head)
                    starts.append(start)
                    continue
                if last in _ENDERS:
                    append(head)
                    starts.append(start)
                    if last != "." or not is_abbreviation(head):
                        cuts.append((len(raws), para))
                    continue
            elif chunk[0] in _PLAIN and chunk[1:].isalnum():
                append(chunk[1:])
                starts.append(start + 1)
                continue
            word_end = -1  # where the chunk's last word ended («U.S.»: after the S)
            for m in _CHUNK_ITEMS.finditer(chunk):
                item = m.group()
                if item[0] in _ENDERS:
                    if item != "." or word_end != m.start() or not is_abbreviation(raws[-1]):
                        cuts.append((len(raws), para))
                else:
                    if not item.isalnum():
                        odd.append(len(raws))
                    append(item)
                    starts.append(start + m.start())
                    word_end = m.end()
    cuts.append((len(raws), para))
    first = 0
    for end, paragraph in cuts:
        if end > first:
            token_sentence.extend([len(sentences)] * (end - first))
            sentences.append(Sentence(index, first, end, paragraph))
            first = end
    return raws


def _with_enders(source: str, end: int, stop: int) -> int:
    """``end`` moved past the sentence-final punctuation in ``source[end:stop]``."""
    gap = source[end:stop]
    if (len(gap) == 3 and gap[1].isspace()) or (len(gap) == 1 and stop == len(source)):
        # the usual «... كلمة. التالية»: one mark (or none), a blank, the next word's letter
        return end + 1 if gap[0] in _ENDERS else end
    enders = [c for c in _ENDERS if c in gap]
    if not enders:
        return end
    if (
        enders == [gap[0]]
        and gap.count(gap[0]) == 1
        and ((len(gap) == 1 and stop == len(source)) or gap[1:2].isspace())
    ):
        return end + 1
    for m in _SENTENCE_END.finditer(source, end, stop):
        end = m.end()
    return end


@dataclass
class Document:
    """Folded tokens of a story plus what is needed to point back into it."""

    texts: tuple[str, ...]
    tokens: list[str]
    token_sentence: list[int]
    token_raw: list[int]  # index of the raw word (in its field) the token comes from
    sentences: list[Sentence]
    field_first: list[int]
    # per field: the raw words, their character offsets and the text they were cut from
    # (the field's text, or its folded form when folding kept every offset)
    raw_words: list[list[str]] = field(default_factory=list)
    word_starts: list[list[int]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _bounds: dict[int, tuple[int, int]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # per-story results shared by rules

    @classmethod
    def build(cls, title: str, body: str) -> Document:
        """Tokenise ``title`` and ``body``."""
        tokens: list[str] = []
        token_sentence: list[int] = []
        token_raw: list[int] = []
        sentences: list[Sentence] = []
        field_first: list[int] = []
        raw_words: list[list[str]] = []
        word_starts: list[list[int]] = []
        sources: list[str] = []
        texts = (title or "", body or "")
        for index, text in enumerate(texts):
            field_first.append(len(tokens))
            # Cut the words out of the letter-folded text when folding keeps every offset
            # (the usual case): then only words with marks still need ``fold``.
            letters = fold_letters(text)
            source = text if letters is None else letters
            odd: list[int] = []
            starts: list[int] = []
            raws = _segment(source, index, sentences, token_sentence, odd, starts)
            raw_words.append(raws)
            word_starts.append(starts)
            sources.append(source)
            if not raws:
                continue
            # (the words not in ``odd`` were checked with isalnum while cutting)
            if letters is None:
                folded = fold("\n".join(raws)).split("\n")
                plain = all(map(str.isalnum, folded))
            elif odd:
                folded = raws.copy()
                for r in odd:
                    folded[r] = fold(raws[r])
                plain = all(folded[r].isalnum() for r in odd)
            else:
                folded = raws
                plain = True
            if plain:
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
        doc = cls(
            texts,
            tokens,
            token_sentence,
            token_raw,
            sentences,
            field_first,
            raw_words,
            word_starts,
            sources,
        )
        return doc

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

    def bounds(self, sid: int) -> tuple[int, int]:
        """Character offsets of sentence ``sid`` in its field's text, with the
        sentence-final punctuation that follows its last word."""
        found = self._bounds.get(sid)
        if found is None:
            s = self.sentences[sid]
            starts = self.word_starts[s.field]
            last = s.end - 1
            end = starts[last] + len(self.raw_words[s.field][last])
            source = self.sources[s.field]
            # up to and including the first letter of the next word: no ender run can
            # reach it, and "$" in the pattern only matches at the real end of the field
            stop = starts[last + 1] + 1 if last + 1 < len(starts) else len(source)
            found = self._bounds[sid] = (starts[s.first], _with_enders(source, end, stop))
        return found

    def span(self, start: int, end: int) -> Span:
        """Original text of tokens ``[start, end)``: «وبيونغ يانغ» for a foreign-name hit."""
        field, begin, finish = self._extent(start, end)
        return Span(self.token_sentence[start], begin, finish, self.texts[field][begin:finish])

    def written(self, token: int) -> str:
        """Token ``token`` as written in the original text (its whole raw word)."""
        field, begin, finish = self._extent(token, token + 1)
        return self.texts[field][begin:finish]

    def _extent(self, start: int, end: int) -> tuple[int, int, int]:
        """The field of tokens ``[start, end)`` and their character offsets in its text."""
        field = 1 if start >= self.field_first[1] else 0
        starts = self.word_starts[field]
        last = self.token_raw[end - 1]
        word = self.raw_words[field][last]
        finish = starts[last] + len(word)
        if self.sources[field][finish : finish + 1] == "." and is_abbreviation(word):
            finish += 1  # «U.S.», «St.»: the full stop is the abbreviation's
        return field, starts[self.token_raw[start]], finish

    def marked(self, sid: int, marks: list[Span]) -> str:
        """Sentence ``sid`` in its original text, each of ``marks`` wrapped in [[...]]."""
        return self._marked(sid, [(m.begin, m.end) for m in marks])

    def _marked(self, sid: int, marks: list[tuple[int, int]]) -> str:
        text = self.texts[self.sentences[sid].field]
        begin, end = self._bounds.get(sid) or self.bounds(sid)
        if len(marks) == 1:  # the usual case
            mark_begin, mark_end = marks[0]
            if mark_begin >= begin:
                stop = min(mark_end, end)
                # begin and end are a word's first and last characters: nothing to strip
                return (
                    f"{text[begin:mark_begin]}{MARK_OPEN}{text[mark_begin:stop]}"
                    f"{MARK_CLOSE}{text[stop:end]}"
                )
        out: list[str] = []
        pos = begin
        for mark_begin, mark_end in sorted(marks) if len(marks) > 1 else marks:
            if mark_begin < pos:  # overlapping hits: the first one is already marked
                continue
            stop = min(mark_end, end)
            out += [text[pos:mark_begin], MARK_OPEN, text[mark_begin:stop], MARK_CLOSE]
            pos = stop
        out.append(text[pos:end])
        return "".join(out).strip()

    def evidence(
        self, spans: list[Hit], max_forms: int, max_sentences: int
    ) -> tuple[list[str], list[str]]:
        """The distinct surface forms of ``spans`` (sorted hits; at most ``max_forms``, in
        order) and the distinct sentences they are in with every one of them marked (at
        most ``max_sentences``, in text order)."""
        token_sentence = self.token_sentence
        forms: list[str] = []
        shown: list[str] = []
        marks: list[tuple[int, int]] = []  # of the sentence ``current``
        current = -1
        for start, end in spans:
            field, begin, finish = self._extent(start, end)
            form = self.texts[field][begin:finish]
            if form not in forms:
                forms.append(form)
            sid = token_sentence[start]
            if sid != current:
                if marks and len(shown) < max_sentences:
                    self._show(current, marks, shown)
                current = sid
                marks = []
            marks.append((begin, finish))
        if marks and len(shown) < max_sentences:
            self._show(current, marks, shown)
        return forms[:max_forms], shown

    def _show(self, sid: int, marks: list[tuple[int, int]], shown: list[str]) -> None:
        """Append sentence ``sid`` with ``marks`` to ``shown`` unless it is there already
        (the title often repeats the lede, with or without its full stop)."""
        text = self._marked(sid, marks)
        if shown:
            key = text.rstrip(_ENDERS)
            for other in shown:
                if other.rstrip(_ENDERS) == key:
                    return
        shown.append(text)
