"""Short texts for images: bullet titles and pixel-width line wrapping in any language.

Lines break only where a reader expects: at spaces, or, in Japanese, Chinese and Thai (written
without spaces), between the phrases BudouX finds, so no word is cut in half. A single unit
wider than the line is broken between grapheme clusters (never inside a base letter and its
accents, an emoji sequence or a Korean syllable block).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import budoux
import regex
from PIL import ImageFont

TITLE_SEPARATORS = re.compile(r"\s*(?:[:：]|\s[-–—]\s|—)\s*")
TITLE_MAX_WORDS = 5
TITLE_MAX_CJK_CHARS = 14
TITLE_CJK_STOP_WITHIN = 20
# Words a shortened title should not end on, per language (a dangling "for", "für", "pour").
TRAILING_WORDS = {
    "en": {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "your"},
    "de": {
        "und",
        "oder",
        "für",
        "mit",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "ein",
        "eine",
        "zu",
        "von",
        "im",
        "in",
        "auf",
        "ihr",
        "ihre",
    },
    "fr": {
        "et",
        "ou",
        "pour",
        "avec",
        "le",
        "la",
        "les",
        "un",
        "une",
        "de",
        "des",
        "du",
        "à",
        "au",
        "aux",
        "en",
        "votre",
        "vos",
    },
    "es": {
        "y",
        "o",
        "para",
        "con",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "de",
        "del",
        "a",
        "al",
        "en",
        "tu",
        "su",
    },
    "it": {
        "e",
        "o",
        "per",
        "con",
        "il",
        "lo",
        "la",
        "i",
        "gli",
        "le",
        "un",
        "una",
        "di",
        "da",
        "a",
        "in",
        "su",
        "tuo",
    },
    "pt": {
        "e",
        "ou",
        "para",
        "com",
        "o",
        "a",
        "os",
        "as",
        "um",
        "uma",
        "de",
        "do",
        "da",
        "em",
        "no",
        "na",
        "seu",
    },
    "nl": {"en", "of", "voor", "met", "de", "het", "een", "van", "in", "op", "uw", "je"},
}
CJK_STOPS = "，。、；！？,.;!?"
TITLE_BRACKETS = re.compile(r"^[【〔\[]([^】〕\]]{1,40})[】〕\]]")  # 【使いやすい設計】…
JA_PARTICLES = "がをにではへやの"  # not と, も: もっと, いつも end in them
NUMBER = re.compile(r"[\d.,/x×-]+")  # "24", "2.5", "18/8": a figure that wants its unit
GRAPHEMES = regex.compile(r"\X")


def is_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def _base(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


@cache
def _parser(language: str) -> budoux.Parser | None:
    code = language.strip().lower().replace("_", "-")
    base = _base(code)
    if base == "ja":
        return budoux.load_default_japanese_parser()
    if base == "zh":
        traditional = code in ("zh-tw", "zh-hk", "zh-mo") or code.startswith("zh-hant")
        if traditional:
            return budoux.load_default_traditional_chinese_parser()
        return budoux.load_default_simplified_chinese_parser()
    if base == "th":
        return budoux.load_default_thai_parser()
    return None


def units(text: str, language: str = "en") -> list[str]:
    """The pieces a line may break between: words with their spaces, or phrases in ja/zh/th.

    Text with CJK characters in another language's listing (a Japanese product name in an
    English bullet) is still split into Japanese phrases.
    """
    parser = _parser(language) or (_parser("ja") if is_cjk(text) else None)
    pieces: list[str] = []
    for token in re.findall(r"\S+\s*|\s+", text):
        if parser is not None and is_cjk(token):
            pieces.extend(parser.parse(token))
        else:
            pieces.append(token)
    return pieces


def bullet_title(bullet: str, language: str = "en") -> str:
    """The callout for a bullet: its 【heading】 or the text before its ':' (or dash), else its
    first few words (first phrases, in languages without spaces), shortened by `shorten`."""
    text = bullet.strip().lstrip("•*-–— ").strip()
    bracketed = TITLE_BRACKETS.match(text)
    if bracketed and bracketed.group(1).strip():
        return bracketed.group(1).strip()
    head = TITLE_SEPARATORS.split(text, maxsplit=1)[0].strip()
    if head and head != text and len(head) <= 60:
        return head.rstrip(CJK_STOPS)
    return shorten(text, language)


def shorten(
    text: str,
    language: str = "en",
    max_words: int = TITLE_MAX_WORDS,
    max_cjk_chars: int = TITLE_MAX_CJK_CHARS,
) -> str:
    """At most `max_words` words (`max_cjk_chars` of whole phrases without spaces), cut
    only between words: at the last comma if the cut falls in a later clause, never ending on
    a dangling small word, a number whose unit was cut ("for 24" of "for 24 hours") or, in
    Japanese, a particle ("連続再生が")."""
    text = text.strip()
    if is_cjk(text) and " " not in text[:max_cjk_chars]:
        # Up to the first clause stop when it comes soon enough, else whole phrases.
        window = text[: max(TITLE_CJK_STOP_WITHIN, max_cjk_chars) + 1]
        stops = [window.find(ch) for ch in CJK_STOPS if window.find(ch) > 0]
        if stops:
            return window[: min(stops)]
        if len(text) <= max_cjk_chars:
            return text
        title = ""
        for phrase in units(text, language):
            if title and len(title + phrase) > max_cjk_chars:
                break
            title += phrase
        title = title.strip().rstrip(CJK_STOPS)
        if title != text and len(title) > 2 and title[-1] in JA_PARTICLES:
            title = title[:-1]  # "最大30時間の連続再生が" reads whole as "…連続再生"
        return title
    all_words = text.split()
    words = all_words[:max_words]
    trailing = TRAILING_WORDS.get(_base(language), TRAILING_WORDS["en"])
    if len(words) < len(all_words):
        # A clause cut short dangles ("Weighted base, which sits on every"): end at its comma.
        commas = [i for i, word in enumerate(words[:-1]) if i >= 1 and word.endswith(",")]
        if commas:
            words = words[: commas[-1] + 1]
        while len(words) > 2 and (
            words[-1].lower().strip(",;") in trailing or NUMBER.fullmatch(words[-1])
        ):
            words.pop()  # "Generous 350 ml capacity for" reads better without the "for"
    return " ".join(words).rstrip(CJK_STOPS + ",;")


def wrap(
    text: str, font: ImageFont.FreeTypeFont, max_width: float, language: str = "en"
) -> list[str]:
    """Greedy wrap to `max_width` pixels between units (see `units`); a unit wider than a
    whole line is broken between grapheme clusters."""
    lines: list[str] = []
    line = ""
    for unit in units(text, language):
        candidate = line + unit
        if font.getlength(candidate.strip()) <= max_width:
            line = candidate
            continue
        if line.strip():
            lines.append(line.strip())
        line = unit.lstrip()
        if font.getlength(line.strip()) > max_width:
            *full, line = _break_graphemes(line.strip(), font, max_width)
            lines.extend(full)
    if line.strip():
        lines.append(line.strip())
    return lines


def _break_graphemes(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    pieces, piece = [], ""
    for cluster in GRAPHEMES.findall(word):
        if piece and font.getlength(piece + cluster) > max_width:
            pieces.append(piece)
            piece = ""
        piece += cluster
    return [*pieces, piece]
