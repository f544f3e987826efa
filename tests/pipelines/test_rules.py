"""Watch rules: the case table (rule_cases.yaml), validation errors, evidence, the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.config import ConfigError
from pipelines.lexicon import builtin_lexicon
from pipelines.rules import check_watchlist, compile_rules, load_watchlists, rules_from_data
from pipelines.rules_doc import Document
from pipelines.rules_match import verify

ROOT = Path(__file__).resolve().parents[2]
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("rule_cases.yaml")).read_text(encoding="utf-8")
)


def write(tmp_path: Path, data: Any, name: str = "watchlist.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rule_case(case: dict[str, Any], tmp_path: Path) -> None:
    watchlist = {"rules": [{"name": case["id"], **case["rule"]}]}
    if "terms" in case:
        watchlist["terms"] = case["terms"]
    ruleset = load_watchlists([write(tmp_path, watchlist)])
    matches = ruleset.match(case.get("title", ""), case["text"])
    assert [m.rule for m in matches] == ([case["id"]] if case["match"] else [])
    if case["match"]:
        forms = {f for e in matches[0].evidence for f in e.forms}
        assert set(case.get("forms", [])) <= forms


# --- the seeds and the example rule ------------------------------------------------------------

EXAMPLE = """
rules:
  - name: north-korea-russia-troops
    all: ["North Korea", "Russia", "troops"]
"""


@pytest.mark.parametrize("seed", sorted((ROOT / "seeds").glob("*.txt")), ids=lambda p: p.name)
def test_example_rule_matches_every_seed(seed: Path, tmp_path: Path) -> None:
    ruleset = load_watchlists([write(tmp_path, EXAMPLE)])
    lines = seed.read_text(encoding="utf-8").splitlines()
    title, body = lines[0], "\n".join(lines[1:])  # whatever the extractor makes the title
    matches = ruleset.match(title, body)
    assert [m.rule for m in matches] == ["north-korea-russia-troops"]
    assert [e.term for e in matches[0].evidence] == ["North Korea", "Russia", "troops"]
    for evidence in matches[0].evidence:
        assert evidence.clause == "all"
        assert evidence.forms and evidence.sentences
        assert all("[[" in s and "]]" in s for s in evidence.sentences)


def test_evidence_marks_forms_in_original_text(tmp_path: Path) -> None:
    ruleset = load_watchlists([write(tmp_path, EXAMPLE)])
    [match] = ruleset.match("", "أَرسلت بيونغ يانغ آلاف الجنودِ إلى روسيا. وقال مسؤول إن الوضع هادئ.")
    by_term = {e.term: e for e in match.evidence}
    assert by_term["North Korea"].forms == ["بيونغ يانغ"]
    assert by_term["troops"].forms == ["الجنودِ"]
    assert by_term["troops"].sentences == ["أَرسلت بيونغ يانغ آلاف [[الجنودِ]] إلى روسيا."]
    assert match.score == 3.0
    assert match.notify is None


def test_notify_is_carried(tmp_path: Path) -> None:
    path = write(tmp_path, {"rules": [{"name": "r", "all": ["Russia"], "notify": ["desk"]}]})
    [match] = load_watchlists([path], channels={"desk"}).match("", "قالت موسكو")
    assert match.notify == ["desk"]


# --- validation --------------------------------------------------------------------------------

ERRORS = [
    ("empty-rule", "rules:\n  - name: a\n    none: [x]\n", 2, "is empty"),
    ("yaml-no", "rules:\n  - name: a\n    all: [Russia,\n          NO]\n", 4, "boolean false"),
    ("number", "rules:\n  - name: a\n    all: [2024]\n", 3, "number 2024"),
    ("unknown-key", "rules:\n  - name: a\n    al: [x]\n    all: [x]\n", 3, "unknown key 'al'"),
    ("unknown-top", "rulez: []\nrules:\n  - name: a\n    all: [x]\n", 1, "unknown key 'rulez'"),
    (
        "dup-name",
        "rules:\n  - name: a\n    all: [x]\n  - name: a\n    all: [y]\n",
        4,
        "duplicate rule name",
    ),
    ("no-name", "rules:\n  - all: [x]\n", 2, "needs a name"),
    ("unknown-group", "rules:\n  - name: a\n    all: [{group: nope}]\n", 3, "unknown term group"),
    (
        "unknown-concept",
        "rules:\n  - name: a\n    all: [{concept: Atlantis}]\n",
        3,
        "unknown concept",
    ),
    (
        "unknown-channel",
        "rules:\n  - name: a\n    all: [x]\n    notify: [pager]\n",
        4,
        "unknown channel 'pager'",
    ),
    ("bad-scope", "rules:\n  - name: a\n    all: [x]\n    scope: page\n", 4, "scope must be"),
    ("bad-near", "rules:\n  - name: a\n    all: [x, y]\n    near: 0\n", 4, "near must be"),
    (
        "near-no-as-written",
        "rules:\n  - name: a\n    all: [x, y]\n    near: NO\n",
        4,
        "near must be a whole number of at least 1, not 'NO'",
    ),
    ("near-one-term", "rules:\n  - name: a\n    all: [x]\n    near: 3\n", 4, "at least two"),
    ("min-any-too-big", "rules:\n  - name: a\n    any: [x]\n    min_any: 2\n", 4, "min_any is 2"),
    (
        "bad-threshold",
        "rules:\n  - name: a\n    any: [x]\n    threshold: high\n",
        4,
        "threshold must be a number",
    ),
    (
        "bad-weight",
        "rules:\n  - name: a\n    any: [{term: x, weight: much}]\n",
        3,
        "weight must be a number",
    ),
    ("bad-field", "rules:\n  - name: a\n    all: [x]\n    fields: [lede]\n", 4, "unknown field"),
    ("no-letters", "rules:\n  - name: a\n    all: ['!!']\n", 3, "no letters"),
    ("empty-term", "rules:\n  - name: a\n    all: ['  ']\n", 3, "empty term"),
    (
        "group-cycle",
        "terms:\n  a: [b]\n  b: [a]\nrules:\n  - name: r\n    all: [a]\n",
        3,
        "refers to itself",
    ),
    ("group-bool", "terms:\n  g: [yes]\nrules:\n  - name: r\n    all: [g]\n", 2, "boolean true"),
    ("not-a-list", "rules: {name: a}\n", 1, "non-empty list"),
    ("bad-yaml", "rules:\n  - name: [a\n", 3, ""),
    ("empty-notify", "rules:\n  - name: a\n    all: [x]\n    notify: []\n", 4, "notify must list"),
]


@pytest.mark.parametrize(
    ("text", "line", "problem"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_check_names_file_line_problem(text: str, line: int, problem: str, tmp_path: Path) -> None:
    path = write(tmp_path, text)
    errors = check_watchlist(path, channels={"desk"})
    assert errors, "expected a problem"
    assert any(e.line == line and problem in e.problem for e in errors), [str(e) for e in errors]
    assert str(errors[0]).startswith(f"{path}:")
    with pytest.raises(ConfigError):
        load_watchlists([path], channels={"desk"})


def test_check_reports_every_problem(tmp_path: Path) -> None:
    text = (
        "rules:\n"
        "  - name: a\n"
        "    all: [NO]\n"
        "  - name: b\n"
        "    notify: [pager]\n"
        "  - name: a\n"
        "    all: [x]\n"
    )
    errors = check_watchlist(write(tmp_path, text), channels={"desk"})
    assert [e.line for e in errors] == [3, 4, 5, 6]


def test_unknown_name_is_a_literal_not_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, {"rules": [{"name": "a", "all": ["Atlantis", "قواعد"]}]})
    assert check_watchlist(path) == []


def test_channels_none_skips_the_channel_check(tmp_path: Path) -> None:
    path = write(tmp_path, {"rules": [{"name": "a", "all": ["x"], "notify": ["pager"]}]})
    assert check_watchlist(path) == []


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    one = write(tmp_path, {"rules": [{"name": "a", "all": ["x"]}]}, "one.yaml")
    two = write(tmp_path, {"rules": [{"name": "a", "all": ["y"]}]}, "two.yaml")
    with pytest.raises(ConfigError, match="duplicate rule name"):
        load_watchlists([one, two])


def test_valid_watchlist_has_no_errors(tmp_path: Path) -> None:
    text = """
