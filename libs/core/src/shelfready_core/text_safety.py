"""Seller text and model output made safe to store, print and put into prompts.

Control characters (C0 except tab and newline, DEL, C1) and Unicode bidi controls can hide or
reorder text in a terminal or a listing page; they never belong in product copy, so they are
removed. Seller text enters a prompt only inside a delimited block it cannot close.
"""

from __future__ import annotations

import re

# C0 (except \t \n), DEL, C1; bidi embeddings/overrides/isolates and the invisible marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that separate lines or fields: a space in one-line text.
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]")


def strip_unsafe(text: str, *, one_line: bool = False) -> str:
    """`text` without control and bidi characters (`one_line`: without line breaks too)."""
    if one_line:
        return " ".join(_UNSAFE.sub("", _BREAKS.sub(" ", text)).split())
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def has_unsafe(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def as_prompt_data(tag: str, text: str) -> str:
    """`text` as data inside `<tag>…</tag>`: cleaned, `&` and `<` escaped as in HTML, so no
    text from the seller can open or close a tag and the block ends only where we end it
    (`>` stays readable: category paths use it)."""
    if not re.fullmatch(r"[a-z_]+", tag):
        raise ValueError(f"prompt block tag {tag!r} must be lower-case letters and _")
    body = strip_unsafe(text).replace("&", "&amp;").replace("<", "&lt;")
    return f"<{tag}>\n{body}\n</{tag}>"
