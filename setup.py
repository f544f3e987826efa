"""Build: the rule engine's hot modules are compiled to C with mypyc when possible.

Everything is declared in ``pyproject.toml``; this file only adds the compiled modules.
They are the same Python files (``pipelines.COMPILED``), so the package works the same
without them, only slower: set ``WIREWATCH_PURE=1`` to skip compiling, and a build that
cannot compile (no C compiler, say) falls back to pure Python with a warning.
``tests/pipelines/test_compiled.py`` says which one a checkout runs.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext


def compiled_modules() -> list[str]:
    """``pipelines.COMPILED``, read without importing the package (its dependencies may
    not be installed yet when it is built)."""
    tree = ast.parse(Path(__file__).with_name("pipelines").joinpath("__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED":
            return list(ast.literal_eval(node.value))
    raise LookupError("pipelines/__init__.py: no COMPILED")


def _warn(problem: str) -> None:
    print(f"wirewatch: {problem}; installing the rule engine as pure Python", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """A failed C build leaves the pure Python modules in place instead of failing.

    The whole build fails together: mypyc's shared library comes first, and a module
    compiled without it would not import.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler failure means "pure"
            _warn(f"compiling failed ({exc})")


def ext_modules() -> list:  # type: ignore[type-arg]
    if os.environ.get("WIREWATCH_PURE"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not installed")
        return []
    try:
        return mypycify([f"pipelines/{name}.py" for name in compiled_modules()], opt_level="3")
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _warn(f"mypyc failed ({exc})")
        return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
