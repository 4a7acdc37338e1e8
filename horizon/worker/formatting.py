"""What the model writes, made fit for WhatsApp: its formatting, in parts Twilio accepts.

WhatsApp knows *bold*, _italic_, ~strike~ and ```code```; Markdown's headings, links and
double markers would show up as literal symbols. Twilio refuses a body over 1,600
characters counted as UTF-16 code units (an emoji outside the BMP counts 2; error 21617),
so parts are measured that way, not in Python's code points.
"""

from __future__ import annotations

import re

MAX_PART = 1600

_CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BULLET = re.compile(r"^([ \t]*)[*+][ \t]+", re.MULTILINE)
_RULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$\n?", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")
_BOLD_MARK = "\x00"


def to_whatsapp(markdown: str) -> str:
    """Markdown to WhatsApp formatting; code blocks are kept as they are."""
    blocks: list[str] = []

    def keep(match: re.Match) -> str:
        blocks.append(match.group(0))
        return f"\x01{len(blocks) - 1}\x01"

    text = _CODE_BLOCK.sub(keep, markdown)
    text = _RULE.sub("", text)
    text = _IMAGE.sub(lambda m: f"{m.group(1)}: {m.group(2)}" if m.group(1) else m.group(2), text)
    text = _LINK.sub(_link, text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BULLET.sub(r"\1- ", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = text.replace(_BOLD_MARK * 2, "").replace(_BOLD_MARK, "*")
    text = re.sub(r"\x01(\d+)\x01", lambda m: blocks[int(m.group(1))], text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _link(match: re.Match) -> str:
    label, url = match.group(1).strip(), match.group(2)
    bare = url.removeprefix("mailto:")
    return bare if label in (url, bare) else f"{label} ({bare})"


def utf16_length(text: str) -> int:
    """`text`'s length as Twilio counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many of `text`'s code points fit in `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_message(text: str, limit: int = MAX_PART) -> list[str]:
    """Parts of at most `limit` UTF-16 code units, cut at a paragraph, line, sentence or
    word boundary."""
    text = text.strip()
    parts: list[str] = []
    while utf16_length(text) > limit:
        cut = _best_cut(text, _fitting(text, limit))
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    shortest = limit // 3  # a cut earlier than this wastes too much of a part
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator, 0, limit)
        if at >= shortest:
            return at + len(separator)
    ends = [match.end() for match in _SENTENCE_END.finditer(window) if match.end() <= limit]
    if ends and ends[-1] >= shortest:
        return ends[-1]
    at = window.rfind(" ", 0, limit)
    return at + 1 if at >= shortest else limit
