"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL tests use ``WIREWATCH_TEST_POSTGRES_URL`` (default: the local server) and a
schema of their own, dropped afterwards.  Where the server is absent they skip with the
reason, unless ``WIREWATCH_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) makes them fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

import pipelines
from crawler.db import open_database

REPO = Path(__file__).resolve().parent.parent


def copy_seeds(folder: Path) -> None:
    """Copies of the seed stories (``folder/seeds/*.txt``) and of the example watchlist."""
    (folder / "seeds").mkdir()
    for seed in (REPO / "seeds").glob("*.txt"):
        (folder / "seeds" / seed.name).write_bytes(seed.read_bytes())
    (folder / "watchlist.yaml").write_bytes((REPO / "watchlist.yaml").read_bytes())


POSTGRES_URL = os.environ.get(
    "WIREWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
    return None


_PG_REASON = _postgres_reason()

_STALE = pipelines.stale_compiled()
if _STALE:  # an editable install edited since it was built would test the old code
    pytest.exit(
        f"compiled rule engine older than its source: {', '.join(_STALE)};"
        " run `pip install -e .` again, or delete pipelines/*.so to test the pure Python",
        returncode=2,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema."""
    if _PG_REASON:
        if os.environ.get("WIREWATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(_PG_REASON)
        pytest.skip(_PG_REASON)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: SQLite file, then PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wirewatch.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return open_database(database_url)
