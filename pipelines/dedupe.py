"""Near-duplicate clustering: exact hash, then MinHash/LSH + anchors, then verification.

``fingerprint(title, body)`` computes what a story is compared and persisted by;
``DedupeIndex`` answers "which cluster already holds a copy of this story?" over a sliding
time window (default 7 days) and is rebuilt at start from the stored window with ``load``.

Decision for a new story, cheapest first:

1. **exact**: a story in the window with the same folded, boilerplate-free body hash.
2. **candidates**: stories sharing an LSH band or an anchor (``pipelines.dedupe_sketch``),
   kept only when their MinHash signatures estimate enough overlap, ranked by shared
   postings; at most ``max_verify`` of them are verified.
3. **verification**: their texts (kept in memory, or fetched in one call through
   ``fetch``) are compared with ``pipelines.dedupe_text.is_near_duplicate``: the longer
   text must cover ≥ 50 % of the shorter one in runs of ≥ 4 words, in order.

Memory per indexed story: ~42 postings × 12 B, 64 MinHash values × 4 B and a 36 B record,
all in numpy arrays (≈ 0.85 KB; ``memory_bytes``); texts are kept only without ``fetch``.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import chain

import numpy as np

from pipelines.dedupe_records import Records
from pipelines.dedupe_sketch import (
    Postings,
    Sketch,
    containment_estimate,
    decode,
    decode_many,
    encode,
    exact_code,
    posting_keys,
    posting_keys_many,
    sketch,
)
from pipelines.dedupe_text import SHORT_TOKENS, is_near_duplicate, key_paragraphs

Key = Hashable
Fetch = Callable[[list[Key]], dict[Key, tuple[str, str]]]

# Candidates verified per story, best first (most shared postings, then estimate).
MAX_VERIFY = 10
# Minimum MinHash containment estimate for a candidate to be fetched and verified (see
# ``containment_estimate``).  Copies on the labelled table estimate ≥ 0.56; unrelated
# stories that share common trigrams (Zipf vocabulary, benchmarks/dedupe.py) estimate
# 0.10–0.20 and made the index fetch and verify ~2 of them per story at 1M stories with
# 0.15.  0.25 leaves a 2.2× margin below the copies and ~4 standard errors for a
# same-size copy at the verification boundary.
MIN_ESTIMATE = 0.25
# An LSH band or anchor shared by more stories than this (per sorted run) is skipped, as
# a search engine skips stop words: a copy shares several postings with its original
# (≥ 3 bands and anchors on the labelled table), not just a popular one.
MAX_BUCKET = 256
# Fetched candidates whose tokens are kept: the copies of one story arrive close together.
TOKEN_CACHE = 64
# Stored stories decoded and posted together by ``load``.
LOAD_BATCH = 20_000


@dataclass(frozen=True)
class Fingerprint:
    """What one story is deduplicated by.

    ``body_hash``: hex sha256 of the dedupe tokens of the body (folded, g-class folded,
    boilerplate removed, one space between words, one newline between paragraphs).  A body
    shorter than ``SHORT_TOKENS`` words is hashed with its title in front, so that two
    stories with empty or stub bodies are not exact duplicates of each other.
    ``signature``: the persisted sketch (``dedupe_sketch.encode``, 333 bytes).
    ``tokens``, ``sketch``: derived values kept so that ``find`` and ``add`` do not
    recompute them; a Fingerprint rebuilt from stored ``body_hash`` and ``signature``
    alone is valid too.
    """

    body_hash: str
    signature: bytes
    tokens: tuple[str, ...] = field(repr=False, default=(), compare=False)
    sketch: Sketch | None = field(repr=False, default=None, compare=False)

    def decoded(self) -> Sketch | None:
        """The sketch, decoded from ``signature`` when not kept."""
        return self.sketch if self.sketch is not None else decode(self.signature)


def _compared_paragraphs(title: str, body: str, folded: bool = False) -> list[list[str]]:
    paragraphs = key_paragraphs(body, folded=folded)
    if sum(len(p) for p in paragraphs) < SHORT_TOKENS:
        paragraphs = key_paragraphs(title, folded=folded) + paragraphs
    return paragraphs


def compared_tokens(title: str, body: str, *, folded: bool = False) -> list[str]:
    """The token sequence ``is_near_duplicate`` compares for a story."""
    return [t for p in _compared_paragraphs(title, body, folded) for t in p]


def fingerprint(title: str, body: str, *, folded: bool = False) -> Fingerprint:
    """The fingerprint of a story; pure and deterministic across processes.

    «بيونغ يانغ» with harakat, tatweel or Arabic-Indic digits gives the same ``body_hash``
    as the plain spelling «بيونج يانج».  ``folded=True`` skips ``arabic.fold`` for a
    title and body the normalize stage already folded (same result, ~40 % less time).
    """
    paragraphs = _compared_paragraphs(title, body, folded)
    text = "\n".join(" ".join(p) for p in paragraphs)
    sk = sketch(paragraphs)
    return Fingerprint(
        body_hash=hashlib.sha256(text.encode()).hexdigest(),
        signature=encode(sk),
        tokens=tuple(chain.from_iterable(paragraphs)),
        sketch=sk,
    )


def new_cluster_id(url: str) -> str:
    """Deterministic id for a cluster founded by ``url``: "c" + 16 hex digits of sha256."""
    return "c" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Candidate:
    """A stored story as loaded from the database to rebuild the index.

    ``title``/``body`` may be empty when the index has a ``fetch`` callback (they are then
    fetched by ``key`` when the story becomes a candidate).  ``signature`` may be empty
    (a story stored before signatures existed): it is then found by exact hash only.
    """

    key: Key
    cluster: str
    title: str
    body: str
    seen_at: datetime
    body_hash: str
    signature: bytes


def _epoch(when: datetime) -> float:
    """Seconds since the epoch; a naive datetime (SQLite returns them) is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


