"""The listing review: each kind of finding, handled its own way, for any writer's draft."""

from __future__ import annotations

import pytest

from shelfready_core.schemas import ListingDraft, ListingRequest
from shelfready_listing.marketplace import find_violations
from shelfready_listing.review import (
    Kind,
    ReviewContext,
    fix_mechanical,
    judgement_findings,
    review_draft,
    salvage_structural,
    structural_findings,
)
from shelfready_listing.rules import rules_for
from shelfready_listing.text_checks import utf8_len
from tests.listing.samples import GOOD_EN, bottle

AMAZON = rules_for("amazon", "US")
REQUEST = ListingRequest(brand="Acme", features=["BPA-free lid"])


def ctx(request: ListingRequest = REQUEST, marketplace: str = "amazon") -> ReviewContext:
    return ReviewContext(rules=rules_for(marketplace, "US"), request=request, product=bottle())


def changed(**fields: object) -> ListingDraft:
    return GOOD_EN.model_copy(update=fields)


def test_a_good_draft_passes_untouched() -> None:
    review = review_draft(GOOD_EN, ctx())
    assert review.draft == GOOD_EN and review.fixes == [] and not review.needs_review


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but I can't help with that.",
        "As an AI, I cannot verify this.",
        "Made by [Brand] for you.",
        "Capacity: TBD.",
        "Weight: N/A.",
        "Lorem ipsum dolor sit amet.",
    ],
)
def test_refusals_and_placeholders_are_structural(text: str) -> None:
    draft = changed(description=GOOD_EN.description + "\n\n" + text)
    [finding] = structural_findings(draft, ctx())
    assert finding.kind is Kind.STRUCTURAL and finding.field == "description"
    salvaged, fixes = salvage_structural(draft, ctx())
    assert salvaged.description == GOOD_EN.description and fixes


def test_a_draft_that_is_only_a_refusal_cannot_be_salvaged() -> None:
    draft = changed(description="I'm sorry, I can't write this listing.")
    with pytest.raises(ValueError, match="only a refusal"):
        salvage_structural(draft, ctx())


def test_empty_fields_are_structural() -> None:
    draft = changed(title=" ", bullet_points=["", *GOOD_EN.bullet_points[1:]])
    fields = {f.field for f in structural_findings(draft, ctx())}
    assert {"title", "bullet 1"} <= fields


def test_mechanical_problems_are_fixed_and_each_fix_recorded() -> None:
    draft = changed(
        title="INSULATED Water Bottle <b>750 ml</b> Bottle Bottle Bottle by Acme 🚰!",
        bullet_points=[
            GOOD_EN.bullet_points[0] + " It is sturdy." * 50,
            *GOOD_EN.bullet_points[1:],
        ],
        description="<p>" + GOOD_EN.description + "</p>" + " More text." * 300,
        search_terms="water bottle flask " + "hiking " * 5 + "thermos " * 40 + "acme",
    )
    fixed, fixes = fix_mechanical(draft, ctx())
    assert [v.message for v in find_violations(fixed, AMAZON, brand="Acme", language="en")] == []
    assert fixed.title.startswith("Acme Insulated Water Bottle 750 ml")
    assert fixed.title.casefold().count("bottle") <= 2 and not fixed.title.endswith("!")
    assert "🚰" not in fixed.title and "<b>" not in fixed.title
    assert len(fixed.bullet_points[0]) <= AMAZON.bullet_hard_max_chars
    assert fixed.bullet_points[0].endswith(".")  # cut at a sentence end
    assert "<p>" not in fixed.description and len(fixed.description) <= 2000
    assert utf8_len(fixed.search_terms) < 250 and "acme" not in fixed.search_terms
    assert "water" not in fixed.search_terms.split()  # already in the title
    joined = "\n".join(fixes)
    for expected in (
        "moved the brand 'Acme' to the front",
        "title: removed HTML",
        "title: removed emoji",
        "ALL CAPS",
        "title: removed repeated words",
        "bullet 1: shortened",
        "description: removed HTML",
        "description: shortened",
        "search terms: removed words already in the title",
        "search terms: removed the brand name",
    ):
        assert expected in joined, expected


def test_etsy_tags_are_trimmed_to_the_limits() -> None:
    draft = changed(keywords=[f"tag number {n}" for n in range(20)] + ["a tag far too long to use"])
    fixed, fixes = fix_mechanical(draft, ctx(marketplace="etsy"))
    assert len(fixed.keywords) == 13 and all(len(k) <= 20 for k in fixed.keywords)
    assert fixed.search_terms == ""  # Etsy has no search-terms field
    assert fixes


def test_internal_notes_are_removed_from_customer_fields() -> None:
    note = "[offline analysis] Water bottle: a 1600x1200 photo. No AI model looked at this photo."
    draft = changed(description=note + "\n\n" + GOOD_EN.description)
    fixed, fixes = fix_mechanical(draft, ctx())
    assert fixed.description == GOOD_EN.description
    assert "description: removed internal notes" in fixes


def test_judgement_findings_name_what_a_person_must_decide() -> None:
    draft = changed(
        bullet_points=[
            "The best bottle money can buy.",
            GOOD_EN.bullet_points[1] + " Call 212-555-0199 for details.",
            GOOD_EN.bullet_points[2] + " Lighter than a Zentrix bottle.",
            GOOD_EN.bullet_points[3] + " Available in red, blue and green.",
            GOOD_EN.bullet_points[4] + " Dishwasher safe and certified.",
        ],
    )
    codes = {(f.field, f.code) for f in judgement_findings(draft, ctx())}
    assert ("bullet 1", "claim") in codes
    assert ("bullet 2", "contact") in codes
    assert ("bullet 3", "unknown_brand") in codes
    assert ("bullet 4", "variant") in codes and ("bullet 4", "colour") in codes
    assert ("bullet 5", "unsupported") in codes


def test_droppable_judgement_is_removed_the_rest_kept_and_flagged() -> None:
    draft = changed(
        title=GOOD_EN.title + " for Hydro Flask Fans",
        bullet_points=[
            "The best bottle money can buy.",  # one sentence: cannot go cleanly
            GOOD_EN.bullet_points[1] + " Lighter than a Zentrix bottle.",
            *GOOD_EN.bullet_points[2:],
        ],
    )
    review = review_draft(draft, ctx())
    assert "Hydro Flask" not in review.draft.title
    assert "Zentrix" not in review.draft.bullet_points[1]
    assert review.draft.bullet_points[0] == "The best bottle money can buy."
    assert review.needs_review and review.reasons == ["bullet 1: claim 'best'"]
    assert any("Hydro Flask" in fix for fix in review.fixes)


def test_the_sellers_own_facts_support_claims_and_colours() -> None:
    stated = ListingRequest(brand="Acme", features=["BPA-free lid", "dishwasher safe"])
    draft = changed(description=GOOD_EN.description + " It is dishwasher safe.")
    assert judgement_findings(draft, ctx(stated)) == []
    assert judgement_findings(draft, ctx()) != []
