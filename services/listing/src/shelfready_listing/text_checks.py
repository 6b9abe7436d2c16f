"""Text analysis for listing copy: languages, CJK, banned claims, contact details, shouting.

Pure functions over strings; `marketplace` turns their findings into rule violations.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import phonenumbers

from shelfready_listing.rules import MarketplaceRules
from shelfready_listing.vocabulary import (
    ACRONYMS,
    BANNED_PHRASES,
    COMPETITOR_BRANDS,
    MATERIAL_WORDS,
    TITLE_STOPWORDS,
)

_CAPS_MIN_LETTERS = 4

_CJK_RANGES = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f"
_CJK_RE = re.compile(f"[{_CJK_RANGES}]")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|shop|store|io|co|uk|de|jp|cn|info|biz)\b(?:/\S*)?",
    re.IGNORECASE,
)
HTML_RE = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>|&(?:[a-zA-Z]+|#\d+);")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Runs of letters other than CJK (which has no case): "不含BPA" yields "BPA".
_LETTERS_RE = re.compile(rf"[^\W\d_{_CJK_RANGES}]+")


def primary_language(language: str) -> str:
    """'zh-CN' -> 'zh'."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] or "en"


def is_cjk_language(language: str) -> bool:
    return primary_language(language) in {"zh", "ja", "ko"}


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def competitor_brands(brand: str | None, brand_marks: Sequence[str]) -> list[str]:
    """Brands the copy must not name: the fixed list plus foreign marks seen on the product."""
    own = brand.casefold() if brand else None
    names = list(COMPETITOR_BRANDS)
    if own:  # without a seller brand the marks on the product are most likely its own brand
        names += [m.strip() for m in brand_marks if m.strip()]
    unique: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key != own and (own is None or key not in own):
            unique.setdefault(key, name)
    return list(unique.values())


@lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-word match for alphabetic phrases; plain substring for CJK (no spaces to split on)."""
    body = r"\s*".join(re.escape(part) for part in phrase.split())
    if has_cjk(phrase):
        return re.compile(body, re.IGNORECASE)
    start = r"\b" if re.match(r"\w", phrase) else r"(?<!\w)"
    end = r"\b" if re.search(r"\w$", phrase) else r"(?!\w)"
    if phrase.endswith("%"):
        end = ""
    return re.compile(start + body + end, re.IGNORECASE)


def mentions(text: str, phrase: str, *, allow_compatible: bool = False) -> bool:
    for match in _phrase_pattern(phrase).finditer(text):
        before = text[max(0, match.start() - 20) : match.start()].casefold()
        if allow_compatible and re.search(r"(compatible with|fits)\s*$", before):
            continue
        return True
    return False


def banned_phrase_list(lang: str, rules: MarketplaceRules | None = None) -> list[str]:
    phrases = list(BANNED_PHRASES["en"])
    if lang != "en":
        phrases += BANNED_PHRASES.get(lang, ())
    if rules is not None:
        phrases += rules.extra_banned_phrases
    return phrases


def banned_phrases_in(text: str, lang: str, rules: MarketplaceRules | None = None) -> list[str]:
    """Banned phrases found in text, canonical spelling, longest match wins ('best seller')."""
    spans: list[tuple[int, int, str]] = []
    for phrase in banned_phrase_list(lang, rules):
        for match in _phrase_pattern(phrase).finditer(text):
            if phrase.endswith("%") and _names_material(text, match.start(), match.end()):
                continue
            spans.append((match.start(), match.end(), phrase))
    kept: list[str] = []
    for start, end, phrase in spans:
        inside_longer = any(
            s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans
        )
        if not inside_longer and phrase not in kept:
            kept.append(phrase)
    return kept


def _names_material(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 6) : end + 14].casefold()
    return any(word in window for word in MATERIAL_WORDS)


def phone_numbers_in(text: str, region: str = "US") -> list[str]:
    """Valid phone numbers in text (libphonenumber); international '+' numbers in any region."""
    region = "GB" if region.upper() == "UK" else region.upper()
    found: list[str] = []
    for candidate_region in dict.fromkeys((region, "US", "GB", "DE", "JP", "CN")):
        for match in phonenumbers.PhoneNumberMatcher(text, candidate_region):
            if match.raw_string not in found:
                found.append(match.raw_string)
    return found


def has_contact_details(text: str, region: str = "US") -> bool:
    """True when text holds an e-mail address, a URL or a phone number."""
    return bool(EMAIL_RE.search(text) or URL_RE.search(text) or phone_numbers_in(text, region))


def strip_html(text: str) -> str:
    return re.sub(r"\s{2,}", " ", HTML_RE.sub(" ", text)).strip()


def all_caps_words(text: str, brand: str | None = None) -> list[str]:
    words = []
    """Shouted words; hyphenated parts count on their own (USB-C is not shouting)."""
    for word in _LETTERS_RE.findall(text):
        if (
            len(word) >= _CAPS_MIN_LETTERS
            and word.isupper()
            and word not in ACRONYMS
            and not (brand and word.casefold() in brand.casefold())
            and word not in words
        ):
            words.append(word)
    return words


def title_words(text: str, lang: str) -> list[str]:
    """Case-folded non-CJK words of a title that count toward repetition (no stopwords).

    CJK has no spaces to split words on; its runs are cut out so "保温杯Acme" still yields
    "acme", and CJK repetition is judged by substring elsewhere.
    """
    stop = TITLE_STOPWORDS.get(lang, TITLE_STOPWORDS["en"])
    words = _WORD_RE.findall(_CJK_RE.sub(" ", text))
    return [w.casefold() for w in words if w.casefold() not in stop]


def repeated_title_words(title: str, lang: str, max_repeats: int) -> list[tuple[str, int]]:
    counts = Counter(title_words(title, lang))
    return [(word, n) for word, n in counts.items() if n > max_repeats]


def title_words_in_search_terms(search_terms: str, title: str, lang: str) -> list[str]:
    """Search-term tokens already in the title: whole words, or substrings for CJK tokens."""
    in_title = set(title_words(title, lang))
    stop = TITLE_STOPWORDS.get(lang, TITLE_STOPWORDS["en"])
    repeats: list[str] = []
    for token in search_terms.split():
        folded = token.casefold().strip(",;")
        if not folded or folded in stop or folded in repeats:
            continue
        if (has_cjk(folded) and len(folded) >= 2 and folded in title.casefold()) or (
            folded in in_title
        ):
            repeats.append(folded)
    return repeats


def is_decorative_symbol(char: str) -> bool:
    # "So" covers emoji, dingbats, ™ ® ©; variation selectors ride along with emoji.
    return unicodedata.category(char) == "So" or "\ufe00" <= char <= "\ufe0f"
