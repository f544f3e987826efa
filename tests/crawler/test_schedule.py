from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import ConfigError, FilesSource
from crawler.schedule import parse_every, trigger_for

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        (" 2h ", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_parse_every(text: str, expected: timedelta) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "15", "0m", "5 minutes", "-1h", "1.5h"])
def test_parse_every_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_every(text)


def test_triggers_from_sources() -> None:
    every = FilesSource(type="files", name="s", path="x", every="10m")
    assert isinstance(trigger_for(every), IntervalTrigger)
    cron = FilesSource(type="files", name="s", path="x", cron="*/5 * * * *")
    assert isinstance(trigger_for(cron), CronTrigger)
    bad = FilesSource(type="files", name="s", path="x", cron="every tuesday")
    with pytest.raises(ConfigError, match="source s: cron"):
        trigger_for(bad)


def test_run_crawls_on_schedule_delivers_once_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    for seed in (REPO / "seeds").glob("*.txt"):
        (tmp_path / "seeds" / seed.name).write_bytes(seed.read_bytes())
    (tmp_path / "watchlist.yaml").write_bytes((REPO / "watchlist.yaml").read_bytes())
    config = tmp_path / "wirewatch.yaml"
    config.write_text(
        "database: sqlite:///w.db\n"
        "sources:\n  - name: seeds\n    type: files\n    path: seeds/*.txt\n    every: 2s\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        assert proc.stdout is not None
        while len(lines) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("[north-korea-russia-troops]"):
                lines.append(line)
        assert len(lines) == 2
        time.sleep(5)  # two more scheduled runs: nothing new to send
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "[north-korea-russia-troops]" not in out
    assert "Traceback" not in err
    assert "stopping" in err
