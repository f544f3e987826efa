"""Dedupe benchmark: per-story time and memory of ``DedupeIndex`` at growing index sizes.

    python benchmarks/dedupe.py                  # sizes 1k, 10k, 100k (a few minutes, 2 cores)
    python benchmarks/dedupe.py --million        # adds the 1M step (~10 more minutes)
    python benchmarks/dedupe.py --sizes 1000,10000 --probes 50

What it does, at each index size N (the index grows from one step to the next):

1. *fill*: unrelated synthetic Arabic stories (Zipf-distributed vocabulary, 4–7 paragraphs
   of 25–60 words, Arabic-Indic digits, ج/غ/ق letters) are fingerprinted in worker
   processes and ``add``-ed until the index holds N stories.  Their texts are not kept:
   ``fetch`` regenerates a story from its key, as the database would return it.
2. *probe*: a fresh set of originals, each followed by planted copies (republished,
   harakat+digits, respelled ج→غ, new lede, dropped paragraph, first two paragraphs,
   «اقرأ أيضا» footer + comment prompt) and look-alikes that must stay apart (same
   vocabulary and topic words, a word salad of the original, a new story reusing one
   background paragraph verbatim).  Each probe story is timed through
   ``fingerprint`` + ``find`` + ``add``, as the pipeline runs it.
3. *memory*: bytes held by the index (numpy buffers + the Python objects it references)
   per indexed story, and the process RSS growth per story as a cross-check.

Times are CPU time of the benchmark process (``time.process_time``: one core's work,
less disturbed by other load on a shared machine than wall-clock time).
Two streams are timed at each size: 300 *new* unrelated stories (what a crawl mostly
sees) and the *planted mix* (60 % copies, which need a fetch and a verification).

A brute-force baseline (``is_near_duplicate`` — rapidfuzz LCS with ``score_cutoff`` — of
each probe against every stored story, texts in memory) runs on the first 20 planted
probes of each step, at sizes up to ``--brute-max`` (default 10k: it keeps every
story's tokens, ~20 KB each).  Precision/recall are pairwise over all planted probes
(a probe merged into a filler story counts as a false pair).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import combinations
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.dedupe import Candidate, DedupeIndex, compared_tokens, fingerprint, new_cluster_id
from pipelines.dedupe_text import is_near_duplicate

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LETTERS = list("ابتثجحخدذرسشصضطظعغفقكلمنهويةىأإآء")
HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652"]
VOCAB_SIZE = 60_000
PROBE_BASE = 10**9  # planted probe keys start here; filler keys are 0..N-1
FRESH_BASE = 5 * 10**8  # keys of the new-story stream


def _vocabulary() -> list[str]:
    rng = np.random.default_rng(7)
    words: set[str] = set()
    while len(words) < VOCAB_SIZE:
        n = int(rng.integers(3, 9))
        words.add("".join(rng.choice(LETTERS, n)))
    return sorted(words)


VOCAB = _vocabulary()
_ZIPF = 1.0 / np.arange(1, VOCAB_SIZE + 1) ** 1.05
_ZIPF /= _ZIPF.sum()
_CDF = np.cumsum(_ZIPF)


_VOCAB_ARRAY = np.array(VOCAB, dtype=object)


def _words(rng: np.random.Generator, n: int) -> list[str]:
    idx = np.minimum(np.searchsorted(_CDF, rng.random(n)), VOCAB_SIZE - 1)
    out: list[str] = _VOCAB_ARRAY[idx].tolist()
    for j in rng.integers(0, n, max(1, n // 40)).tolist():  # numbers, Arabic-Indic or not
        out[j] = str(int(rng.integers(1, 3000)))
    return out


def story(key: int) -> tuple[str, str]:
    """The deterministic synthetic story ``key``: (title, body with paragraphs)."""
    rng = np.random.default_rng(key)
    paras = [" ".join(_words(rng, int(rng.integers(25, 61)))) for _ in range(rng.integers(4, 8))]
    return " ".join(_words(rng, 8)), "\n\n".join(paras)


def filler_cluster(key: int) -> str:
    """Filler stories each found their own cluster, named as the pipeline names them."""
    return new_cluster_id(f"filler/{key}")


def _fingerprints(keys: range) -> list[tuple[str, bytes]]:
    out = []
    for key in keys:
        fp = fingerprint(*story(key))
        out.append((fp.body_hash, fp.signature))
    return out


# -- planted copies and look-alikes -----------------------------------------------------


def _harakat_digits(text: str, rng: np.random.Generator) -> str:
    out = []
    for w in text.split(" "):
        if w.isdigit():
            w = w.translate({ord(str(d)): chr(0x0660 + d) for d in range(10)})
        elif len(w) > 3 and rng.random() < 0.3:
            w = w[0] + str(rng.choice(HARAKAT)) + w[1:]
        elif len(w) > 3 and rng.random() < 0.1:
            w = w[:2] + "\u0640" + w[2:]
        out.append(w)
    return " ".join(out)


COPIES = ("republished", "harakat", "respelled", "new_lede", "dropped", "trimmed", "footer")
LOOKALIKES = ("same_topic", "salad", "background")


def plant(kind: str, title: str, body: str, rng: np.random.Generator) -> tuple[str, str]:
    """A planted copy (``COPIES``) or look-alike (``LOOKALIKES``) of a story."""
    paras = body.split("\n\n")
    if kind == "republished":
        return " ".join(_words(rng, 6)), body
    if kind == "harakat":
        return title, _harakat_digits(body, rng)
    if kind == "respelled":
        return title, body.replace("ج", "غ").replace("ق", "ك")
    if kind == "new_lede":
        first = paras[0].split(" ")
        lede = _words(rng, len(first) // 2 + 5)
        return title, "\n\n".join([" ".join(lede + first[len(first) // 2 :]), *paras[1:]])
    if kind == "dropped":
        return title, "\n\n".join(p for i, p in enumerate(paras) if i != 2)
    if kind == "trimmed":
        return title, "\n\n".join(paras[:2])
    if kind == "footer":
        links = "\n".join(" ".join(_words(rng, 7)) for _ in range(3))
        prompt = "هل ترغب بالتعليق على الموضوع؟\nلا تتردد في إعطاء تعليقك ومشاركة رأيك"
        return title, f"{body}\n\nاقرأ أيضا:\n{links}\n\n{prompt}"
    words = body.split()
    if kind == "same_topic":  # half the words drawn from the original, none of its phrases
        mixed = [str(rng.choice(words)) if rng.random() < 0.5 else w for w in _words(rng, 250)]
        return title, "\n\n".join(" ".join(mixed[i : i + 50]) for i in range(0, 250, 50))
    if kind == "salad":  # a short story made only of the original's words
        return title, " ".join(str(w) for w in rng.choice(words, 40))
    if kind == "background":  # a new story that reuses one paragraph verbatim
        new = [" ".join(_words(rng, 45)) for _ in range(4)]
        return " ".join(_words(rng, 8)), "\n\n".join([*new[:3], paras[-1], new[3]])
    raise ValueError(kind)


@dataclass
class Probe:
    key: int
    story: int  # ground-truth story id (negative for filler)
    title: str
    body: str


def probes(step: int, originals: int) -> list[Probe]:
    """Originals followed by their planted copies and look-alikes (unique keys per step)."""
    rng = np.random.default_rng(1000 + step)
    out: list[Probe] = []
    key = PROBE_BASE + step * 100_000
    for g in range(originals):
        sid = step * 100_000 + g
        title, body = story(PROBE_BASE + sid)
        out.append(Probe(key, sid, title, body))
        key += 1
        for kind in rng.choice(COPIES, 3, replace=False).tolist():
            out.append(Probe(key, sid, *plant(kind, title, body, rng)))
            key += 1
        kind = str(rng.choice(LOOKALIKES))
        out.append(Probe(key, -key, *plant(kind, title, body, rng)))
        key += 1
    return out


# -- measurement -------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Step:
    size: int
    # CPU µs per story (this process; what one core does, whatever else the machine runs)
    fresh_us: float = 0.0  # a stream of new, unrelated stories
    planted_us: float = 0.0  # originals with their planted copies and look-alikes
    planted_find_add_us: float = 0.0
    fresh_median_us: float = 0.0
    planted_median_us: float = 0.0
    bytes_per_story: float = 0.0
    rss_per_story: float = 0.0
    brute_us: float | None = None


def pairwise(truth: dict[int, int], got: dict[int, str]) -> tuple[float, float, int, int]:
    """Pairwise precision, recall, false and missed pairs; filler merges are false pairs."""
    tp = fp = fn = 0
    keys = list(truth)
    for a, b in combinations(keys, 2):
        same, real = got[a] == got[b], truth[a] == truth[b]
        tp += same and real
        fp += same and not real
        fn += real and not same
    founded = {new_cluster_id(f"probe/{k}") for k in keys}
    fp += sum(1 for k in keys if got[k] not in founded)
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, fp, fn)


def _timed(
    index: DedupeIndex, batch: list[Probe], now: datetime, got: dict[int, str]
) -> tuple[float, float, float]:
    """Run ``batch`` through fingerprint + find + add, as the pipeline does.

    Returns CPU µs per story: mean, mean without the fingerprint, and median (robust to
    bursts of load from other processes on a shared machine).
    """
    total: list[float] = []
    find_add = 0.0
    for p in batch:
        t = time.process_time()
        fp = fingerprint(p.title, p.body)
        t1 = time.process_time()
        cluster = index.find(p.title, p.body, fp, now) or new_cluster_id(f"probe/{p.key}")
        index.add(p.key, cluster, p.title, p.body, fp, now)
        t2 = time.process_time()
        total.append(t2 - t)
        find_add += t2 - t1
        got[p.key] = cluster
    n = len(batch)
    return sum(total) / n * 1e6, find_add / n * 1e6, float(np.median(total)) * 1e6


def run(sizes: list[int], originals: int, workers: int, brute_max: int) -> None:
    probe_texts: dict[Hashable, tuple[str, str]] = {}

    def fetch(keys: list[Hashable]) -> dict[Hashable, tuple[str, str]]:
        # the database's role: filler texts are regenerated from their key
        return {k: probe_texts.get(k) or story(int(str(k))) for k in keys}

    for k in range(50):  # warm-up: imports, numpy buffers, regex caches
        fingerprint(*story(FRESH_BASE - 1 - k))
    index = DedupeIndex(timedelta(days=7), fetch=fetch)
    gc.collect()
    base_rss = _rss()
    filled = 0
    steps: list[Step] = []
    batches: list[list[Probe]] = []
    truth_all: dict[int, int] = {}
    got_all: dict[int, str] = {}
    now = T0
    with Pool(workers) as pool:
        for step_no, size in enumerate(sizes):
            t_fill = time.perf_counter()
            chunks = [range(a, min(a + 2000, size)) for a in range(filled, size, 2000)]
            for chunk, fps in zip(chunks, pool.imap(_fingerprints, chunks), strict=True):
                index.load(
                    Candidate(key, filler_cluster(key), "", "", now, body_hash, signature)
                    for key, (body_hash, signature) in zip(chunk, fps, strict=True)
                )
            filled = size
            fill_s = time.perf_counter() - t_fill
            gc.collect()
            step = Step(size)
            step.bytes_per_story = index.memory_bytes() / len(index)
            step.rss_per_story = (_rss() - base_rss) / len(index)

            now += timedelta(seconds=1)
            fresh_keys = range(FRESH_BASE + step_no * 100_000, FRESH_BASE + step_no * 100_000 + 300)
            fresh = [Probe(k, -k, *story(k)) for k in fresh_keys]
            fresh_got: dict[int, str] = {}
            step.fresh_us, _, step.fresh_median_us = _timed(index, fresh, now, fresh_got)
            false_fresh = sum(1 for k, c in fresh_got.items() if c != new_cluster_id(f"probe/{k}"))

            batch = probes(step_no, originals)
            batches.append(batch)
            for p in batch:
                probe_texts[p.key] = (p.title, p.body)
                truth_all[p.key] = p.story
            step.planted_us, step.planted_find_add_us, step.planted_median_us = _timed(
                index, batch, now, got_all
            )
            steps.append(step)
            print(
                f"  filled {size:>9,} in {fill_s:6.1f}s; new stories {step.fresh_us:5.0f} µs/story"
                f" ({false_fresh} merged); planted mix {step.planted_us:5.0f} µs/story",
                flush=True,
            )
    stats = dict(index.stats)
    del index
    gc.collect()

    brute_truth: dict[int, int] = {}
    brute_got: dict[int, str] = {}
    store: list[tuple[int, list[str]]] = []
    for step, batch in zip(steps, batches, strict=True):
        if step.size <= brute_max:
            step.brute_us = _brute(store, step.size, batch, brute_truth, brute_got)

    print()
    print("CPU µs per story, fingerprint + find + add: mean [median]; find+add: mean")
    print(
        f"{'index size':>10} | {'new µs':>12} {'new/s':>6} | {'mix µs':>12} {'mix/s':>6} "
        f"{'find+add':>8} | {'B/story':>7} {'RSS B/st':>8} | {'brute µs':>9} {'speed-up':>8}"
    )
    for s in steps:
        brute = (
            f"{s.brute_us:9.0f} {s.brute_us / s.planted_us:7.0f}×"
            if s.brute_us
            else f"{'(not run)':>9} {'':>8}"
        )
        print(
            f"{s.size:>10,} | {s.fresh_us:5.0f} [{s.fresh_median_us:5.0f}] "
            f"{1e6 / s.fresh_us:6.0f} | "
            f"{s.planted_us:5.0f} [{s.planted_median_us:5.0f}] {1e6 / s.planted_us:6.0f} "
            f"{s.planted_find_add_us:8.0f} | "
            f"{s.bytes_per_story:7.0f} {s.rss_per_story:8.0f} | {brute}"
        )
    by_size = {s.size: s for s in steps}
    if 10_000 in by_size and max(by_size) > 10_000:
        big, ref = by_size[max(by_size)], by_size[10_000]
        print(
            f"time at {big.size:,} / time at 10,000: new stories "
            f"{big.fresh_us / ref.fresh_us:.2f}, planted mix "
            f"{big.planted_us / ref.planted_us:.2f}; medians "
            f"{big.fresh_median_us / ref.fresh_median_us:.2f}, "
            f"{big.planted_median_us / ref.planted_median_us:.2f} (target ≤ 2)"
        )
    if 100_000 in by_size:
        at = by_size[100_000]
        print(
            f"stories/s at 100,000 on one core: new {1e6 / at.fresh_us:.0f}, planted mix "
            f"{1e6 / at.planted_us:.0f} (target ≥ 1,000)"
        )
    print(
        f"index bytes per story at {steps[-1].size:,}: {steps[-1].bytes_per_story:.0f} "
        f"(RSS growth {steps[-1].rss_per_story:.0f}; target ≤ 1,536)"
    )
    precision, recall, fp, fn = pairwise(truth_all, got_all)
    copies = sum(1 for v in truth_all.values() if v >= 0) - originals * len(steps)
    print(
        f"index: {copies} planted copies, {originals * len(steps)} look-alikes; pairwise "
        f"precision {precision:.4f} recall {recall:.4f} (false pairs {fp}, missed {fn})"
    )
    if brute_truth:
        bp, br, bfp, bfn = pairwise(brute_truth, brute_got)
        print(
            f"brute force ({len(brute_truth)} probes): pairwise precision {bp:.4f} "
            f"recall {br:.4f} ({bfp} false, {bfn} missed)"
        )
    print(f"index stats: {stats}")


def _brute(
    store: list[tuple[int, list[str]]],
    size: int,
    batch: list[Probe],
    truth: dict[int, int],
    got: dict[int, str],
) -> float:
    """Brute-force scan of the first probes against ``size`` stored stories; CPU µs/story."""
    for key in range(len(store), size):
        store.append((key, compared_tokens(*story(key))))
    clusters: dict[int, str] = {}
    sample = batch[:20]  # four originals with their copies and look-alikes
    t = time.process_time()
    local: list[tuple[int, list[str]]] = []
    for p in sample:
        tokens = compared_tokens(p.title, p.body)
        cluster = next(
            (
                clusters.get(k, filler_cluster(k))
                for k, other in _scan(store, local)
                if is_near_duplicate(tokens, other)
            ),
            new_cluster_id(f"probe/{p.key}"),
        )
        clusters[p.key] = cluster
        local.append((p.key, tokens))
        truth[p.key] = p.story
        got[p.key] = cluster
    return (time.process_time() - t) / len(sample) * 1e6


def _scan(
    store: list[tuple[int, list[str]]], local: list[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield from reversed(local)
    yield from store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--million", action="store_true", help="add the 1,000,000 step")
    parser.add_argument("--probes", type=int, default=100, help="originals per step")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--brute-max",
        type=int,
        default=10_000,
        help="largest index the brute-force scan runs at (it keeps ~20 KB of tokens/story)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.million:
        sizes.append(1_000_000)
    print(f"dedupe benchmark: sizes {sizes}, {args.probes} originals × 5 stories per step")
    run(sorted(set(sizes)), args.probes, args.workers, args.brute_max)


if __name__ == "__main__":
    main()
