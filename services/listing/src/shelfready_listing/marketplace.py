"""The checks that hold a listing draft to its marketplace's rules.

`find_violations` returns structured records; `check_listing` turns them into the
human-readable lines the Claude repair turn quotes; `describe_rules` states the same rules as
prose for the system prompt. The rule tables live in `rules`, the text analysis in
`text_checks`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shelfready_core.schemas import ListingDraft
from shelfready_listing.rules import MarketplaceRules
from shelfready_listing.text_checks import (
    EMAIL_RE,
    HTML_RE,
    URL_RE,
    all_caps_words,
    banned_phrase_list,
    banned_phrases_in,
    competitor_brands,
    has_cjk,
    is_decorative_symbol,
    mentions,
    phone_numbers_in,
    primary_language,
    repeated_title_words,
    title_words,
    title_words_in_search_terms,
    utf8_len,
)
from shelfready_listing.vocabulary import COMPETITOR_BRANDS

logger = logging.getLogger(__name__)

# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One broken rule: which field, what kind (for scoring), and the sentence to show."""

    field: str
    kind: str
    message: str


def check_listing(
    draft: ListingDraft,
    rules: MarketplaceRules,
    *,
    brand: str | None,
    language: str,
    brand_marks: Sequence[str] = (),
) -> list[str]:
    """Human-readable rule violations of a draft; empty when it complies.

    `brand_marks` are brand names recognition saw on the product; when the seller names a
    brand of their own, any other mark counts as a competitor brand.
    """
    return [
        v.message
        for v in find_violations(
            draft, rules, brand=brand, language=language, brand_marks=brand_marks
        )
    ]


def find_violations(
    draft: ListingDraft,
    rules: MarketplaceRules,
    *,
    brand: str | None,
    language: str,
    brand_marks: Sequence[str] = (),
) -> list[Violation]:
    lang = primary_language(language)
    brand = brand.strip() if brand and brand.strip() else None
    found: list[Violation] = []
    found += _title_violations(draft.title, rules, brand, lang)
    found += _bullet_violations(draft.bullet_points, rules, lang)
    found += _description_violations(draft.description, rules)
    found += _search_terms_violations(draft.search_terms, draft.title, rules, brand, lang)
    found += _tag_violations(draft.keywords, rules)
    others = competitor_brands(brand, brand_marks)
    for field, text in labelled_fields(draft, rules):
        found += _content_violations(field, text, rules, lang, others, brand)
    return found


def labelled_fields(draft: ListingDraft, rules: MarketplaceRules) -> Iterator[tuple[str, str]]:
    """Every customer-facing text of a draft with the name messages use for it."""
    yield "title", draft.title
    for number, bullet in enumerate(draft.bullet_points, start=1):
        yield f"bullet {number}", bullet
    yield "description", draft.description
    if draft.search_terms:
        yield "search terms", draft.search_terms
    tag = "tag" if rules.tag_max_count else "keyword"
    for number, keyword in enumerate(draft.keywords, start=1):
        yield f"{tag} {number}", keyword


# --- field checks -------------------------------------------------------------------------


def _title_violations(
    title: str, rules: MarketplaceRules, brand: str | None, lang: str
) -> Iterator[Violation]:
    stripped = title.strip()
    if not stripped:
        yield Violation("title", "title_empty", "title is empty")
        return
    if len(title) > rules.title_max_chars:
        yield Violation(
            "title",
            "title_length",
            f"title is {len(title)} characters; {rules.label} allows at most "
            f"{rules.title_max_chars}",
        )
    if rules.brand_first and brand and not stripped.casefold().startswith(brand.casefold()):
        yield Violation("title", "brand_first", f"title must start with the brand {brand!r}")
    without_brand = _remove(stripped, brand) if brand else stripped
    bad_chars = sorted({c for c in without_brand if c in rules.forbidden_title_chars})
    if bad_chars:
        shown = " ".join(bad_chars)
        yield Violation(
            "title",
            "title_chars",
            f"title contains characters {rules.label} forbids in titles: {shown}",
        )
    if rules.title_forbids_symbols:
        symbols = sorted({c for c in without_brand if is_decorative_symbol(c)})
        if symbols:
            yield Violation(
                "title",
                "title_symbols",
                f"title contains decorative symbols or emoji: {' '.join(symbols)}",
            )
    repeated = repeated_title_words(stripped, lang, rules.title_max_word_repeats)
    if repeated:
        listed = ", ".join(f"{w!r} ({n} times)" for w, n in repeated)
        yield Violation(
            "title",
            "title_repeats",
            f"title repeats words more than {rules.title_max_word_repeats} times: {listed}",
        )


