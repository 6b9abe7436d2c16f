"""Facts a seller's regenerate feedback states: product name, colour, material, size.

"It is a teapot, not a vase", "the colour is green", "made of bamboo", "size: 20 cm" are
facts the offline writer can apply; feedback that asks for style ("more playful") is left to
Claude, which reads the feedback itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shelfready_listing.vocabulary import COLOUR_TERMS, MATERIAL_TERMS


@dataclass(frozen=True)
class FeedbackFacts:
    name: str | None = None
    colour: str | None = None
    material: str | None = None
    size: str | None = None


_STOP = r"(?=[.,;!\n]|\s+(?:and|but|not|with|that|which)\b|$)"
_NAME_PATTERNS = (
    r"\b(?:product name|name|call it|it is called|it's called)\s*(?:is|:|=)?\s*"
    rf"['\"]?(?P<v>[^'\".,;\n]+?)['\"]?{_STOP}",
    rf"\b(?:it is|it's|this is)\s+(?:a|an)\s+(?P<v>[a-z][\w -]+?){_STOP}",
)
_COLOUR_PATTERNS = (
    rf"\b(?:colou?r)\s*(?:is|:|=|should be)?\s*(?P<v>[a-z][a-z -]*?){_STOP}",
    r"\bit(?: is|'s) (?P<v>[a-z]+(?: [a-z]+)?)(?: colou?red)?\b",
)
_MATERIAL_PATTERNS = (
    rf"\b(?:made (?:of|from)|material\s*(?:is|:|=)?)\s*(?P<v>[a-z][a-z -]*?){_STOP}",
)
_SIZE_PATTERNS = (
    r"\b(?:size|capacity|dimensions?|it is|it's|holds)\s*(?:is|:|=)?\s*(?P<v>\d[\d.,]*\s*"
    r"(?:x\s*\d[\d.,]*\s*)*(?:ml|l|cl|oz|fl oz|cm|mm|m|in|inch|inches|g|kg|lb)\b)",
)


def _first(patterns: tuple[str, ...], text: str) -> str | None:
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match and match.group("v").strip():
            return match.group("v").strip()
    return None


def facts_from_feedback(feedback: str | None) -> FeedbackFacts:
    if not feedback or not feedback.strip():
        return FeedbackFacts()
    text = feedback.strip()
    colour = _first(_COLOUR_PATTERNS, text)
    if colour and colour.casefold() not in COLOUR_TERMS:
        colour = None
    material = _first(_MATERIAL_PATTERNS, text)
    if material and not any(m in material.casefold() for m in MATERIAL_TERMS):
        material = None
    name = _first(_NAME_PATTERNS, text)
    if name and (name.casefold() in COLOUR_TERMS or re.match(r"\d", name)):
        name = None
    if name:
        name = " ".join(w[:1].upper() + w[1:] for w in name.split())
    return FeedbackFacts(
        name=name, colour=colour, material=material, size=_first(_SIZE_PATTERNS, text)
    )
