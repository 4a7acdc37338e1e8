"""YAML parsing that keeps node positions, so errors can point at a line and column.

Parsing goes through libyaml (CSafeLoader) once; the node tree is walked only when an
error needs a position, which keeps validation close to the cost of a bare parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc,assignment]

Loc = tuple[str | int, ...]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """A safe loader that records duplicate mapping keys instead of keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[yaml.Node, yaml.Node]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                earlier = first.setdefault(key_node.value, key_node)
                if earlier is not key_node:
                    self.duplicate_keys.append((key_node, earlier))
        return super().construct_mapping(node, deep=deep)


@dataclass
class Document:
    """A parsed YAML document: the plain data and the node tree it came from."""

    data: Any
    root: yaml.Node | None
    duplicate_keys: list[tuple[yaml.Node, yaml.Node]] = field(default_factory=list)

    def position(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the value at `loc` (or of its key, with `at_key`).

        When `loc` does not exist (a missing key), the nearest existing parent's key is
        the useful place to point at.
        """
        if self.root is None:
            return (1, 1)
        mark = _locate(self.root, loc, at_key)
        return (mark.line + 1, mark.column + 1)

    def path_of(self, target: yaml.Node) -> Loc:
        """The data path leading to `target` (a key or value node)."""
        for loc, key_node, value_node in _walk(self.root, ()):
            if target is key_node or target is value_node:
                return loc
        return ()


class YamlSyntaxError(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        self.line, self.col, self.message = line, col, message
        super().__init__(message)


def parse(text: str) -> Document:
    """Parse one YAML document; raise YamlSyntaxError with its position on bad syntax."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(line, col, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, 1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    return Document(data, root, loader.duplicate_keys)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node or the item itself, value node) of `part` inside `node`."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return key_node, value_node
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part], node.value[part]
    return None


def _locate(root: yaml.Node, loc: Loc, at_key: bool) -> yaml.Mark:
    node, key_mark = root, root.start_mark
    for part in loc:
        found = _child(node, part)
        if found is None:
            return key_mark
        key_node, node = found
        key_mark = key_node.start_mark
    return key_mark if at_key else node.start_mark


def _walk(node: yaml.Node | None, loc: Loc) -> Iterator[tuple[Loc, yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child_loc = (*loc, key_node.value)
            yield child_loc, key_node, value_node
            yield from _walk(value_node, child_loc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield (*loc, index), item, item
            yield from _walk(item, (*loc, index))
