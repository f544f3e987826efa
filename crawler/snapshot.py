"""The config ``wirewatch run`` accepted, as files its crawl children read.

A child reads its config when it starts.  Were that ``wirewatch.yaml`` itself, an edit
that the scheduler refused (a broken file or watchlist) would still reach every crawl
started after it, and break them all.  So each accepted config is written to a folder of
the scheduler's own (``0700``) as ``config-N.yaml`` together with copies of its
watchlists, and the children get that file.

The snapshot is the file's own YAML with ``${NAME}`` left as written (children inherit the
scheduler's environment, and no secret from it lands on disk), relative paths made
absolute (SQLite database, ``files`` globs) and the watchlists pointing at the copies.  It
is then loaded and checked like any config, and must come out as the config that was
accepted: if the file changed in between, :meth:`ConfigSnapshots.take` raises
``ConfigError`` and the reload is retried.  Older snapshots stay until the scheduler
ends: a child that has just started may still be reading one.  A scheduler that was killed
(SIGKILL) cannot remove its folder; the next one started removes the folders of schedulers
that are gone (their process id is in the name).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from crawler.config import Config, ConfigError, FilesSource, load_config, read_yaml
from crawler.pool import ChildConfig

_PREFIX = "wirewatch-run-"


def remove_orphans(tmp: Path) -> list[Path]:
    """Remove the snapshot folders in ``tmp`` left by schedulers of this user that are no
    longer running; the folders removed."""
    removed = []
    for folder in tmp.glob(f"{_PREFIX}*-*"):
        pid = folder.name[len(_PREFIX) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or folder.stat().st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class SnapshotChanged(ConfigError):
    """The config file changed between being checked and being snapshot."""


class ConfigSnapshots:
    """Snapshots in ``folder`` (default: a new private temporary folder, removed by
    :meth:`close`).  ``check`` is run on every snapshot (``crawler.schedule.check_config``)."""

    def __init__(self, check: Callable[[Config], None], folder: Path | None = None) -> None:
        self._check = check
        self._owned = folder is None
        if folder is None:
            remove_orphans(Path(tempfile.gettempdir()))
            folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self.folder = folder
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._serial = 0

    def take(self, config: Config) -> ChildConfig:
        """Write ``config`` (loaded and checked from ``config.path``) for the children."""
        if config.path is None:
            raise ConfigError("config", None, "a config without a file cannot be snapshot")
        self._serial += 1
        n = self._serial
        raw = read_yaml(config.path, expand_env=False).data or {}
        data: dict[str, Any] = dict(raw)
        if config.database.startswith("sqlite"):
            data["database"] = config.database  # resolved against the file's folder
        files = {s.name: s.path for s in config.sources if isinstance(s, FilesSource)}
        data["sources"] = [
            {**s, "path": files[s["name"]]} if s.get("name") in files else s
            for s in data.get("sources") or []
        ]
        copies = []
        for i, watchlist in enumerate(config.watchlists):
            copy = self.folder / f"config-{n}-{i}-{Path(watchlist).name}"
            shutil.copyfile(watchlist, copy)
            copies.append(str(copy))
        data["watchlists"] = copies
        path = self.folder / f"config-{n}.yaml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yaml.safe_dump(data, out, allow_unicode=True, sort_keys=False)
        snapshot = load_config(path)
        self._check(snapshot)
        as_accepted = snapshot.model_copy(
            update={"path": config.path, "watchlists": config.watchlists}
        )
        if as_accepted != config:
            raise SnapshotChanged(config.path, None, "changed while it was read; read it again")
        return ChildConfig(path, frozenset(s.name for s in config.sources))

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)
