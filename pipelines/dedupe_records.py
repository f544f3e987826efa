"""Per-story records of the dedupe index, stored column-wise in numpy arrays.

At a million stories, one small Python object per story (an int key, a cluster string)
costs ~60 bytes and, worse, pins pymalloc arenas among the transient objects every story
creates, so the process RSS grows twice as fast as the objects themselves.  Records are
therefore numpy columns indexed by *slot*: story ids (ints) and cluster ids in the
``new_cluster_id`` form ("c" + 16 hex digits) are stored as numbers; any other key or
cluster id goes to a small side dict, so every value still round-trips exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.dedupe_sketch import NUM_PERM, SketchBatch

_CLUSTER_ID = re.compile(r"c[0-9a-f]{16}")
_INT64 = (-(1 << 63), (1 << 63) - 1)
_COLUMNS = ("seen", "exact", "minhash", "size", "key", "cluster")


def _int_key(key: Hashable) -> int | None:
    if type(key) is int and _INT64[0] <= key <= _INT64[1]:
        return key
    return None


def _cluster_code(cluster: str) -> int | None:
    return int(cluster[1:], 16) if _CLUSTER_ID.fullmatch(cluster) else None


@dataclass
class Records:
    """Append-only columns; a slot is dead (evicted) once its ``seen`` is -inf.

    ``seen``: epoch seconds; ``exact``: 64-bit body-hash code; ``minhash``/``size``: the
    sketch; ``key``/``cluster``: numeric forms, with ``other_keys``/``other_clusters``
    holding the values that have none; ``texts``: compared tokens, only when the index
    has no fetch callback.
    """

    keep_texts: bool

    def __post_init__(self) -> None:
        self.n = 0
        self.seen = np.empty(0, np.float64)
        self.exact = np.empty(0, np.uint64)
        self.minhash = np.empty((0, NUM_PERM), np.uint32)
        self.size = np.empty(0, np.uint32)
        self.key = np.empty(0, np.int64)
        self.cluster = np.empty(0, np.uint64)
        self.other_keys: dict[int, Hashable] = {}
        self.other_clusters: dict[int, str] = {}
        self.texts: dict[int, tuple[str, ...]] = {}

    @property
    def capacity(self) -> int:
        return len(self.seen)

    def nbytes(self) -> int:
        """Bytes of the columns and (roughly) of the side dicts."""
        total = sum(getattr(self, c).nbytes for c in _COLUMNS)
        total += sum(100 + len(str(v)) for v in self.other_keys.values())
        total += sum(100 + len(v) for v in self.other_clusters.values())
        total += sum(100 + 60 * len(t) for t in self.texts.values())
        return total

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more slots (growing by half, not doubling: less slack)."""
        need = self.n + extra
        if need <= self.capacity:
            return
        cap = max(1024, need, self.capacity + self.capacity // 2)
        for name in _COLUMNS:
            old = getattr(self, name)
            new = np.empty((cap, *old.shape[1:]), old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(
        self,
        key: Hashable,
        cluster: str,
        seen: float,
        exact: int,
        minhash: np.ndarray | None,
        size: int,
        tokens: tuple[str, ...] | None,
    ) -> int:
        """Store one story; returns its slot."""
        self.reserve(1)
        slot = self.n
        self.seen[slot] = seen
        self.exact[slot] = exact
        self.minhash[slot] = 0xFFFFFFFF if minhash is None else minhash
        self.size[slot] = size
        self._set_key(slot, key)
        self._set_cluster(slot, cluster)
        if self.keep_texts and tokens is not None:
            self.texts[slot] = tokens
        self.n += 1
        return slot

    def append_many(
        self,
        keys: Sequence[Hashable],
        clusters: Sequence[str],
        seen: np.ndarray,
        exact: np.ndarray,
        sketches: SketchBatch,
        tokens: Sequence[tuple[str, ...]] | None,
    ) -> int:
        """Store a batch; returns the slot of its first story."""
        count = len(keys)
        self.reserve(count)
        first = self.n
        block = slice(first, first + count)
        self.seen[block] = seen
        self.exact[block] = exact
        self.minhash[block] = sketches.minhash
        self.size[block] = sketches.size
        for i, (key, cluster) in enumerate(zip(keys, clusters, strict=True)):
            self._set_key(first + i, key)
            self._set_cluster(first + i, cluster)
        if self.keep_texts and tokens is not None:
            self.texts.update((first + i, t) for i, t in enumerate(tokens))
        self.n += count
        return first

    def key_of(self, slot: int) -> Hashable:
        other = self.other_keys.get(slot)
        return other if other is not None else int(self.key[slot])

    def cluster_of(self, slot: int) -> str:
        other = self.other_clusters.get(slot)
        return other if other is not None else f"c{int(self.cluster[slot]):016x}"

    def evict(self, horizon: float) -> int:
        """Mark every live slot seen before ``horizon`` dead; returns how many died."""
        seen = self.seen[: self.n]
        expired = np.flatnonzero((seen < horizon) & (seen != -math.inf))
        seen[expired] = -math.inf
        for slot in expired.tolist():
            self.other_keys.pop(slot, None)
            self.other_clusters.pop(slot, None)
            self.texts.pop(slot, None)
        return len(expired)

    def compact(self) -> np.ndarray:
        """Drop dead slots; returns the map old slot → new slot (−1 for dropped)."""
        live = np.flatnonzero(self.seen[: self.n] != -math.inf)
        remap = np.full(self.n, -1, np.int64)
        remap[live] = np.arange(len(live))
        for name in _COLUMNS:
            setattr(self, name, getattr(self, name)[live].copy())
        self.other_keys = {int(remap[s]): v for s, v in self.other_keys.items()}
        self.other_clusters = {int(remap[s]): v for s, v in self.other_clusters.items()}
        self.texts = {int(remap[s]): v for s, v in self.texts.items()}
        self.n = len(live)
        return remap

    def _set_key(self, slot: int, key: Hashable) -> None:
        number = _int_key(key)
        if number is None:
            self.other_keys[slot] = key
            self.key[slot] = 0
        else:
            self.other_keys.pop(slot, None)
            self.key[slot] = number

    def _set_cluster(self, slot: int, cluster: str) -> None:
        code = _cluster_code(cluster)
        if code is None:
            self.other_clusters[slot] = cluster
            self.cluster[slot] = 0
        else:
            self.other_clusters.pop(slot, None)
            self.cluster[slot] = code
