"""The selling-points image's callouts: short texts taken from the listing's bullets.

A bullet's own heading ("Breathable upper: keeps feet cool") is its callout. When a bullet
quotes the seller's features ("Easy everyday use: Breathable knit upper, Cushioned foam
midsole and Grippy rubber outsole"), each quoted feature is a callout of its own, in the
seller's words, and the bullet's heading is not: such a heading is a generic lead-in. At least
MIN_CALLOUTS are shown when the bullets have them, at most MAX_CALLOUTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shelfready_imagegen.text import bullet_title, shorten

MAX_CALLOUTS = 5
MIN_CALLOUTS = 3
FEATURE_MAX_WORDS = 7  # a feature is already a phrase: it wraps onto up to three lines
# ... and in Japanese or Chinese its head noun comes last, so cutting it short loses what it is
FEATURE_MAX_CJK_CHARS = 24


def callouts(bullets: list[str], features: list[str], language: str = "en") -> list[str]:
    bullets = [b for b in bullets if b.strip()]
    quoting = [(b, [f for f in features if f.strip() and _norm(f) in _norm(b)]) for b in bullets]
    quoted = _unique(f for _, found in quoting for f in found)
    texts = [shorten(f, language, FEATURE_MAX_WORDS, FEATURE_MAX_CJK_CHARS) for f in quoted]
    texts = texts[:MAX_CALLOUTS]
    if len(texts) >= MIN_CALLOUTS:
        return texts
    # Too few features quoted: the headings of the other bullets fill up the set.
    headings = [bullet_title(b, language) for b, found in quoting if not found]
    return _unique([*texts, *headings])[:MAX_CALLOUTS]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _unique(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for text in texts:
        if text and _norm(text) not in seen:
            seen.add(_norm(text))
            kept.append(text)
    return kept
