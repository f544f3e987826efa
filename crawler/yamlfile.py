"""Safe YAML with lines: the one place that parses wirewatch's YAML files.

``read_yaml`` parses safely (no Python tags, bounded size and alias expansion) and keeps
the line of every node, so that every mistake is reported as ``file:line: problem``
(:class:`ConfigError`); ``validation_error`` says the same of a pydantic error.  The
config (``crawler.config``) and the watchlists (``pipelines.rules``) are read through it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

__all__ = ["ConfigError", "YamlDoc", "read_yaml", "validation_error"]

MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_YAML_NODES = 200_000

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
YamlPath = tuple[str | int, ...]
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class ConfigError(Exception):
    """A user mistake in a YAML file; ``str()`` is the one line to print."""

    def __init__(self, file: str | Path, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.file = str(file)
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}"


@dataclass
class YamlDoc:
    """Parsed YAML plus the 1-based line of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    # The source text of unquoted scalars YAML 1.1 turned into something other than text
    # (``NO`` → False, ``22:00`` → 1320), so strict keys can refuse or reread them.
    plain: dict[YamlPath, str] = field(default_factory=dict)

    def line(self, at: YamlPath) -> int | None:
        """The line of ``at``, or of its nearest ancestor that has one."""
        for end in range(len(at), -1, -1):
            found = self.lines.get(tuple(at[:end]))
            if found:
                return found
        return None

    def error(self, at: YamlPath, problem: str) -> ConfigError:
        return ConfigError(self.path, self.line(at), problem)


class _Reader:
    def __init__(self, path: Path, expand_env: bool) -> None:
        self.path = path
        self.expand_env = expand_env
        self.lines: dict[YamlPath, int] = {}
        self.plain: dict[YamlPath, str] = {}
        self.nodes = 0

    def build(self, node: yaml.Node, at: YamlPath, loader: yaml.SafeLoader) -> Any:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise ConfigError(
                self.path,
                node.start_mark.line + 1,
                f"too many YAML nodes (over {MAX_YAML_NODES}; an alias bomb?)",
            )
        self.lines.setdefault(at, node.start_mark.line + 1)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            raise ConfigError(
                self.path, node.start_mark.line + 1, f"tag {node.tag!r} is not allowed"
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConfigError(
                        self.path, key_node.start_mark.line + 1, "merge keys (<<) are not supported"
                    )
                key = loader.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int)):
                    raise ConfigError(
                        self.path,
                        key_node.start_mark.line + 1,
                        f"mapping keys must be text, not {key!r}",
                    )
                if key in out:
                    raise ConfigError(
                        self.path, key_node.start_mark.line + 1, f"duplicate key {key!r}"
                    )
                self.lines[(*at, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*at, key), loader)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*at, i), loader) for i, item in enumerate(node.value)]
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str) and self.expand_env:
            value = self._expand(value, node.start_mark.line + 1)
        elif not isinstance(value, str) and value is not None and node.style is None:
            self.plain[at] = str(node.value)
        return value

    def _expand(self, value: str, line: int) -> str:
        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(self.path, line, f"environment variable {name} is not set")
            return os.environ[name]

        return _ENV.sub(replace, value)


def read_yaml(path: str | Path, *, expand_env: bool = False) -> YamlDoc:
    """Parse one YAML file safely.  Raises ``ConfigError`` for anything wrong with it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(path, None, f"file too large ({len(raw)} bytes, limit {MAX_YAML_BYTES})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "not UTF-8 text") from None
    loader = yaml.SafeLoader(text)
    reader = _Reader(path, expand_env)
    try:
        node = loader.get_single_node()
        data = None if node is None else reader.build(node, (), loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"tag {exc.problem.split('tag ')[-1]} is not allowed"
        raise ConfigError(path, where, problem) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDoc(path=path, data=data, lines=reader.lines, plain=reader.plain)


def _problem(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    if err["type"] == "union_tag_invalid":
        return (
            f"unknown type {err.get('input', {}).get('type')!r}"
            if isinstance(err.get("input"), dict)
            else msg
        )
    msg = msg.removeprefix("Value error, ")  # our own validators' messages stand alone
    return msg[0].lower() + msg[1:] if msg else "invalid value"


def validation_error(doc: YamlDoc, exc: ValidationError) -> ConfigError:
    """The first pydantic error as ``file:line: key: problem``."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not isinstance(p, str) or p in _keys_at(doc, err["loc"]))
    if err["type"] == "missing" and err["loc"] and isinstance(err["loc"][-1], str):
        loc = (*loc, err["loc"][-1])  # the key that is missing names the problem
    name = ".".join(str(p) for p in loc) or "top level"
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "type")  # point at the `type:` line, not the entry's first line
    return doc.error(loc, f"{name}: {_problem(err)}")


def _keys_at(doc: YamlDoc, loc: tuple[Any, ...]) -> set[str]:
    # pydantic puts the discriminator value ("feed") into loc; keep only real keys.
    keys: set[str] = set()
    for path in doc.lines:
        keys.update(p for p in path if isinstance(p, str))
    return keys
