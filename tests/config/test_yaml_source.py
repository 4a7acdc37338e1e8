"""YAML parsing: positions for errors, and bounded work whatever the file holds."""

from __future__ import annotations

import pytest

from horizon.config.yaml_source import MAX_VALUES, YamlSyntaxError, parse


def test_a_duplicate_key_inside_a_repeated_mapping_is_found_once_where_it_is_written() -> None:
    document = parse("base: &b\n  x: 1\n  x: 2\none: *b\ntwo: [*b, *b]\n")

    (key, first) = document.duplicate_keys[0]
    assert len(document.duplicate_keys) == 1
    assert (key.start_mark.line, first.start_mark.line) == (2, 1)
    assert document.path_of(key) == ("base", "x")


def test_aliases_count_the_values_they_repeat() -> None:
    side = 9
    levels = ["l0: &l0 [" + ", ".join(["x"] * side) + "]"]
    levels += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * side) + "]" for i in range(1, 5)]

    with pytest.raises(YamlSyntaxError) as refused:
        parse("\n".join(levels))

    # l0 to l3 hold 10 + 91 + 820 + 7,381 values; l4's first alias adds 7,381 more
    assert (refused.value.line, refused.value.col) == (5, 10)
    assert f"more than {MAX_VALUES:,} values" in refused.value.message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
        ("a: &x 1\nb: &x 2\n", 2, "anchor &x is defined twice (first on line 1)"),
        ("a: 1\n---\nb: 2\n", 2, "a client file is one YAML document; found a second"),
    ],
)
def test_alias_and_document_mistakes_are_syntax_errors_with_their_line(
    text: str, line: int, words: str
) -> None:
    with pytest.raises(YamlSyntaxError) as refused:
        parse(text)

    assert refused.value.line == line
    assert words in refused.value.message
