"""Model Markdown made WhatsApp-friendly, and long replies split into ordered parts."""

from __future__ import annotations

from horizon.worker.formatting import MAX_PART, split_message, to_whatsapp, utf16_length


def test_bold_italic_and_strike_use_whatsapp_markers():
    assert to_whatsapp("**Pizza** is *great*, __really__, ~~cheap~~") == (
        "*Pizza* is _great_, *really*, ~cheap~"
    )


def test_headings_become_bold_lines_and_bullets_dashes():
    assert to_whatsapp("## Carta\n\n* Margarita\n+ Diavola") == "*Carta*\n\n- Margarita\n- Diavola"


def test_links_show_their_address():
    text = "Mira [la carta](https://roma.es/carta) o https://roma.es y [https://a.es](https://a.es)"
    assert (
        to_whatsapp(text)
        == "Mira la carta (https://roma.es/carta) o https://roma.es y https://a.es"
    )


def test_code_blocks_are_left_alone_and_rules_dropped():
    assert to_whatsapp("Antes\n\n---\n\n```\n**x**\n```") == "Antes\n\n```\n**x**\n```"


def test_short_text_is_one_part():
    assert split_message("hola") == ["hola"]
    assert split_message("   ") == []


def test_a_4000_character_reply_is_three_parts_cut_at_sentences():
    text = " ".join(f"Frase número {i} de la respuesta." for i in range(130))[:4000]
    parts = split_message(text)
    assert len(parts) == 3
    assert all(len(part) <= MAX_PART for part in parts)
    assert all(part.endswith(".") for part in parts[:-1])
    assert " ".join(parts) == text


def test_paragraphs_are_preferred_to_sentences():
    first, second = "A" * 900 + ".", "B. " * 400
    parts = split_message(f"{first}\n\n{second}")
    assert parts[0] == first


def test_text_without_boundaries_is_cut_hard():
    parts = split_message("x" * 3500)
    assert [len(part) for part in parts] == [1600, 1600, 300]


def test_a_reply_full_of_emoji_is_split_by_utf16_code_units():
    text = "🍕 " * 900  # 900 emoji: 2,700 UTF-16 units, 1,800 code points
    parts = split_message(text)

    assert [utf16_length(part) for part in parts] == [1598, 1100]  # cut at a space
    assert all(utf16_length(part) <= MAX_PART for part in parts)
    assert "".join(parts).replace(" ", "") == "🍕" * 900


def test_a_hard_cut_never_splits_an_emoji():
    parts = split_message("😀" * 1000)

    assert [utf16_length(part) for part in parts] == [1600, 400]
