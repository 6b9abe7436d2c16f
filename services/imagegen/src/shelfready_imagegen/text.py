"""Short texts for images: bullet titles and pixel-width line wrapping that handles CJK."""

from __future__ import annotations

import re
import unicodedata

from PIL import ImageFont

TITLE_SEPARATORS = re.compile(r"\s*(?:[:：]|\s[-–—]\s|—)\s*")
TITLE_MAX_WORDS = 5
TITLE_MAX_CJK_CHARS = 14
TITLE_CJK_STOP_WITHIN = 20
TRAILING_WORDS = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "your"}
CJK_STOPS = "，。、；！？,.;!?"
# Runs of CJK characters wrap between any two characters; other text wraps at spaces.
TOKENS = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+|\s+"
)


def is_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def bullet_title(bullet: str) -> str:
    """The callout for a bullet: the text before its ':' (or dash), else its first few words."""
    text = bullet.strip().lstrip("•*-–— ").strip()
    head = TITLE_SEPARATORS.split(text, maxsplit=1)[0].strip()
    if head and head != text and len(head) <= 60:
        return head.rstrip(CJK_STOPS)
    if is_cjk(text) and " " not in text[:TITLE_MAX_CJK_CHARS]:
        # Up to the first clause stop when it comes soon enough, else a fixed number of chars.
        window = text[: TITLE_CJK_STOP_WITHIN + 1]
        stops = [window.find(ch) for ch in CJK_STOPS if window.find(ch) > 0]
        return window[: min(stops)] if stops else text[:TITLE_MAX_CJK_CHARS]
    words = text.split()[:TITLE_MAX_WORDS]
    while len(words) > 2 and words[-1].lower() in TRAILING_WORDS:
        words.pop()  # "Generous 350 ml capacity for" reads better without the "for"
    return " ".join(words).rstrip(CJK_STOPS)


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy wrap to `max_width` pixels; a single over-long word is broken by characters."""
    lines: list[str] = []
    line = ""
    for token in TOKENS.findall(text):
        candidate = line + token
        if font.getlength(candidate.strip()) <= max_width or not line.strip():
            line = candidate
            if font.getlength(line.strip()) > max_width:
                lines.extend(_break_word(line.strip(), font, max_width)[:-1])
                line = _break_word(line.strip(), font, max_width)[-1]
            continue
        lines.append(line.strip())
        line = token.lstrip()
    if line.strip():
        lines.append(line.strip())
    return lines


def _break_word(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    pieces, piece = [], ""
    for ch in word:
        if piece and font.getlength(piece + ch) > max_width:
            pieces.append(piece)
            piece = ""
        piece += ch
    return [*pieces, piece]