terms:
  sanctions: [عقوبات, "حظر تصدير", sanctions]
rules:
  - name: north-korea-russia-troops
    all: ["North Korea", "Russia", "troops"]
    any: []
    none: []
    notify: [desk]
  - name: weighted
    any: [{term: nuclear, weight: 2}, {group: sanctions}, missile]
    min_any: 1
    threshold: 2.5
    near: 5
    all: [Iran, missile]
    scope: sentence
    fields: [title, body]
"""
    assert check_watchlist(write(tmp_path, text), channels={"desk"}) == []


# --- the index agrees with evaluating every rule ----------------------------------------------


def test_index_agrees_with_one_by_one(tmp_path: Path) -> None:
    rules = [{"name": c["id"], **c["rule"]} for c in CASES if "terms" not in c]
    ruleset = load_watchlists([write(tmp_path, {"rules": rules})])
    for case in CASES:
        doc = Document.build(case.get("title", ""), case["text"])
        hits = ruleset.term_hits(doc)
        naive = [
            r.name
            for rid, r in enumerate(ruleset.rules)
            if verify(r, ruleset.rule_terms(rid), hits, doc) is not None
        ]
        assert [m.rule for m in ruleset.match_document(doc)] == naive, case["id"]


def test_only_anchored_rules_are_verified() -> None:
    names = [f"اسم{i} عائلة{i}" for i in range(3000)]
    data = {"rules": [{"name": f"r{i}", "all": ["Russia", n]} for i, n in enumerate(names)]}
    data["rules"].append({"name": "hit", "all": ["Russia", "troops"]})
    ruleset = compile_rules(rules_from_data(data))
    doc = Document.build("", "أرسلت روسيا مزيدا من الجنود إلى الجبهة.")
    assert [m.rule for m in ruleset.match_document(doc)] == ["hit"]
    # every rule mentions Russia, but each is anchored on its rarer term: only one rule
    # is a candidate for verification
    candidates = ruleset.candidates(ruleset.term_hits(doc))
    assert [ruleset.rules[rid].name for rid in candidates] == ["hit"]


def test_check_suggests_the_concept_a_typo_meant(tmp_path: Path) -> None:
    rules = [{"name": "a", "all": ["North Koreaa", "troops"]}, {"name": "b", "all": ["Russians"]}]
    path = write(tmp_path, {"rules": rules})
    [problem] = check_watchlist(path)
    assert problem.line is not None
    assert "'North Koreaa' is not a built-in concept" in str(problem)
    assert "did you mean 'North Korea'?" in str(problem)
    # a warning, not an error: the file still loads (the entry is a literal)
    assert [r.name for r in load_watchlists([path]).rules] == ["a", "b"]


def test_rules_from_data_raises_the_first_problem() -> None:
    with pytest.raises(ConfigError, match="is empty"):
        rules_from_data({"rules": [{"name": "a"}]})
    [rule] = rules_from_data({"rules": [{"name": "a", "any": ["x", "y"], "min_any": 2}]})
    assert rule.min_any == 2 and rule.scope == "story" and rule.notify is None


def test_fields_body_only_ignores_the_title(tmp_path: Path) -> None:
    path = write(tmp_path, {"rules": [{"name": "a", "all": ["Russia"], "fields": ["body"]}]})
    ruleset = load_watchlists([path])
    assert ruleset.match("روسيا تحذر", "قال المتحدث إن الأمر انتهى.") == []
    assert [m.rule for m in ruleset.match("تحذير", "قالت روسيا إن الأمر انتهى.")] == ["a"]


def test_near_does_not_join_title_and_body(tmp_path: Path) -> None:
    rule = {"name": "a", "all": ["Russia", "troops"], "near": 2}
    ruleset = load_watchlists([write(tmp_path, {"rules": [rule]})])
    assert ruleset.match("تقرير عن روسيا", "الجنود عادوا إلى ثكناتهم.") == []
    assert [m.rule for m in ruleset.match("", "روسيا ترسل الجنود")] == ["a"]


def test_weights_give_the_score(tmp_path: Path) -> None:
    rule = {
        "name": "a",
        "any": [{"term": "nuclear", "weight": 2.5}, {"term": "Iran", "weight": 1}],
        "threshold": 3,
    }
    ruleset = load_watchlists([write(tmp_path, {"rules": [rule]})])
    [match] = ruleset.match("", "قالت طهران إن برنامجها النووي سلمي.")
    assert match.score == 3.5
    assert {e.term: e.clause for e in match.evidence} == {"nuclear": "any", "Iran": "any"}


# --- the bundled lexicon -------------------------------------------------------------------


def test_lexicon_covers_every_country_and_the_core_vocabulary() -> None:
    lexicon = builtin_lexicon()
    countries = [c for c in lexicon.concepts if c.kind == "country"]
    assert len(countries) >= 240
    assert all(c.literal or c.foreign for c in lexicon.concepts)
    for name in [
        "North Korea",
        "south korea",
        "RUSSIA",
        "DPRK",
        "USA",
        "troops",
        "missile",
        "nuclear",
        "sanctions",
        "drone",
        "attack",
        "ceasefire",
    ]:
        assert lexicon.get(name) is not None, name
    assert len({c.name for c in lexicon.concepts}) == len(lexicon.concepts)


def test_bundled_yaml_is_what_the_build_script_generates() -> None:
    pytest.importorskip("babel")
    import importlib.util

    script = ROOT / "pipelines" / "data" / "build_concepts.py"
    spec = importlib.util.spec_from_file_location("build_concepts", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == (ROOT / "pipelines" / "data" / "concepts.yaml").read_text("utf-8")


def test_a_title_repeating_the_lede_is_shown_once(tmp_path: Path) -> None:
    ruleset = load_watchlists([write(tmp_path, EXAMPLE)])
    text = "أرسلت بيونغ يانغ آلاف الجنود إلى روسيا"
    [match] = ruleset.match(text, text)
    assert all(len(e.sentences) == 1 for e in match.evidence)


def test_a_title_repeating_the_lede_without_its_full_stop_is_shown_once(tmp_path: Path) -> None:
    ruleset = load_watchlists([write(tmp_path, EXAMPLE)])
    lede = "أرسلت بيونغ يانغ آلاف الجنود إلى روسيا"
    [match] = ruleset.match(lede, lede + ".\n\nوقال مسؤول إن الجنود وصلوا.")
    troops = next(e for e in match.evidence if e.term == "troops")
    assert troops.sentences == [
        "أرسلت بيونغ يانغ آلاف [[الجنود]] إلى روسيا",
        "وقال مسؤول إن [[الجنود]] وصلوا.",
    ]
