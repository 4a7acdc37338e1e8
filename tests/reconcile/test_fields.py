"""Field differences on normalised values: only real changes are drift."""

from __future__ import annotations

from horizon.reconcile.fields import field_changes, normalise
from horizon.reconcile.resources import FieldChange


def test_key_order_trailing_whitespace_and_empty_values_are_not_drift():
    desired = {"profile": {"name": "Roma", "about": "Pizza  \n", "emails": []}, "url": "https://x"}
    observed = {"url": "https://x", "profile": {"logo_url": None, "about": "Pizza", "name": "Roma"}}

    assert normalise(desired) == normalise(observed)
    assert field_changes(observed, desired) == ()


def test_a_changed_field_is_named_by_its_path():
    before = {"profile": {"name": "Roma", "about": "Pizza"}}
    after = {"profile": {"name": "Roma", "about": "Pizza al horno"}}

    assert field_changes(before, after) == (
        FieldChange(("profile", "about"), "Pizza", "Pizza al horno"),
    )


def test_added_and_removed_fields_have_none_on_the_missing_side():
    before = {"profile": {"name": "Someone Else"}}
    after = {"profile": {"name": "Harbor", "about": "Tools", "address": "Pier 1"}}

    assert field_changes(before, after) == (
        FieldChange(("profile", "about"), None, "Tools"),
        FieldChange(("profile", "address"), None, "Pier 1"),
        FieldChange(("profile", "name"), "Someone Else", "Harbor"),
    )
    assert field_changes(after, {"profile": {}})[0] == FieldChange(
        ("profile", "about"), "Tools", None
    )


def test_a_list_is_one_field_and_its_order_is_not_drift():
    before = {"emails": ["a@x.es", "b@x.es"]}

    assert field_changes(before, {"emails": ["b@x.es", "a@x.es"]}) == ()
    assert field_changes(before, {"emails": ["a@x.es"]}) == (
        FieldChange(("emails",), ["a@x.es", "b@x.es"], ["a@x.es"]),
    )


def test_keys_that_are_not_identifiers_stay_whole():
    before = {"files": {"roma/menu.md": "aa"}}
    after = {"files": {"roma/menu.md": "bb", "roma/drinks.md": "cc"}}

    assert field_changes(before, after) == (
        FieldChange(("files", "roma/drinks.md"), None, "cc"),
        FieldChange(("files", "roma/menu.md"), "aa", "bb"),
    )
