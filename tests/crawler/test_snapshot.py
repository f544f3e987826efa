"""Config snapshots of ``wirewatch run``: folders left by killed schedulers are removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crawler.snapshot import remove_orphans


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_schedulers_that_are_gone_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f"wirewatch-run-{_dead_pid()}-abc"
    (dead / "config-1.yaml").parent.mkdir()
    (dead / "config-1.yaml").write_text("sources: []\n")
    alive = tmp_path / f"wirewatch-run-{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / "wirewatch-run-notapid-ghi"
    other.mkdir()
    assert remove_orphans(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_killed_scheduler_leaves_nothing_behind_after_the_next_start(tmp_path: Path) -> None:
    code = (
        "import os, tempfile; from pathlib import Path\n"
        "from crawler.snapshot import ConfigSnapshots\n"
        "snapshots = ConfigSnapshots(lambda config: None)\n"
        "print(snapshots.folder, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert first.returncode == -9
    left = Path(first.stdout.strip())
    assert left.is_dir() and left.parent == tmp_path
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert not left.exists()
    assert Path(second.stdout.strip()).is_dir()
