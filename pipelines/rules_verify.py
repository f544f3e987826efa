"""Deciding one candidate rule on a story's term hits, and writing its evidence.

``RuleSet`` (``pipelines.rules_match``) calls ``verify`` only for the rules anchored on a
term that was hit; ``verify`` applies ``fields``, ``none``, ``scope``, ``near``,
``min_any`` and ``threshold`` and turns the hits it used into ``Evidence``.
"""

from __future__ import annotations

from collections import defaultdict

from pipelines.rules_doc import Document
from pipelines.rules_model import Entry, Evidence, Hit, Rule, RuleMatch

_MAX_FORMS = 5
_MAX_SENTENCES = 3
_MAX_EVIDENCE_HITS = 12


def verify(
    rule: Rule,
    ids: tuple[list[int], list[int], list[int]],
    hits: dict[int, list[Hit]],
    doc: Document,
) -> RuleMatch | None:
    """Decide one rule on the term hits of ``doc``; the ``RuleMatch`` or ``None``.

    ``none`` excludes the story when any of its terms occurs in the searched fields.
    ``scope``/``near`` constrain where the ``all`` and ``any`` terms occur together.
    """
    all_ids, any_ids, none_ids = ids
    if rule.simple:  # the common case, kept short: presence anywhere decides
        # (index loops: compiled by mypyc they cost less than zip)
        for t in none_ids:
            if t in hits:
                return None
        for t in all_ids:
            if t not in hits:
                return None
        score = rule.all_weight
        if any_ids or rule.min_any:
            found = 0
            weights = rule.any_weights
            for k in range(len(any_ids)):
                if any_ids[k] in hits:
                    found += 1
                    score += weights[k]
            if found < rule.min_any:
                return None
        if rule.threshold is not None and score < rule.threshold:
            return None
        evidence = []
        entries = rule.all
        for k in range(len(all_ids)):
            evidence.append(_term_evidence(entries[k], all_ids[k], hits, doc))
        if any_ids:
            entries = rule.any
            for k in range(len(any_ids)):
                if any_ids[k] in hits:
                    evidence.append(_term_evidence(entries[k], any_ids[k], hits, doc))
        return RuleMatch(
            rule.name, list(rule.notify) if rule.notify is not None else None, evidence, score
        )
    local: dict[int, list[Hit]] = {}
    for t in (*all_ids, *any_ids, *none_ids):
        if t in hits:
            kept = doc.in_fields(hits[t], rule.fields)
            if kept:
                local[t] = kept
    if any(t not in local for t in all_ids) or any(t in local for t in none_ids):
        return None
    chosen = _satisfied(rule, all_ids, any_ids, local, doc)
    if chosen is None:
        return None
    used, score = chosen
    evidence = [
        _evidence(entry, tid, used[tid], doc)
        for entry, tid in zip((*rule.all, *rule.any), (*all_ids, *any_ids), strict=True)
        if tid in used
    ]
    return RuleMatch(
        rule=rule.name,
        notify=list(rule.notify) if rule.notify is not None else None,
        evidence=evidence,
        score=score,
    )


def _counts(
    rule: Rule, all_ids: list[int], any_ids: list[int], hits: dict[int, list[Hit]]
) -> float | None:
    """The score when all/any/min_any/threshold hold on ``hits``, else ``None``."""
    # Plain loops: this runs for every candidate rule of every story.
    score = 0.0
    for entry, t in zip(rule.all, all_ids, strict=True):
        if t not in hits:
            return None
        score += entry.weight
    found = 0
    for entry, t in zip(rule.any, any_ids, strict=True):
        if t in hits:
            found += 1
            score += entry.weight
    if found < rule.min_any:
        return None
    if rule.threshold is not None and score < rule.threshold:
        return None
    return score


def _satisfied(
    rule: Rule,
    all_ids: list[int],
    any_ids: list[int],
    hits: dict[int, list[Hit]],
    doc: Document,
) -> tuple[dict[int, list[Hit]], float] | None:
    relevant = {t: hits[t] for t in (*all_ids, *any_ids) if t in hits}
    if rule.scope == "story" and rule.near is None:
        score = _counts(rule, all_ids, any_ids, relevant)
        return None if score is None else (relevant, score)
    units: dict[int, dict[int, list[Hit]]] = defaultdict(lambda: defaultdict(list))
    for tid, spans in relevant.items():
        for span in spans:
            units[doc.unit(span[0], rule.scope)][tid].append(span)
    for unit in sorted(units):
        local = units[unit]
        score = _counts(rule, all_ids, any_ids, local)
        if score is None:
            continue
        if rule.near is not None:
            window = _near(all_ids, local, rule.near, doc)
            if window is None:
                continue
            local = {t: ([window[t]] if t in window else h) for t, h in local.items()}
        return dict(local), score
    return None


def _near(
    all_ids: list[int], hits: dict[int, list[Hit]], near: int, doc: Document
) -> dict[int, Hit] | None:
    """One hit per ``all`` term, all in one field, with at most ``near`` other words
    between them; ``None`` when there is no such window."""
    need = set(all_ids)
    events = sorted((span, tid) for tid in need for span in hits.get(tid, ()))
    latest: dict[int, Hit] = {}
    for span, tid in events:
        latest[tid] = span
        if len(latest) < len(need):
            continue
        spans = list(latest.values())
        lo = min(s for s, _ in spans)
        hi = max(e for _, e in spans)
        covered = len({i for s, e in spans for i in range(s, e)})
        if hi - lo - covered <= near and doc.same_field(lo, hi - 1):
            return dict(latest)
    return None


def _term_evidence(entry: Entry, tid: int, hits: dict[int, list[Hit]], doc: Document) -> Evidence:
    """``_evidence`` from all the hits of term ``tid`` (a rule without scope or near)."""
    # Many rules share a term: its forms and marked sentences are worked out once per story.
    found = doc.memo.get(tid)
    if found is None:
        shown = hits[tid][:_MAX_EVIDENCE_HITS]  # enough for the forms and sentences kept
        found = doc.memo[tid] = doc.evidence(shown, _MAX_FORMS, _MAX_SENTENCES)
    return Evidence(entry.clause, entry.term.label, found[0].copy(), found[1].copy())


def _evidence(entry: Entry, tid: int, spans: list[Hit], doc: Document) -> Evidence:
    """Evidence of term ``tid`` from the hits a scoped or near rule used."""
    shown = spans[:_MAX_EVIDENCE_HITS]
    key = (tid, tuple(shown))
    found = doc.memo.get(key)
    if found is None:
        found = doc.memo[key] = doc.evidence(shown, _MAX_FORMS, _MAX_SENTENCES)
    return Evidence(entry.clause, entry.term.label, found[0].copy(), found[1].copy())