def _bullet_violations(
    bullets: Sequence[str], rules: MarketplaceRules, lang: str
) -> Iterator[Violation]:
    if len(bullets) != rules.bullet_count:
        yield Violation(
            "bullets",
            "bullet_count",
            f"there are {len(bullets)} bullet points; {rules.label} listings need "
            f"{rules.bullet_count}",
        )
    for number, bullet in enumerate(bullets, start=1):
        if not bullet.strip():
            yield Violation(f"bullet {number}", "bullet_empty", f"bullet {number} is empty")
        elif len(bullet) > rules.bullet_hard_max_chars:
            yield Violation(
                f"bullet {number}",
                "bullet_length",
                f"bullet {number} is {len(bullet)} characters; {rules.label} allows at most "
                f"{rules.bullet_hard_max_chars}",
            )


def _description_violations(description: str, rules: MarketplaceRules) -> Iterator[Violation]:
    if not description.strip():
        yield Violation("description", "description_empty", "description is empty")
    limit = rules.description_max_chars
    if limit is not None and len(description) > limit:
        yield Violation(
            "description",
            "description_length",
            f"description is {len(description)} characters; {rules.label} allows at most {limit}",
        )


def _search_terms_violations(
    search_terms: str, title: str, rules: MarketplaceRules, brand: str | None, lang: str
) -> Iterator[Violation]:
    limit = rules.search_terms_byte_limit
    if limit is None:
        return
    size = utf8_len(search_terms)
    if size >= limit:
        yield Violation(
            "search terms",
            "search_terms_bytes",
            f"search terms are {size} bytes; {rules.label} allows fewer than {limit}"
            + (" (UTF-8: each CJK character counts 3 bytes)" if has_cjk(search_terms) else ""),
        )
    if brand and mentions(search_terms, brand):
        yield Violation(
            "search terms",
            "search_terms_brand",
            f"search terms contain the brand name {brand!r}; leave brand names out",
        )
    if rules.search_terms_exclude_title_words:
        brand_words = set(title_words(brand, lang)) if brand else set()
        repeats = [
            w
            for w in title_words_in_search_terms(search_terms, title, lang)
            if w not in brand_words
        ]
        if repeats:
            listed = ", ".join(repr(w) for w in repeats[:10])
            yield Violation(
                "search terms",
                "search_terms_title_words",
                f"search terms repeat words already in the title: {listed}",
            )


def _tag_violations(keywords: Sequence[str], rules: MarketplaceRules) -> Iterator[Violation]:
    if rules.tag_max_count is not None and len(keywords) > rules.tag_max_count:
        yield Violation(
            "tags",
            "tag_count",
            f"there are {len(keywords)} tags; {rules.label} allows at most {rules.tag_max_count}",
        )
    if rules.tag_max_chars is not None:
        for number, keyword in enumerate(keywords, start=1):
            if len(keyword) > rules.tag_max_chars:
                yield Violation(
                    f"tag {number}",
                    "tag_length",
                    f"tag {number} {keyword!r} is {len(keyword)} characters; {rules.label} "
                    f"allows at most {rules.tag_max_chars}",
                )


