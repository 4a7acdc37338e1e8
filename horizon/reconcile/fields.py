"""Field-level differences between two resources, on normalised values, with deepdiff.

Normalising first is what keeps key order, trailing whitespace and empty values that an
API fills in from ever showing as drift; providers add their own vendor defaults on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deepdiff import DeepDiff

from horizon.reconcile.resources import FieldChange


def normalise(value: Any) -> Any:
    """A canonical JSON-like form: trailing whitespace stripped, empty values dropped."""
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, Mapping):
        cleaned = {str(key): normalise(item) for key, item in value.items()}
        return {key: cleaned[key] for key in sorted(cleaned) if not _is_empty(cleaned[key])}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    return value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def leaves(fields: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf of nested mappings by path; lists are leaves."""
    found: dict[tuple[str, ...], Any] = {}
    for key in sorted(fields):
        value = fields[key]
        if isinstance(value, Mapping) and value:
            found.update(leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def value_at(fields: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path`, or None when any step is absent."""
    current: Any = fields
    for part in path:
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The differing fields, as paths into the mappings (a changed list is one field)."""
    before, after = normalise(before), normalise(after)
    if before == after:  # the common case: skip deepdiff's cost on in-sync resources
        return ()
    # threshold 0: always name the fields that differ, never "this whole mapping changed"
    tree = DeepDiff(before, after, ignore_order=True, view="tree", threshold_to_diff_deeper=0)
    paths: set[tuple[str, ...]] = set()
    for levels in tree.values():
        for level in levels:
            paths.add(_field_path(level.path(output_format="list")))
    changes: dict[tuple[str, ...], FieldChange] = {}
    for path in sorted(paths):
        for change in _leaf_changes(path, value_at(before, path), value_at(after, path)):
            changes[change.path] = change
    return tuple(changes[path] for path in sorted(changes))


def _leaf_changes(path: tuple[str, ...], old: Any, new: Any) -> list[FieldChange]:
    """A change at a mapping, told field by field (a mapping appearing whole included)."""
    nested = (isinstance(old, Mapping) or old is None) and (isinstance(new, Mapping) or new is None)
    if nested and (old is not None or new is not None):
        old, new = old or {}, new or {}
        found = []
        for key in sorted(set(old) | set(new)):
            found += _leaf_changes((*path, key), old.get(key), new.get(key))
        return found
    return [FieldChange(path, old, new)] if old != new else []


def _field_path(parts: list[Any]) -> tuple[str, ...]:
    """Cut a deepdiff path at the first list index: a list is compared as one value."""
    path: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            break
        path.append(part)
    return tuple(path)


def created_fields(fields: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every field of a resource that is about to exist."""
    return tuple(FieldChange(path, None, value) for path, value in _leaf_items(fields))


def deleted_fields(fields: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every field of a resource that is about to go."""
    return tuple(FieldChange(path, value, None) for path, value in _leaf_items(fields))


def _leaf_items(fields: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    return list(leaves(normalise(fields)).items())
