"""Story pipelines: normalisation, near-duplicate clustering, watch-rule matching, storage."""

from importlib.util import find_spec
from pathlib import Path

# The rule engine's hot modules, compiled to C with mypyc when the package is built (see
# setup.py); they stay plain Python modules and work the same uncompiled.
COMPILED = ("arabic", "rules_doc", "rules_terms", "rules_match", "rules_verify", "rules_model")


def _built(name: str) -> Path | None:
    """The compiled file ``import pipelines.<name>`` loads, or ``None`` for the .py."""
    spec = find_spec(f"{__name__}.{name}")
    origin = spec.origin if spec else None
    return None if origin is None or origin.endswith(".py") else Path(origin)


def compiled() -> dict[str, bool]:
    """Per module of ``COMPILED``: is a compiled build of it what ``import`` loads?"""
    return {name: _built(name) is not None for name in COMPILED}


def stale_compiled() -> list[str]:
    """The compiled modules whose Python file changed after they were built: an editable
    install edited since ``pip install -e .`` would run the old code."""
    stale = []
    for name in COMPILED:
        built = _built(name)
        source = Path(__file__).with_name(f"{name}.py")
        if built and source.exists() and source.stat().st_mtime > built.stat().st_mtime:
            stale.append(f"{source.name} (built {built.name})")
    return stale