def _content_violations(
    field: str,
    text: str,
    rules: MarketplaceRules,
    lang: str,
    others: Sequence[str],
    brand: str | None,
) -> Iterator[Violation]:
    for phrase in banned_phrases_in(text, lang, rules):
        yield Violation(field, "banned_claim", f"{field} contains banned claim {phrase!r}")
    for email in EMAIL_RE.findall(text):
        yield Violation(field, "contact", f"{field} contains an e-mail address ({email})")
    for url in URL_RE.findall(EMAIL_RE.sub(" ", text)):
        yield Violation(field, "contact", f"{field} contains a URL ({url})")
    for number in phone_numbers_in(text):
        yield Violation(field, "contact", f"{field} contains a phone number ({number})")
    html_allowed = field == "description" and rules.description_allows_html
    if not html_allowed and HTML_RE.search(text):
        yield Violation(field, "html", f"{field} contains HTML or markup; use plain text")
    for name in others:
        if mentions(text, name, allow_compatible=True):
            yield Violation(field, "competitor_brand", f"{field} names another brand ({name})")
    if field == "title" or field.startswith("bullet"):
        shouting = all_caps_words(text, brand)
        if shouting:
            listed = ", ".join(repr(w) for w in shouting)
            yield Violation(
                field, "all_caps", f"{field} has words in ALL CAPS ({listed}); use normal case"
            )


def _remove(text: str, part: str) -> str:
    return re.sub(re.escape(part), " ", text, flags=re.IGNORECASE)


def describe_rules(rules: MarketplaceRules, language: str) -> str:
    """The rules as prose for the model's system prompt, generated from the same table."""
    lang = primary_language(language)
    lines = [
        f"Marketplace: {rules.label}.",
        f"- Title: at most {rules.title_max_chars} characters including spaces; aim for "
        f"{rules.title_recommended_chars[0]}-{rules.title_recommended_chars[1]} for readability.",
    ]
    if rules.brand_first:
        lines.append(
            "- Title structure: Brand + model/product line + product type + key "
            "attributes (size, colour, quantity). Start the title with the brand."
        )
    else:
        lines.append("- Title: lead with the product type and its most searched attributes.")
    if rules.forbidden_title_chars:
        lines.append(
            "- Never use these characters in the title: "
            + " ".join(sorted(rules.forbidden_title_chars))
            + "; no emoji or decorative symbols (™ ® © included)."
        )
    lines += [
        f"- Use no word more than {rules.title_max_word_repeats} times in the title "
        "(articles, prepositions and conjunctions excepted). No words in ALL CAPS "
        "(acronyms such as USB or LED are fine); numerals, not number words.",
        f"- Exactly {rules.bullet_count} bullet points, each starting with the benefit, each "
        f"under {rules.bullet_soft_max_chars} characters (hard limit "
        f"{rules.bullet_hard_max_chars}); no two bullets saying the same thing.",
    ]
    if rules.description_max_chars:
        lines.append(
            f"- Description: {rules.description_recommended_chars[0]}-"
            f"{rules.description_max_chars} characters."
        )
    lines.append(
        "- Description: HTML allowed but keep it clean."
        if rules.description_allows_html
        else "- Description: plain text only (line breaks allowed), no HTML."
    )
    if rules.search_terms_byte_limit:
        lines.append(
            f"- search_terms: fewer than {rules.search_terms_byte_limit} BYTES in UTF-8 (a "
            "Chinese or Japanese character is 3 bytes), space-separated, no commas, no brand "
            "names (own or others'), no words already in the title, no subjective or "
            "temporary terms."
        )
    else:
        lines.append(f"- search_terms: {rules.label} has no such field; leave it empty.")
    if rules.tag_max_count:
        lines.append(
            f"- keywords are the listing's tags: at most {rules.tag_max_count}, each at most "
            f"{rules.tag_max_chars} characters, natural phrases, no brand names."
        )
    else:
        lines.append("- keywords: 8-15 search phrases shoppers type, no brand names.")
    banned = ", ".join(f'"{p}"' for p in banned_phrase_list(lang, rules))
    lines += [
        "- Never use these promotional, subjective or medical claims anywhere (title, "
        f"bullets, description, search terms, keywords): {banned}. Exception: a material "
        'share such as "100% cotton" is allowed.',
        "- Nowhere: phone numbers, e-mail or postal addresses, URLs, prices, availability, "
        "shipping offers, reviews or testimonials, requests for reviews, time-sensitive "
        "claims, HTML in title or bullets, other companies' brand names (for example "
        + ", ".join(COMPETITOR_BRANDS[:8])
        + '); a compatibility statement such as "compatible with <brand>" is the only '
        "exception.",
    ]
    return "\n".join(lines)
