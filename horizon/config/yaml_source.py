"""YAML parsing that keeps node positions, so errors can point at a line and column.

libyaml scans and parses (CParser); the node tree is composed here, after PyYAML's
Composer, counting as it goes, so a hostile file is refused within a bounded amount of work: at
most MAX_VALUES values once aliases are expanded, MAX_DEPTH levels of nesting, no alias
inside the value it names. Every walk of the tree visits each node once. The node tree is
walked only when an error needs a position, which keeps validation close to the cost of
a bare parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            _PyParser.__init__(self)


Loc = tuple[str | int, ...]

# A client file holds a few dozen values; these bounds leave room for long knowledge lists
# and many messages, and cap what a hostile file costs (alias bombs, deep nesting) at a few
# tens of milliseconds. Kubernetes' YAML decoder bounds alias expansion the same way.
MAX_VALUES = 10_000
MAX_DEPTH = 50

# YAML 1.2 reads `1e-06` and `5e3` as floats; YAML 1.1 (PyYAML's) only with a dot and a
# signed exponent, and a strict model would then refuse a budget written that way as text.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class YamlSyntaxError(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        self.line, self.col, self.message = line, col, message
        super().__init__(message)


class _Loader(_Parser, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
    """A safe loader whose composer bounds its work and which records duplicate keys.

    The composer is PyYAML's (yaml.composer) with a count: every node is one value, every
    alias the values of the node it repeats; nesting is counted too.
    """

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.duplicate_keys: list[tuple[yaml.Node, yaml.Node]] = []
        self.anchors: dict[str, yaml.Node] = {}
        self.sizes: dict[str, int] = {}  # anchor -> the values its node holds; absent: open
        self.values = 0
        self.depth = 0

    def get_single_node(self) -> yaml.Node | None:
        self.get_event()  # stream start
        node = None
        if not self.check_event(yaml.StreamEndEvent):
            self.get_event()  # document start
            node = self.compose_node()
            self.get_event()  # document end
        if not self.check_event(yaml.StreamEndEvent):
            event = self.get_event()
            message = "a client file is one YAML document; found a second"
            raise ComposerError(None, None, message, event.start_mark)
        self.get_event()  # stream end
        return node

    def compose_node(self) -> yaml.Node:
        event = self.get_event()
        if isinstance(event, yaml.AliasEvent):
            return self._alias(event)
        self._count(1, event)
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor].start_mark.line + 1
            message = f"anchor &{anchor} is defined twice (first on line {first})"
            raise ComposerError(None, None, message, event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            node = _scalar(self, event)
            if anchor is not None:
                self.anchors[anchor], self.sizes[anchor] = node, 1
            return node
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _limit(event, f"values nested more than {MAX_DEPTH} levels deep")
        start = self.values
        node = self._collection(event, anchor)
        if anchor is not None:
            self.sizes[anchor] = self.values - start + 1
        self.depth -= 1
        return node

    def _collection(self, event: yaml.Event, anchor: str | None) -> yaml.Node:
        mapping = isinstance(event, yaml.MappingStartEvent)
        kind, end = (
            (yaml.MappingNode, yaml.MappingEndEvent)
            if mapping
            else (yaml.SequenceNode, yaml.SequenceEndEvent)
        )
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        while not self.check_event(end):
            item = self.compose_node()
            node.value.append((item, self.compose_node()) if mapping else item)
        node.end_mark = self.get_event().end_mark
        return node

    def _alias(self, event: yaml.AliasEvent) -> yaml.Node:
        if event.anchor not in self.anchors:
            raise ComposerError(
                None, None, f"found undefined alias {event.anchor!r}", event.start_mark
            )
        if event.anchor not in self.sizes:
            raise _limit(event, f"alias *{event.anchor} is inside the value it names")
        self._count(self.sizes[event.anchor], event)
        return self.anchors[event.anchor]

    def _count(self, values: int, event: yaml.Event) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            what = (
                "aliases expand this file to"
                if isinstance(event, yaml.AliasEvent)
                else "this file holds"
            )
            message = f"{what} more than {MAX_VALUES:,} values; a client file needs far fewer"
            raise _limit(event, message)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                earlier = first.setdefault(key_node.value, key_node)
                if earlier is not key_node:
                    self.duplicate_keys.append((key_node, earlier))
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+.0123456789"))


def _scalar(loader: _Loader, event: yaml.ScalarEvent) -> yaml.ScalarNode:
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)


def _limit(event: yaml.Event, message: str) -> YamlSyntaxError:
    mark = event.start_mark
    return YamlSyntaxError(mark.line + 1, mark.column + 1, message)


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
        """The data path leading to `target` (a key or value node), where it is first written."""
        for loc, key_node, value_node in _walk(self.root):
            if target is key_node or target is value_node:
                return loc
        return ()


def parse(text: str) -> Document:
    """Parse one YAML document; raise YamlSyntaxError with its position on bad or hostile input."""
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


def _walk(root: yaml.Node | None) -> Iterator[tuple[Loc, yaml.Node, yaml.Node]]:
    """(path, key node, value node) of every value in document order, each node once.

    A node an alias repeats is entered only where it is first written (its anchor), so
    the walk costs the size of the file, not of what the aliases expand to.
    """
    entered: set[int] = set()
    stack: list[tuple[Loc, yaml.Node | None]] = [((), root)]
    while stack:
        loc, node = stack.pop()
        if node is None or id(node) in entered:
            continue
        entered.add(id(node))
        if isinstance(node, yaml.MappingNode):
            children = [((*loc, k.value), k, v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [((*loc, i), item, item) for i, item in enumerate(node.value)]
        else:
            continue
        yield from children
        stack.extend((child_loc, value) for child_loc, _, value in reversed(children))
