"""Reads a YAML (or JSON) file and remembers where every value stands in it.

PyYAML gives positions only on its node tree, so the file is composed into nodes and turned into
plain Python values here, keeping a map from each value's path (a tuple of keys and indexes) to
its line and column, and from each mapping key's path to the key's own position. Problems found
later (by the schema, the checks or the runner) are then reported as ``file:line:column``.
Duplicate keys, which YAML would silently let the last one win, are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.problems import Problems

Path_ = tuple[str | int, ...]


class SourceError(Problems):
    """The file cannot be read or parsed; ``problems`` are ``file:line:column: message``."""


@dataclass
class Located:
    """A parsed document and where its values are."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    #: problems of the document that did not stop its parsing: ``(line, column, message)``
    problems: list[tuple[int, int, str]] = field(default_factory=list)

    def position(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Line and column of ``path`` (its key's if ``key``), or of its nearest ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            if path[:end] in self.values:
                return self.values[path[:end]]
        return (1, 1)

    def where(self, path: Path_, key: bool = False) -> str:
        line, column = self.position(path, key)
        return f"{self.file}:{line}:{column}"


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, located: Located) -> Any:
    located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, str | int | float | bool) and key is not None:
                located.problems.append((*key_position, "a key must be a plain value"))
                continue
            if key in result:
                located.problems.append((*key_position, f"duplicate key {key!r}"))
            located.keys[(*path, key)] = key_position
            result[key] = _build(loader, value_node, (*path, key), located)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, child, (*path, index), located)
                for index, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse(text: str, file: str) -> Located:
    """Parse ``text`` (YAML; JSON is YAML too), or raise :class:`SourceError`."""
    located = Located(file, None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            located.data = _build(loader, node, (), located)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise SourceError([f"{where}: {exc.problem or exc.context or exc}"]) from None
    except yaml.YAMLError as exc:
        raise SourceError([f"{file}: {exc}"]) from None
    finally:
        loader.dispose()
    return located


def read(path: str | Path) -> Located:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError([f"{file}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise SourceError([f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return parse(text, str(file))