class DedupeIndex:
    """The stories of the last ``window``, searchable for near-duplicates.

    ``fetch(keys)`` returns ``{key: (title, body)}`` for stored stories (missing keys are
    skipped); when it is None the index keeps every text's tokens in memory.  ``find``
    never returns a story older than ``now - window``; stories older than the newest time
    seen minus ``window`` are evicted (their memory freed) as time advances.

    Per story the index keeps, in numpy columns (``pipelines.dedupe_records``), its
    MinHash values (to estimate overlap before fetching any text), shingle count,
    exact-hash code, time, key and cluster, and ~42 postings (``Postings``).
    """

    def __init__(
        self,
        window: timedelta = timedelta(days=7),
        *,
        fetch: Fetch | None = None,
        max_verify: int = MAX_VERIFY,
        min_estimate: float = MIN_ESTIMATE,
        max_bucket: int = MAX_BUCKET,
    ) -> None:
        self.window = window
        self._window_s = window.total_seconds()
        self._fetch = fetch
        self._max_verify = max_verify
        self._min_estimate = min_estimate
        self._max_bucket = max_bucket
        self._postings = Postings()
        self._records = Records(keep_texts=fetch is None)
        # tokens of recently fetched candidates: the copies of one story arrive together
        self._token_cache: OrderedDict[int, list[str]] = OrderedDict()
        self._live = 0
        self._dead = 0
        self._horizon = -math.inf  # stories seen before this are evicted
        self._newest = -math.inf
        self._evict_step = max(self._window_s / 64, 1.0)
        self.stats: dict[str, int] = {
            "exact": 0,
            "near": 0,
            "candidates": 0,
            "verified": 0,
            "fetched": 0,
        }

    def __len__(self) -> int:
        """Stories currently indexed (not yet evicted)."""
        return self._live

    def memory_bytes(self) -> int:
        """Bytes held by the index's buffers (records, postings, bounded caches)."""
        cache = sum(100 + 60 * len(t) for t in self._token_cache.values())
        return self._records.nbytes() + self._postings.nbytes + cache

    # -- queries ---------------------------------------------------------------------

    def find(self, title: str, body: str, fp: Fingerprint, now: datetime) -> str | None:
        """The cluster of an indexed copy of (``title``, ``body``) seen within
        ``window`` before ``now``, or None."""
        now_s = _epoch(now)
        self._advance(now_s)
        rec = self._records
        sk = fp.decoded()
        exact = exact_code(fp.body_hash)
        # the exact-hash key comes first and is never capped: 600 identical copies are
        # still copies
        slots = self._postings.lookup(
            posting_keys(sk, exact), max_bucket=self._max_bucket, uncapped=1
        )
        if len(slots) == 0:
            return None
        slots = slots[rec.seen[slots] >= now_s - self._window_s]
        if len(slots) == 0:
            return None
        same = slots[rec.exact[slots] == np.uint64(exact)]
        if len(same):
            self.stats["exact"] += 1
            return rec.cluster_of(int(same[0]))
        if sk is None or sk.empty:
            return None
        uniq, hits = np.unique(slots, return_counts=True)
        self.stats["candidates"] += len(uniq)
        # Skip candidates whose signatures say they share too little to be copies, unless
        # the texts are too short for the estimate to mean anything.
        estimate = containment_estimate(sk, rec.minhash[uniq], rec.size[uniq])
        short = np.minimum(rec.size[uniq], sk.size) < SHORT_TOKENS
        keep = (estimate >= self._min_estimate) | short
        uniq, hits, estimate = uniq[keep], hits[keep], estimate[keep]
        if len(uniq) == 0:
            return None
        order = np.lexsort((-estimate, -hits))[: self._max_verify]
        tokens = list(fp.tokens) if fp.tokens else compared_tokens(title, body)
        for slot, other in self._candidate_tokens(uniq[order].tolist()):
            self.stats["verified"] += 1
            if is_near_duplicate(tokens, other):
                self.stats["near"] += 1
                return rec.cluster_of(slot)
        return None

    def _candidate_tokens(self, slots: list[int]) -> Iterator[tuple[int, list[str]]]:
        rec = self._records
        if self._fetch is None:
            for slot in slots:
                text = rec.texts.get(slot)
                if text is not None:
                    yield slot, list(text)
            return
        cache = self._token_cache
        missing = [slot for slot in slots if slot not in cache]
        texts: dict[Key, tuple[str, str]] = {}
        if missing:
            texts = self._fetch([rec.key_of(slot) for slot in missing])
            self.stats["fetched"] += len(texts)
        for slot in slots:
            tokens = cache.get(slot)
            if tokens is None:
                text = texts.get(rec.key_of(slot))
                if text is None:
                    continue
                tokens = cache[slot] = compared_tokens(*text)
                if len(cache) > TOKEN_CACHE:
                    cache.popitem(last=False)
            else:
                cache.move_to_end(slot)
            yield slot, tokens

    # -- updates ---------------------------------------------------------------------

    def add(
        self,
        key: Key,
        cluster: str,
        title: str,
        body: str,
        fp: Fingerprint,
        seen_at: datetime,
    ) -> None:
        """Index a stored story of ``cluster`` (after ``find``, whatever it answered)."""
        seen_s = _epoch(seen_at)
        self._advance(seen_s)
        if seen_s < self._horizon:
            return  # already outside the window: it could never be returned
        tokens = None
        if self._fetch is None:
            tokens = fp.tokens or tuple(compared_tokens(title, body))
        sk = fp.decoded()
        exact = exact_code(fp.body_hash)
        slot = self._records.append(
            key,
            cluster,
            seen_s,
            exact,
            None if sk is None else sk.minhash,
            0 if sk is None else sk.size,
            tokens,
        )
        self._postings.add(posting_keys(sk, exact), slot)
        self._live += 1

    def load(self, stored: Iterable[Candidate]) -> None:
        """Index stored stories (at start, from the database window); texts are read
        from the candidates only when the index has no ``fetch``.

        Signatures are decoded and posted in vectorised batches (1M stories in seconds).
        """
        batch: list[Candidate] = []
        for candidate in stored:
            batch.append(candidate)
            if len(batch) == LOAD_BATCH:
                self._load_batch(batch)
                batch = []
        if batch:
            self._load_batch(batch)

    def _load_batch(self, batch: list[Candidate]) -> None:
        seen = np.array([_epoch(c.seen_at) for c in batch], np.float64)
        self._advance(float(seen.max()))
        keep = np.flatnonzero(seen >= self._horizon)
        if len(keep) == 0:
            return
        rows = [batch[i] for i in keep.tolist()]
        sketches = decode_many([c.signature for c in rows])
        exact = np.array([exact_code(c.body_hash) for c in rows], np.uint64)
        tokens = None
        if self._fetch is None:
            tokens = [tuple(compared_tokens(c.title, c.body)) for c in rows]
        first = self._records.append_many(
            [c.key for c in rows], [c.cluster for c in rows], seen[keep], exact, sketches, tokens
        )
        keys, owners = posting_keys_many(sketches, exact)
        self._postings.add_many(keys, owners + first)
        self._live += len(rows)

    def _advance(self, now_s: float) -> None:
        """Evict what fell out of the window once time moved by a 64th of it."""
        if now_s <= self._newest:
            return
        self._newest = now_s
        horizon = now_s - self._window_s
        if horizon - self._horizon < self._evict_step:
            return
        self._horizon = horizon
        died = self._records.evict(horizon)
        if died == 0:
            return
        self._live -= died
        self._dead += died
        self._token_cache.clear()
        if self._dead > max(1024, self._records.n // 4):
            self._postings.compact(self._records.compact())
            self._dead = 0
