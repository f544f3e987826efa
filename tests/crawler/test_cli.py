"""The command line, in-process (no crawl: that runs in a subprocess in test_e2e)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.cli import UsageError, main, parse_since

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2024-11-01", datetime(2024, 11, 1, tzinfo=timezone.utc)),
        ("2024-11-01T10:00:00+03:00", datetime(2024, 11, 1, 7, tzinfo=timezone.utc)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_parse_since_refuses_nonsense() -> None:
    with pytest.raises(UsageError, match="--since 'yesterday'"):
        parse_since("yesterday", NOW)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wirewatch: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("database: postgresql+psycopg://postgres@127.0.0.1:1/x\n", "cannot open database"),
        ("database: nosuchdialect://x\n", "cannot use database"),
        ("sources: [\n", "c.yaml:2:"),
        ("channels:\n  x:\n    type: pager\n", "c.yaml:3: channels.x"),
    ],
)
def test_user_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, problem: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(config, encoding="utf-8")
    assert main(["-c", str(path), "stories"]) == 2
    assert problem in one_error_line(capsys)


def test_unknown_source_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"database: sqlite:///{tmp_path / 'w.db'}\n"
        "sources:\n  - {name: seeds, type: files, path: x/*.txt}\n",
        encoding="utf-8",
    )
    assert main(["-c", str(path), "crawl", "--source", "nope"]) == 2
    assert "unknown source 'nope' (known: seeds)" in one_error_line(capsys)


def test_rules_check_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(
        'rules:\n  - name: x\n    all: [NO, "North Korea"]\n    notify: [pager]\n'
        "  - name: x\n    any: []\n",
        encoding="utf-8",
    )
    config = tmp_path / "c.yaml"
    config.write_text("channels:\n  terminal:\n    type: console\n", encoding="utf-8")
    assert main(["-c", str(config), "rules", "check", str(watchlist)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{watchlist}:3:") and "boolean" in line for line in err)
    assert any(line.startswith(f"{watchlist}:4:") and "pager" in line for line in err)
    assert any(line.startswith(f"{watchlist}:5:") and "duplicate rule" in line for line in err)


def test_rules_check_warns_about_a_likely_typo_without_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(
        'rules:\n  - name: x\n    all: ["North Koreaa", troops]\n', encoding="utf-8"
    )
    assert main(["rules", "check", str(watchlist)]) == 0
    out = capsys.readouterr()
    assert f"{watchlist}:3: warning:" in out.err
    assert "did you mean 'North Korea'?" in out.err
    assert "ok (1 rules)" in out.out


def test_rules_check_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(REPO / "watchlist.yaml")]) == 0
    assert "ok (1 rules)" in capsys.readouterr().out


def test_rules_test_json_on_the_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    seeds = sorted(str(p) for p in (REPO / "seeds").glob("*.txt"))
    assert main(["rules", "test", str(REPO / "watchlist.yaml"), *seeds, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["rule"]) for r in results] == [
        (s, "north-korea-russia-troops") for s in seeds
    ]
    for result in results:
        terms = {e["term"] for e in result["evidence"]}
        assert terms == {"North Korea", "Russia", "troops"}
        assert all(e["forms"] and e["sentences"] for e in result["evidence"])


def test_rules_test_reads_the_dateline_and_the_speaker_of_a_headline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.yaml"
    watchlist.write_text(
        "rules:\n  - {name: iran, all: [Iran]}\n  - {name: russia, all: [Russia, troops]}\n",
        encoding="utf-8",
    )
    speaker = tmp_path / "speaker.txt"
    speaker.write_text("عراقجي: لا مفاوضات مباشرة مع واشنطن\n", encoding="utf-8")
    filed = tmp_path / "filed.txt"
    filed.write_text("موسكو (رويترز) - أرسلت وزارة الدفاع المزيد من القوات.\n", encoding="utf-8")
    assert main(["rules", "test", str(watchlist), str(speaker), str(filed), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [(Path(r["file"]).name, r["rule"]) for r in results] == [
        ("speaker.txt", "iran"),
        ("filed.txt", "russia"),
    ]
    assert results[0]["evidence"][0]["sentences"] == ["[[عراقجي]]: لا مفاوضات مباشرة مع واشنطن"]


def test_rules_test_unreadable_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "story.txt"
    bad.write_bytes("كوريا".encode("cp1256"))
    assert main(["rules", "test", str(REPO / "watchlist.yaml"), str(bad)]) == 2
    assert "not UTF-8 text" in one_error_line(capsys)


def test_stories_and_alerts_on_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'w.db'}\n", encoding="utf-8")
    assert main(["-c", str(config), "stories", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["-c", str(config), "alerts", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
