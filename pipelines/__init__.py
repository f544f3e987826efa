"""Story pipelines: normalisation, near-duplicate clustering, watch-rule matching, storage."""

# The rule engine's hot modules, compiled to C with mypyc when the package is built (see
# setup.py); they stay plain Python modules and work the same uncompiled.
COMPILED = ("arabic", "rules_doc", "rules_terms", "rules_match", "rules_verify", "rules_model")


def compiled() -> dict[str, bool]:
    """Per module of ``COMPILED``: is a compiled build of it what ``import`` loads?"""
    from importlib.util import find_spec

    out = {}
    for name in COMPILED:
        spec = find_spec(f"{__name__}.{name}")
        out[name] = spec is not None and not str(spec.origin).endswith(".py")
    return out


def stale_compiled() -> list[str]:
    """The compiled modules whose Python file changed after they were built: an editable
    install edited since ``pip install -e .`` would run the old code."""
    from importlib.util import find_spec
    from pathlib import Path

    stale = []
    for name, is_compiled in compiled().items():
        if is_compiled:
            spec = find_spec(f"{__name__}.{name}")
            built = Path(str(spec.origin)) if spec else None
            source = Path(__file__).with_name(f"{name}.py")
            if built and source.exists() and source.stat().st_mtime > built.stat().st_mtime:
                stale.append(f"{source.name} (built {built.name})")
    return stale
