from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config, read_yaml


def write(tmp_path: Path, text: str, name: str = "wirewatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_default_config_loads() -> None:
    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(repo / "wirewatch.yaml")
    assert cfg.database == f"sqlite:///{repo / 'wirewatch.db'}"
    assert [s.name for s in cfg.sources] == ["seeds"]
    assert cfg.sources[0].path == str(repo / "seeds/*.txt")
    assert cfg.watchlists == [str(repo / "watchlist.yaml")]
    assert list(cfg.channels) == ["terminal"]


def test_env_variables_are_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", "whsec_c2VjcmV0")
    path = write(
        tmp_path,
        "channels:\n  hook:\n    type: webhook\n    url: http://127.0.0.1:9/h\n"
        "    secret: ${HOOK_SECRET}\n",
    )
    cfg = load_config(path)
    secret = cfg.channels["hook"].secret  # type: ignore[union-attr]
    assert secret.get_secret_value() == "whsec_c2VjcmV0"
    assert "c2VjcmV0" not in repr(cfg)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("sources:\n  - name: a\n    type: ftp\n    url: x\n", 3, "unknown type 'ftp'"),
        (
            "sources:\n  - name: a\n    type: feed\n    urll: x\n    url: y\n",
            4,
            "unknown key 'urll'",
        ),
        (
            "channels:\n  h:\n    type: webhook\n    url: u\n    secret: ${NOPE_NOT_SET}\n",
            5,
            "environment variable NOPE_NOT_SET is not set",
        ),
        ("a: [1, 2\n", 2, ""),
        ("x: !!python/object/apply:os.system [ls]\n", 1, "is not allowed"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        (
            "sources:\n  - {name: a, type: files, path: x}\n  - {name: a, type: files, path: y}\n",
            3,
            "duplicate source name 'a'",
        ),
        ("database: x\ndatabase: y\n", 2, "duplicate key 'database'"),
    ],
)
def test_mistakes_name_file_line_and_problem(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message
    assert "\n" not in message


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="too many YAML nodes"):
        read_yaml(path)


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x: " + "a" * (3 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="file too large"):
        read_yaml(path)


def test_yaml_lines_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - name: r\n    all:\n      - NO\n      - b\n")
    doc = read_yaml(path)
    assert doc.data == {"rules": [{"name": "r", "all": [False, "b"]}]}
    assert doc.line(("rules", 0, "all", 0)) == 4
    assert doc.line(("rules", 0, "all", 1)) == 5
    assert doc.line(("rules", 0, "missing", 3)) == 2


def test_embedded_default_without_local_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    repo = Path(__file__).resolve().parents[2]
    assert cfg.database == f"sqlite:///{tmp_path / 'wirewatch.db'}"
    assert cfg.sources[0].path == str(repo / "seeds" / "*.txt")
    assert [Path(w).read_text() for w in cfg.watchlists] == [(repo / "watchlist.yaml").read_text()]


def test_dedupe_window(tmp_path: Path) -> None:
    from datetime import timedelta

    assert load_config(write(tmp_path, "database: sqlite:///x.db\n")).dedupe.window_delta == (
        timedelta(days=7)
    )
    cfg = load_config(write(tmp_path, "dedupe:\n  window: 36h\n"))
    assert cfg.dedupe.window_delta == timedelta(hours=36)
    with pytest.raises(ConfigError, match=r":2: dedupe.window: .*'soon' is not a duration"):
        load_config(write(tmp_path, "dedupe:\n  window: soon\n"))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("every", "soon", "sources.0.every: 'soon' is not a duration"),
        ("timeout", "2 min", "sources.0.timeout: '2 min' is not a duration"),
        ("cron", "every tuesday", "sources.0.cron: wrong number of fields"),
    ],
)
def test_schedule_mistakes_name_file_and_line(
    tmp_path: Path, field: str, value: str, problem: str
) -> None:
    path = write(
        tmp_path, f"sources:\n  - name: s\n    type: files\n    path: x\n    {field}: {value}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:5: {problem}")


# --- volume control keys of channels -----------------------------------------------------


def test_channel_volume_keys(tmp_path: Path) -> None:
    from datetime import time, timedelta
    from zoneinfo import ZoneInfo

    path = write(
        tmp_path,
        "channels:\n"
        "  desk:\n    type: email\n    host: h\n    sender: s@x\n    to: [d@x]\n"
        "    cooldown: 10m\n"
        "    quiet_hours: {from: 22:00, to: '07:00'}\n"  # unquoted 22:00 is YAML base 60
        "    timezone: Europe/London\n"
        "  hook:\n    type: webhook\n    url: http://127.0.0.1:9/h\n    secret: x\n"
        "    quiet_hours:\n      from: '12:30'\n      to: 13:45\n"
        "  terminal:\n    type: console\n",
    )
    cfg = load_config(path)
    desk, hook, terminal = (cfg.channels[n] for n in ("desk", "hook", "terminal"))
    assert desk.cooldown_delta == timedelta(minutes=10)
    assert desk.quiet_hours is not None
    assert desk.quiet_hours.window == (time(22, 0), time(7, 0))
    assert desk.zone == ZoneInfo("Europe/London")
    assert hook.quiet_hours is not None
    assert hook.quiet_hours.window == (time(12, 30), time(13, 45))
    assert hook.zone == ZoneInfo("UTC") and hook.cooldown_delta is None
    assert terminal.quiet_hours is None and terminal.cooldown_delta is None


@pytest.mark.parametrize(
    ("keys", "line", "problem"),
    [
        ("    cooldown: soon\n", 4, "channels.t.cooldown: 'soon' is not a duration"),
        ("    cooldown: 0m\n", 4, "channels.t.cooldown: '0m' is not a duration"),
        ("    timezone: Mars/Olympus\n", 4, "channels.t.timezone: unknown timezone 'Mars/Olympus'"),
        (
            "    quiet_hours: {from: '25:00', to: '07:00'}\n",
            4,
            "channels.t.quiet_hours.from: '25:00' is not a time of day",
        ),
        (
            "    quiet_hours:\n      from: 22:00\n      to: 7\n",
            6,
            "channels.t.quiet_hours.to: '7' is not a time of day",
        ),
        (
            "    quiet_hours:\n      from: '22:00'\n",
            4,
            "channels.t.quiet_hours.to: field required",
        ),
        (
            "    quiet_hours: {from: '07:00', to: '07:00'}\n",
            4,
            "channels.t.quiet_hours: from and to are the same time",
        ),
        (
            "    quiet_hours: {from: '22:00', to: '07:00', tz: UTC}\n",
            4,
            "unknown key 'tz'",
        ),
    ],
)
def test_channel_volume_mistakes_name_file_and_line(
    tmp_path: Path, keys: str, line: int, problem: str
) -> None:
    path = write(tmp_path, "channels:\n  t:\n    type: console\n" + keys)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message, message
