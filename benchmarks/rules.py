"""Rule-matching benchmark: the indexed engine against evaluating every rule one by one.

    python benchmarks/rules.py                       # 100, 1k, 10k, 100k rules
    python benchmarks/rules.py --sizes 100,1000 --docs 200

Stories: ~4 KB of Arabic wire copy (~2,200 characters, 25 sentences) built from the seed
stories' sentences and templated sentences that mention countries, capitals, leaders and
security vocabulary in their inflected forms, so that concepts and literals really hit.

Watchlists (synthetic but shaped like real ones, same random seed every run):
  35 %  all: [country, topic, name literal]; at most 400 of them (10 % up to that cap)
        are broad, without the literal: there are only ~4,000 country x topic pairs
  25 %  all: [name literal], any: [topic, topic]
  20 %  any: [literal, literal, literal]                  (names, places, wire words)
  10 %  all: [country, literal], near: 10, scope: sentence
  10 %  all: ["two-word phrase"], none: [topic]
Name literals are drawn from a pool of synthetic two-word transliterated names (most never
occur, as in a real watchlist) plus, 0.5 % of the time, one of the rarest tenth of the
words of 20 sample stories;
countries are one of a dozen newsworthy ones 10 % of the time, else any country.

Indexed: ``RuleSet.match`` (tokenise once, word-cache lookups, verify anchored rules,
and the full evidence of every match: forms and marked sentences, as the crawler stores
them).  "lookup-only" is the same without verification and evidence (tokenise + index
lookups + longest-name rule): the part that does not depend on how many rules fire;
"verified/doc" is how many anchored candidate rules were looked at per story (those
missing one of their ``all`` terms are dropped before verification), "matches/doc" how
many fired.  Times are CPU seconds of this process (``time.process_time``), best of three
rounds for the indexed engine and for lookup-only, so that other work on a shared machine
disturbs them less.  The stories reuse a small vocabulary, so the word cache is always
warm; the notes under the table say how many words were new while timing.

One by one: the same tokenisation and the same per-word candidates (computed once per
story, shared by all rules — generous to the baseline), then every rule's every alias
checked in turn.  At large sizes the baseline runs on the first rules until two seconds
have passed and its time is extrapolated linearly (it is linear in the rule count by
construction); the output says so.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import pipelines
from pipelines.arabic import candidates, foreign_key, gfold, term_words
from pipelines.lexicon import builtin_lexicon
from pipelines.rules import compile_rules, rules_from_data
from pipelines.rules_doc import Document
from pipelines.rules_match import RuleSet
from pipelines.rules_model import Rule, Term

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = [
    "روسيا",
    "كوريا الشمالية",
    "الصين",
    "إيران",
    "إسرائيل",
    "أوكرانيا",
    "تركيا",
    "سوريا",
    "العراق",
    "مصر",
    "اليابان",
    "فرنسا",
    "ألمانيا",
    "الهند",
    "باكستان",
    "لبنان",
    "اليمن",
    "السودان",
    "ليبيا",
    "كوريا الجنوبية",
    "الولايات المتحدة",
]
CAPITALS = [
    "موسكو",
    "بيونغ يانغ",
    "بكين",
    "طهران",
    "كييف",
    "أنقرة",
    "دمشق",
    "بغداد",
    "القاهرة",
    "طوكيو",
    "باريس",
    "برلين",
    "واشنطن",
    "بيونج يانج",
    "سول",
]
DEMONYMS = [
    "الروسية",
    "الكورية الشمالية",
    "الصينية",
    "الإيرانية",
    "الإسرائيلي",
    "الأوكرانيين",
    "التركي",
    "السوري",
    "العراقية",
    "المصريين",
    "الأمريكية",
]
TOPICS = [
    "الجنود",
    "قوات",
    "صواريخ",
    "صاروخا",
    "النووي",
    "عقوبات",
    "طائرات مسيرة",
    "هجوم",
    "غارات",
    "وقف إطلاق النار",
    "الأسلحة",
    "ذخائر",
    "مناورات",
    "قتلى",
    "المحادثات",
    "اتفاق",
    "انفجار",
    "لاجئين",
    "الجيش",
]
VERBS = ["أعلنت", "قالت", "ذكرت", "أكدت", "نفت", "أفادت", "حذرت", "أرسلت", "نشرت"]
FILLER = (
    "في بيان نشرته وكالة الأنباء الرسمية يوم الأحد",
    "بحسب مصادر مطلعة",
    "خلال مؤتمر صحفي عقد في العاصمة",
    "وسط توتر متزايد في المنطقة",
    "بعد اجتماع استمر عدة ساعات",
    "وفق ما نقلت وسائل إعلام محلية",
)
SYLLABLES = [
    "كا",
    "مي",
    "لو",
    "سا",
    "رو",
    "تي",
    "نا",
    "دي",
    "فو",
    "زا",
    "غو",
    "بي",
    "جا",
    "شو",
    "كو",
    "لي",
    "ما",
    "ني",
    "را",
    "سي",
    "تو",
    "ها",
    "يو",
    "دا",
]
MAX_BROAD = 400  # there are only ~4,000 country x topic pairs: a desk has a few hundred
TOPIC_CONCEPTS = [
    "troops",
    "missile",
    "nuclear",
    "sanctions",
    "drone",
    "attack",
    "airstrike",
    "ceasefire",
    "weapons",
    "ammunition",
    "war",
    "killed",
    "explosion",
    "army",
    "negotiations",
    "refugees",
    "military exercise",
]


def seed_sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [s.strip() for s in re.split(r"(?<=[.!؟])\s+|\n+", text) if len(s) > 40]
    return out


def story(rnd: random.Random, pool: list[str], size: int = 2200) -> tuple[str, str]:
    """A title and a body of about ``size`` characters."""
    parts: list[str] = []
    length = 0
    while length < size:
        if rnd.random() < 0.4:
            sentence = rnd.choice(pool)
        else:
            sentence = (
                f"{rnd.choice(VERBS)} {rnd.choice(COUNTRIES + CAPITALS)} "
                f"{rnd.choice(FILLER)} أن {rnd.choice(TOPICS)} "
                f"{rnd.choice(DEMONYMS)} وصلت إلى {rnd.choice(COUNTRIES)}."
            )
        parts.append(sentence)
        length += len(sentence) + 1
    paragraphs = [" ".join(parts[i : i + 4]) for i in range(0, len(parts), 4)]
    title = f"{rnd.choice(COUNTRIES)}: {rnd.choice(TOPICS)} {rnd.choice(FILLER)}"
    return title, "\n\n".join(paragraphs)


def rare_words(docs: list[tuple[str, str]]) -> list[str]:
    """The rarest tenth of the words of ``docs``: watch terms that do occur are specific
    (a name, a place), not «الحكومة»."""
    seen: dict[str, int] = {}
    for _, body in docs:
        for word in set(re.findall(r"\w{4,}", body)):
            seen[word] = seen.get(word, 0) + 1
    return sorted(seen, key=lambda w: (seen[w], w))[: max(1, len(seen) // 10)]


def watchlist(n: int, rnd: random.Random, doc_words: list[str]) -> dict[str, Any]:
    countries = [c.name for c in builtin_lexicon().concepts if c.kind == "country"]
    popular = [
        "Russia",
        "North Korea",
        "China",
        "Iran",
        "Israel",
        "Ukraine",
        "Turkey",
        "Syria",
        "Iraq",
        "Egypt",
        "United States",
        "South Korea",
    ]

    def name() -> str:
        def word() -> str:
            return "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 3)))

        return f"{word()} {word()}"

    def literal() -> str:
        return rnd.choice(doc_words) if rnd.random() < 0.005 else name()

    def country() -> str:
        return rnd.choice(popular) if rnd.random() < 0.1 else rnd.choice(countries)

    rules = []
    broad = 0
    for i in range(n):
        kind = rnd.random()
        rule: dict[str, Any] = {"name": f"rule-{i}"}
        if kind < 0.35:
            if rnd.random() < 0.9 or broad >= MAX_BROAD:
                rule["all"] = [country(), rnd.choice(TOPIC_CONCEPTS), literal()]
            else:  # broad rules on any country, rarely one of the newsworthy dozen
                rule["all"] = [rnd.choice(countries), rnd.choice(TOPIC_CONCEPTS)]
                broad += 1
        elif kind < 0.60:
            rule["all"] = [literal()]
            rule["any"] = rnd.sample(TOPIC_CONCEPTS, 2)
        elif kind < 0.80:
            rule["any"] = [literal() for _ in range(3)]
        elif kind < 0.90:
            rule.update(all=[country(), literal()], near=10, scope="sentence")
        else:
            rule.update(all=[name()], none=[rnd.choice(TOPIC_CONCEPTS)])
        rules.append(rule)
    return {"rules": rules}


# --- the one-by-one baseline -----------------------------------------------------------------


@dataclass
class Naive:
    """Evaluate every rule in turn against a story; no index, no sharing between rules."""

    rules: list[Rule]

    def __post_init__(self) -> None:
        lexicon = builtin_lexicon()
        self.concepts = {c.name: c for c in lexicon.concepts}

    def _aliases(self, term: Term) -> tuple[list[tuple[str, ...]], list[str]]:
        literals = list(term.literals)
        foreign = list(term.foreign)
        for name in term.concepts:
            c = self.concepts[name]
            literals += [tuple(term_words(a)) for a in c.literal]
            foreign += [foreign_key(a) for a in c.foreign]
        return literals, foreign

    def match(self, title: str, body: str, word_cache: dict[str, frozenset[str]]) -> int:
        doc = Document.build(title, body)
        cands = []
        for tok in doc.tokens:
            found = word_cache.get(tok)
            if found is None:
                found = word_cache[tok] = candidates(tok)
            cands.append(found)
        present = set().union(*cands) if cands else set()
        glued = [gfold(t) for t in doc.tokens]
        text = "".join(glued)
        fired = 0
        for rule in self.rules:

            def hit(term: Term) -> bool:
                literals, foreign = self._aliases(term)
                for words in literals:
                    if words and words[0] in present:
                        for i, c in enumerate(cands):
                            if words[0] in c and all(
                                i + k < len(cands) and w in cands[i + k]
                                for k, w in enumerate(words[1:], 1)
                            ):
                                return True
                return any(key and key in text for key in foreign)

            if any(not hit(e.term) for e in rule.all):
                continue
            if sum(hit(e.term) for e in rule.any) < rule.min_any:
                continue
            if any(hit(e.term) for e in rule.none):
                continue
            fired += 1
        return fired


def engine_build() -> str:
    """Which build of the rule engine runs: compiled by mypyc (see setup.py) or not."""
    stale = pipelines.stale_compiled()
    if stale:
        sys.exit(f"compiled rule engine older than its source ({', '.join(stale)}): reinstall")
    state = pipelines.compiled()
    if all(state.values()):
        return "compiled by mypyc"
    if not any(state.values()):
        return "pure Python (not compiled; a compiled build is about 1.7x faster)"
    return f"partly compiled: {state}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--docs", type=int, default=300, help="stories timed per size")
    parser.add_argument("--baseline-seconds", type=float, default=2.0)
    args = parser.parse_args()
    rnd = random.Random(20241101)
    pool = seed_sentences()
    docs = [story(rnd, pool) for _ in range(args.docs + 100)]
    warm, timed = docs[:100], docs[100:]
    doc_words = rare_words(docs[:20])
    avg = sum(len((t + "\n" + b).encode()) for t, b in timed) / len(timed)
    print(f"{len(timed)} stories, {avg / 1024:.1f} KB UTF-8 on average; one core")
    print(f"rule engine: {engine_build()}\n")
    print(
        f"{'rules':>8} {'compile s':>10} {'indexed docs/s':>15} {'lookup-only':>12} "
        f"{'verified/doc':>13} {'matches/doc':>12} {'one-by-one docs/s':>18} {'ratio':>8}"
    )
    notes: list[str] = []
    for n in [int(s) for s in args.sizes.split(",")]:
        data = watchlist(n, random.Random(n), doc_words)
        t0 = time.process_time()
        ruleset: RuleSet = compile_rules(rules_from_data(data, f"<{n} rules>"))
        compile_s = time.process_time() - t0
        gc.collect()
        gc.freeze()  # as the crawler does (crawler.app.App.rules): rules are never garbage
        for title, body in warm:  # a crawler runs for long: measure the warm word cache
            ruleset.match(title, body)
        known = ruleset.terms.known_words
        rounds = []
        for _ in range(3):  # best of three: the machine may be shared
            t0 = time.process_time()
            matches = sum(len(ruleset.match(title, body)) for title, body in timed)
            rounds.append(time.process_time() - t0)
        indexed = len(timed) / min(rounds)
        new_words = (ruleset.terms.known_words - known) / len(timed)
        # the part that does not depend on the rules' hits: tokenise + index lookups
        lookup_rounds = []
        for _ in range(3):
            t0 = time.process_time()
            term_hits = [ruleset.term_hits(Document.build(title, body)) for title, body in timed]
            lookup_rounds.append(time.process_time() - t0)
        lookup = len(timed) / min(lookup_rounds)
        verified = sum(len(ruleset.candidates(hits)) for hits in term_hits)

        naive = Naive(ruleset.rules)
        cache: dict[str, frozenset[str]] = {}
        for title, body in warm[:5]:
            naive.match(title, body, cache)
        t0 = time.process_time()
        done_docs = 0
        part = naive
        for title, body in timed:
            part.match(title, body, cache)
            done_docs += 1
            if time.process_time() - t0 > args.baseline_seconds:
                break
        per_doc = (time.process_time() - t0) / done_docs
        note = ""
        if done_docs == 1 and per_doc > args.baseline_seconds and n > 1000:
            # linear in rules by construction: time a slice of them and scale up
            k = max(200, int(n * args.baseline_seconds / per_doc / 4))
            part = Naive(ruleset.rules[:k])
            t0 = time.process_time()
            part.match(*timed[1], cache)
            per_doc = (time.process_time() - t0) * n / k
            note = f"  (one-by-one extrapolated from {k} rules)"
        baseline = 1 / per_doc
        print(
            f"{n:>8} {compile_s:>10.2f} {indexed:>15.0f} {lookup:>12.0f} "
            f"{verified / len(timed):>13.1f} {matches / len(timed):>12.1f} "
            f"{baseline:>18.1f} {indexed / baseline:>7.0f}x{note}"
        )
        notes.append(
            f"{n} rules: {known} distinct words cached after warm-up,"
            f" {new_words:.1f} new per timed story"
        )
    print("\n" + "\n".join(notes))
    print(
        "(a word seen for the first time costs ~15 us to analyse; real wire copy brings"
        " more new words per story than these synthetic ones)"
    )


if __name__ == "__main__":
    main()
