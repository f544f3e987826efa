"""Which build of the rule engine the tests run: compiled by mypyc or pure Python.

``pip install -e .`` compiles ``pipelines.COMPILED`` in place (see setup.py); both builds
must behave the same, and CI (``WIREWATCH_REQUIRE_COMPILED=1``) runs the compiled one.
"""

from __future__ import annotations

import os

import pytest

import pipelines


def test_ci_runs_the_compiled_rule_engine() -> None:
    state = pipelines.compiled()
    if os.environ.get("WIREWATCH_REQUIRE_COMPILED") != "1":
        pytest.skip(f"compiled build not required here; compiled: {state}")
    assert state == dict.fromkeys(pipelines.COMPILED, True)


def test_compiled_modules_are_not_older_than_their_source() -> None:
    # tests/conftest.py stops the session before this can fail; it is here so that the
    # rule is visible among the tests
    assert pipelines.stale_compiled() == []
