"""A scripted Claude answer for the listing stage, for the fake Anthropic server.

`default_listing_answer` builds a valid, rule-compliant ListingDraft (as a dict) from whatever
listing request the writer sent, so end-to-end tests can register it for any product:

    server.answers["record_listing_draft"] = default_listing_answer
"""

from __future__ import annotations

import json
import random
import re
import threading
from typing import Any

LISTING_TOOL = "record_listing_draft"
MARKER = "Written by the fake listing model."

_TITLE_LIMITS = {"amazon": 200, "etsy": 140, "shopify": 255, "ebay": 80}
_SPARE_SEARCH_WORDS = ("everyday", "practical", "durable", "accessory", "home", "travel", "present")


def _section(text: str, tag: str) -> dict[str, Any]:
    match = re.search(rf"<{tag}>\s*(\{{.*?\}})\s*</{tag}>", text, re.DOTALL)
    if not match:
        return {}
    try:
        value = json.loads(match.group(1))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _first_user_text(request: dict[str, Any]) -> str:
    for message in request.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(b.get("text", "") for b in content or [] if b.get("type") == "text")
    return ""


def default_listing_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A valid ListingDraft dict for the product and seller inputs in the request."""
    text = _first_user_text(request)
    product = _section(text, "product_record")
    seller = _section(text, "seller_inputs")
    product_type = str(product.get("product_type") or "product")
    name = str(seller.get("product_name") or product.get("product_name") or product_type)
    if product_type.casefold() not in name.casefold():
        name = f"{name} {product_type}"
    brand = seller.get("brand")
    title = f"{brand} {name}" if brand else name
    limit = _TITLE_LIMITS.get(str(seller.get("marketplace", "amazon")), 80)
    title = title[:limit].rsplit(" ", 1)[0] if len(title) > limit else title
    title_words = {w.casefold() for w in re.findall(r"\w+", title)}
    search_terms = " ".join(w for w in _SPARE_SEARCH_WORDS if w not in title_words)
    return {
        "title": title,
        "bullet_points": [
            f"Simple to use: the {product_type} works straight out of the box.",
            "Solid construction: materials chosen to hold up to regular use.",
            "Fits your day: at home, at work or on the move.",
            "Thoughtful choice: made for people who value practical design.",
            "Clear details: see the images for size and proportions.",
        ],
        "description": (
            f"This {product_type} is made for everyday use.\n\n"
            "It is easy to handle and easy to care for.\n\n"
            f"{MARKER}"
        ),
        # Short enough to serve as Etsy tags (20 characters).
        "keywords": [product_type[:20].strip(), "everyday use", "gift idea"],
        "search_terms": search_terms,
        "image_prompts": [
            f"Main image: the {product_type} alone on a pure white background.",
            f"Lifestyle scene: the {product_type} in use at home.",
            f"Detail close-up of the {product_type}'s material.",
            f"Dimensions image: the {product_type} with height and width labels.",
            f'Selling points: the {product_type} with callouts "Simple to use", "Solid", "Fits".',
        ],
    }


COMPETITORS = ("Hydro Flask", "Yeti", "Contigo")
MADE_UP_BRANDS = ("Zentrix", "Aquavora", "Brivel")
REFUSAL = "I'm sorry, but I can't help with writing this listing."


class RuleBreakingAnswers:
    """Schema-valid ListingDraft answers that ignore instructions the way a model on a bad
    day does, each rule broken at random (seeded, so a run is repeatable):

    brand not first, title words in the search terms, an overlong title and bullets, a
    listed or a made-up competitor brand, a promotional claim in a one-sentence bullet, and
    a refusal sentence in about 5 % of answers. `broken` counts what was done.
    """

    def __init__(self, seed: int = 8, refusal_rate: float = 0.05) -> None:
        self.random = random.Random(seed)
        self.refusal_rate = refusal_rate
        self.lock = threading.Lock()
        self.broken: dict[str, int] = {}

    def _maybe(self, name: str, chance: float) -> bool:
        if self.random.random() < chance:
            self.broken[name] = self.broken.get(name, 0) + 1
            return True
        return False

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = default_listing_answer(request)
        seller = _section(_first_user_text(request), "seller_inputs")
        brand = seller.get("brand")
        with self.lock:
            if brand and self._maybe("brand_not_first", 0.5):
                answer["title"] = answer["title"].replace(f"{brand} ", "", 1) + f" by {brand}"
            if self._maybe("title_words_in_search_terms", 0.5):
                answer["search_terms"] += " " + " ".join(answer["title"].lower().split()[:3])
            if self._maybe("overlong_title", 0.3):
                answer["title"] += ", " + ", ".join(["Reusable Everyday Travel Companion"] * 7)
            if self._maybe("overlong_bullet", 0.3):
                answer["bullet_points"][1] += (" It is sturdy and easy to carry." * 20).rstrip()
            if self._maybe("competitor_in_title", 0.25):
                answer["title"] += f" for {self.random.choice(COMPETITORS)} Fans"
            if self._maybe("made_up_competitor", 0.3):
                name = self.random.choice(MADE_UP_BRANDS)
                answer["bullet_points"][2] += f" Lighter than a {name} bottle."
            if self._maybe("claim_in_single_sentence_bullet", 0.2):
                answer["bullet_points"][3] = "The best choice for everyone who wants more."
            if self._maybe("refusal", self.refusal_rate):
                answer["description"] += f"\n\n{REFUSAL}"
        return answer
