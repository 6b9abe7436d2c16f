"""A 0-100 quality score for a listing draft, with a reason for every point taken off.

The score starts at 100 and each finding deducts points. `reasons` lists ONLY deductions, each
as "-N: what is wrong", so the reasons always add up to 100 - score and a flawless listing has
an empty list. A listing is approved when it scores at least 80 AND breaks no marketplace rule
AND has no unresolved judgement finding AND was written by a model (an offline draft is a
template fill: never approved). A high score elsewhere can never wave any of these through.

Beyond form, the score asks whether the copy is about THIS product: bullets that name no
attribute, material, spec, use or audience of it, bullets reused from other products'
listings, colours the recognition did not see, promised variants and internal notes all cost
points.

Lengths for CJK listings: hard limits count characters as the marketplaces do, but the
readability ranges (recommended title and description lengths, sentence length) are halved,
because a CJK character carries roughly a word's worth of meaning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import combinations

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis, QualityReport
from shelfready_listing.marketplace import Violation, find_violations
from shelfready_listing.review import (
    ReviewContext,
    judgement_findings,
    sentences,
    structural_findings,
)
from shelfready_listing.rules import MarketplaceRules
from shelfready_listing.text_checks import has_cjk, is_cjk_language, primary_language
from shelfready_listing.vocabulary import (
    COLOUR_TERMS,
    INTERNAL_NOTE_PATTERNS,
    MATERIAL_TERMS,
    PRODUCT_TERMS,
)

logger = logging.getLogger(__name__)

APPROVAL_SCORE = 80
DUPLICATE_BULLET_RATIO = 0.8  # SequenceMatcher ratio above which two bullets repeat each other
MAX_SENTENCE_WORDS = 35
MAX_SENTENCE_CJK_CHARS = 80
MIN_BULLET_CHARS = 40
CJK_LENGTH_FACTOR = 0.5

# Violations whose length the score weighs itself, so they are not counted twice.
_SCORED_ELSEWHERE = {"title_length", "bullet_count", "bullet_length", "description_length"}
RULE_PENALTY = 10
RULE_PENALTY_CAP = 60
GENERIC_BULLET_PENALTY = 6  # a bullet that says nothing about this product
# More filler bullets than this and the listing is not approved, whatever its score: five
# bullets are the listing's space to say what this product is like.
MAX_GENERIC_BULLETS = 1
REUSED_BULLET_PENALTY = 6  # a bullet word for word in another product's listing
JUDGEMENT_PENALTY = 8
JUDGEMENT_PENALTY_CAP = 32
INTERNAL_NOTE_PENALTY = 25
_JUDGED_HERE = {"unknown_brand", "unsupported", "variant", "colour"}


@dataclass
class _Tally:
    score: int = 100
    reasons: list[str] = field(default_factory=list)

    def deduct(self, points: int, reason: str) -> None:
        if points <= 0:
            return
        self.score -= points
        self.reasons.append(f"-{points}: {reason}")


def score_listing(
    draft: ListingDraft,
    rules: MarketplaceRules,
    *,
    product: ProductAnalysis,
    brand: str | None,
    language: str,
    request: ListingRequest | None = None,
    writer: str = "claude",
    other_bullets: frozenset[str] = frozenset(),
) -> QualityReport:
    """Score a draft against its marketplace's rules and the recognised product.

    `other_bullets` holds normalised bullets of other products' listings (see `bullet_key`);
    `writer` "offline" means a template fill, which is never approved.
    """
    cjk = is_cjk_language(language)
    tally = _Tally()
    request = request or ListingRequest(brand=brand, language=language)
    ctx = ReviewContext(rules=rules, request=request, product=product)
    violations = find_violations(
        draft, rules, brand=brand, language=language, brand_marks=product.brand_marks
    )
    judgements = judgement_findings(draft, ctx)
    unusable = structural_findings(draft, ctx)
    _score_title(tally, draft.title, rules, cjk)
    _score_bullets(tally, draft.bullet_points, rules, cjk)
    _score_description(tally, draft.description, rules, cjk)
    _score_coverage(tally, draft, product, language)
    _score_extras(tally, draft, rules)
    _score_rules(tally, violations)
    _score_duplicates(tally, draft.bullet_points)
    _score_readability(tally, draft, cjk)
    generic_bullets = _score_specificity(tally, draft, product, request)
    _score_reuse(tally, draft, other_bullets)
    _score_internal_notes(tally, draft)
    # Claims, contacts and listed brands are rule violations, already counted above.
    _score_judgement(tally, [f.message for f in judgements if f.code in _JUDGED_HERE])
    _score_judgement(tally, [f.message for f in unusable])
    score = max(0, min(100, tally.score))
    approved = (
        score >= APPROVAL_SCORE
        and not violations
        and not judgements
        and not unusable
        and generic_bullets <= MAX_GENERIC_BULLETS
        and writer != "offline"
    )
    logger.debug("listing scored %s (%s deductions)", score, len(tally.reasons))
    return QualityReport(score=score, reasons=tally.reasons, approved=approved)


def _scaled(bounds: tuple[int, int], cjk: bool) -> tuple[int, int]:
    if not cjk:
        return bounds
    return int(bounds[0] * CJK_LENGTH_FACTOR), int(bounds[1] * CJK_LENGTH_FACTOR)


def _score_title(tally: _Tally, title: str, rules: MarketplaceRules, cjk: bool) -> None:
    length = len(title.strip())
    low, high = _scaled(rules.title_recommended_chars, cjk)
    if length > rules.title_max_chars:
        tally.deduct(
            25,
            f"title is {length} characters, over the {rules.label} maximum of "
            f"{rules.title_max_chars}",
        )
    elif length > high:
        tally.deduct(5, f"title is {length} characters; {low}-{high} reads best")
    elif length < low:
        tally.deduct(10, f"title is {length} characters; under {low} says too little")


def _score_bullets(
    tally: _Tally, bullets: Sequence[str], rules: MarketplaceRules, cjk: bool
) -> None:
    missing = rules.bullet_count - len(bullets)
    if missing > 0:
        tally.deduct(min(30, 10 * missing), f"{len(bullets)} of {rules.bullet_count} bullet points")
    elif missing < 0:
        tally.deduct(10, f"{len(bullets)} bullet points; {rules.label} shows {rules.bullet_count}")
    shortest = int(MIN_BULLET_CHARS * (CJK_LENGTH_FACTOR if cjk else 1))
    for number, bullet in enumerate(bullets, start=1):
        length = len(bullet.strip())
        if length > rules.bullet_hard_max_chars:
            tally.deduct(
                10,
                f"bullet {number} is {length} characters, over the limit of "
                f"{rules.bullet_hard_max_chars}",
            )
        elif length > rules.bullet_soft_max_chars:
            tally.deduct(
                3,
                f"bullet {number} is {length} characters; keep it under "
                f"{rules.bullet_soft_max_chars}",
            )
        elif length < shortest:
            tally.deduct(3, f"bullet {number} is only {length} characters")


def _score_description(tally: _Tally, description: str, rules: MarketplaceRules, cjk: bool) -> None:
    length = len(description.strip())
    low, _ = _scaled(rules.description_recommended_chars, cjk)
    limit = rules.description_max_chars
    if limit is not None and length > limit:
        tally.deduct(15, f"description is {length} characters, over the limit of {limit}")
    elif length < low:
        tally.deduct(10, f"description is {length} characters; aim for at least {low}")


def coverage_terms(draft: ListingDraft, product: ProductAnalysis, language: str) -> list[str]:
    """The search terms the copy should contain.

    Recognition describes the product in English, so for English listings the product's own
    keywords and type are the yardstick. For other languages only those product terms written
    in the listing's script count, and the listing's own keywords (written in its language)
    stand in for the rest.
    """
    product_terms = [product.product_type, *product.keywords]
    if primary_language(language) == "en":
        terms = product_terms
    else:
        cjk = is_cjk_language(language)
        terms = [t for t in product_terms if cjk and has_cjk(t)] + list(draft.keywords)
    unique: dict[str, str] = {}
    for term in terms:
        if term.strip():
            unique.setdefault(term.strip().casefold(), term.strip())
    return list(unique.values())


def contains_term(text: str, term: str) -> bool:
    """Substring match for CJK (no spaces); word-start match otherwise so plurals count."""
    folded = term.casefold()
    if has_cjk(folded):
        return folded in text
    return re.search(r"\b" + re.escape(folded), text) is not None


def _score_coverage(
    tally: _Tally, draft: ListingDraft, product: ProductAnalysis, language: str
) -> None:
    terms = coverage_terms(draft, product, language)
    if not terms:
        return
    text = " ".join([draft.title, *draft.bullet_points, draft.description]).casefold()
    missing = [t for t in terms if not contains_term(text, t)]
    share = 1 - len(missing) / len(terms)
    points = 0 if share >= 0.6 else 5 if share >= 0.4 else 10 if share >= 0.2 else 15
    shown = ", ".join(repr(t) for t in missing[:5])
    tally.deduct(
        points,
        f"keyword coverage {len(terms) - len(missing)}/{len(terms)} ({share:.0%}); missing {shown}",
    )
    type_comparable = primary_language(language) == "en" or has_cjk(product.product_type)
    if type_comparable and not contains_term(draft.title.casefold(), product.product_type):
        tally.deduct(10, f"title does not name the product type {product.product_type!r}")


def _score_extras(tally: _Tally, draft: ListingDraft, rules: MarketplaceRules) -> None:
    if not draft.keywords:
        tally.deduct(5, "no keywords")
    if rules.search_terms_byte_limit and not draft.search_terms.strip():
        tally.deduct(5, "search terms are empty")
    if len(draft.image_prompts) != 5:
        tally.deduct(10, f"{len(draft.image_prompts)} image prompts; the image set needs 5")


def _score_rules(tally: _Tally, violations: Sequence[Violation]) -> None:
    taken = 0
    for violation in violations:
        if violation.kind in _SCORED_ELSEWHERE:
            continue
        points = min(RULE_PENALTY, RULE_PENALTY_CAP - taken)
        taken += points
        if points > 0:
            tally.deduct(points, violation.message)
        else:
            tally.reasons.append(f"-0: {violation.message} (rule deductions capped)")


def _score_duplicates(tally: _Tally, bullets: Sequence[str]) -> None:
    pairs = 0
    for (i, first), (j, second) in combinations(enumerate(bullets, start=1), 2):
        ratio = SequenceMatcher(None, first.casefold(), second.casefold()).ratio()
        if ratio > DUPLICATE_BULLET_RATIO:
            pairs += 1
            tally.deduct(10 if pairs <= 2 else 0, f"bullets {i} and {j} are {ratio:.0%} alike")


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|[。！？\n]+")


def _score_readability(tally: _Tally, draft: ListingDraft, cjk: bool) -> None:
    # Titles are keyword lists, not sentences; their length is scored on its own.
    texts = [(f"bullet {n}", b) for n, b in enumerate(draft.bullet_points, start=1)]
    texts.append(("description", draft.description))
    long_ones = 0
    for name, text in texts:
        for sentence in _SENTENCE_SPLIT.split(text):
            if cjk and has_cjk(sentence):
                size, unit, limit = len(sentence.strip()), "characters", MAX_SENTENCE_CJK_CHARS
            else:
                size, unit, limit = len(sentence.split()), "words", MAX_SENTENCE_WORDS
            if size > limit:
                long_ones += 1
                tally.deduct(
                    3 if long_ones <= 3 else 0,
                    f"{name} has a {size}-{unit[:-1]} sentence (over {limit} {unit})",
                )


def bullet_key(bullet: str) -> str:
    """A bullet normalised for comparison across listings: case, spacing, punctuation."""
    return re.sub(r"[\W_]+", " ", bullet.casefold()).strip()


def product_facts(product: ProductAnalysis, request: ListingRequest) -> list[str]:
    """The words that tie copy to this product, in English and the listing's language: what
    it is made of, does, is for and measures. What it is (its type) is not among them: "a
    running sneaker that fits everyday life" names the product and says nothing about it;
    the words its name adds ("Insulated", "Organic Cotton") are."""
    lang = primary_language(request.language)
    facts = [
        *product.materials,
        *product.colors,
        *product.functional_cues,
        *product.interactive_features,
        *product.use_scenarios,
        *product.target_audience,
        *product.keywords,
        *request.features,
        *request.emphasis,
        *request.specifications.keys(),
        *request.specifications.values(),
    ]
    if request.product_name:
        facts += request.product_name.split()
    facts += product.product_name.split()
    if lang != "en":
        glossary = {**COLOUR_TERMS, **MATERIAL_TERMS, **PRODUCT_TERMS}
        for term in list(facts):
            native = glossary.get(term.casefold(), {}).get(lang)
            if native:
                facts.append(native)
    stop = {"product", "unidentified", "the", "and", "for", "with", "a", "an", "of"}
    stop |= {word.casefold() for word in [product.product_type, *product.product_type.split()]}
    return [
        f
        for f in dict.fromkeys(f.strip() for f in facts)
        if len(f) >= 2 and f.casefold() not in stop
    ]


def _names_a_fact(text: str, facts: Sequence[str]) -> bool:
    folded = text.casefold()
    if re.search(r"\d", text):  # a number is a spec: size, capacity, count
        return True
    return any(contains_term(folded, fact) for fact in facts)


def _score_specificity(
    tally: _Tally, draft: ListingDraft, product: ProductAnalysis, request: ListingRequest
) -> int:
    """Deduct for each bullet that names nothing of this product; returns how many."""
    if primary_language(request.language) != "en":
        # Recognition describes the product in English; without a translation of its facts
        # a German or Chinese bullet cannot be matched against them fairly.
        return 0
    facts = product_facts(product, request)
    generic = [n for n, b in enumerate(draft.bullet_points, start=1) if not _names_a_fact(b, facts)]
    for number in generic:
        tally.deduct(
            GENERIC_BULLET_PENALTY,
            f"bullet {number} names no attribute, material, spec, use or audience of this product",
        )
    return len(generic)


def _score_reuse(tally: _Tally, draft: ListingDraft, other_bullets: frozenset[str]) -> None:
    for number, bullet in enumerate(draft.bullet_points, start=1):
        if bullet_key(bullet) in other_bullets:
            tally.deduct(
                REUSED_BULLET_PENALTY,
                f"bullet {number} is word for word in another product's listing",
            )


_INTERNAL = re.compile("|".join(f"(?:{p})" for p in INTERNAL_NOTE_PATTERNS), re.IGNORECASE)


def _score_internal_notes(tally: _Tally, draft: ListingDraft) -> None:
    texts = [("title", draft.title), ("description", draft.description)]
    texts += [(f"bullet {n}", b) for n, b in enumerate(draft.bullet_points, start=1)]
    texts += [("keywords", " ".join(draft.keywords)), ("search terms", draft.search_terms)]
    where = [name for name, text in texts if any(_INTERNAL.search(s) for s in sentences(text))]
    if where:
        tally.deduct(
            INTERNAL_NOTE_PENALTY, f"internal notes in customer-facing text: {', '.join(where)}"
        )


def _score_judgement(tally: _Tally, messages: Sequence[str]) -> None:
    """Unsupported colours, variants, other brands, contacts (claims count as rule breaks)."""
    taken = 0
    for message in dict.fromkeys(messages):
        points = min(JUDGEMENT_PENALTY, JUDGEMENT_PENALTY_CAP - taken)
        taken += max(points, 0)
        if points > 0:
            tally.deduct(points, message)
        else:
            tally.reasons.append(f"-0: {message} (deductions capped)")
