"""The 0-100 quality score: good and bad listings in English and Chinese, and its reasons."""

from __future__ import annotations

import re

from shelfready_core.schemas import ListingDraft, ListingRequest, QualityReport
from shelfready_listing.quality import APPROVAL_SCORE, bullet_key, score_listing
from shelfready_listing.rules import rules_for
from tests.listing.samples import BAD_EN, BAD_ZH, BRAND, GOOD_EN, GOOD_ZH, bottle

AMAZON_US = rules_for("amazon", "US")


# The seller states what the photo cannot show; the good samples rely on it.
SELLER_FEATURES = ["BPA-free lid"]


def score(draft: ListingDraft, language: str = "en", brand: str | None = BRAND) -> QualityReport:
    request = ListingRequest(brand=brand, language=language, features=SELLER_FEATURES)
    return score_listing(
        draft, AMAZON_US, product=bottle(), brand=brand, language=language, request=request
    )


def amended(draft: ListingDraft, **changes: object) -> ListingDraft:
    return ListingDraft.model_construct(**{**draft.model_dump(), **changes})


def deductions(report: QualityReport) -> int:
    return sum(int(re.match(r"-(\d+): ", reason).group(1)) for reason in report.reasons)


def test_good_english_listing_is_approved_with_no_deductions() -> None:
    report = score(GOOD_EN)
    assert report.score >= APPROVAL_SCORE and report.approved
    assert report.score == 100 and report.reasons == []


def test_bad_english_listing_scores_low_with_reasons() -> None:
    report = score(BAD_EN)
    assert report.score < APPROVAL_SCORE and not report.approved
    joined = "\n".join(report.reasons)
    assert "title is 220 characters, over the amazon maximum of 200" in joined
    assert "4 of 5 bullet points" in joined
    assert "title contains banned claim 'best'" in joined
    assert "bullets 1 and 2 are 96% alike" in joined
    assert "search terms are 268 bytes" in joined


def test_good_chinese_listing_is_approved() -> None:
    report = score(GOOD_ZH, "zh")
    assert report.score >= APPROVAL_SCORE and report.approved, report.reasons


def test_bad_chinese_listing_scores_low_with_reasons() -> None:
    report = score(BAD_ZH, "zh")
    assert report.score < APPROVAL_SCORE and not report.approved
    joined = "\n".join(report.reasons)
    assert "title contains banned claim '最好'" in joined
    assert "search terms are 270 bytes" in joined
    assert "bullets 1 and 2 are 99% alike" in joined


def test_deductions_add_up_to_the_score() -> None:
    for report in (score(GOOD_EN), score(BAD_ZH, "zh")):
        assert report.score == max(0, 100 - deductions(report))
    middling = score(amended(GOOD_EN, description="Short.", keywords=[]))
    assert middling.score == 100 - deductions(middling) == 85


def test_a_rule_violation_blocks_approval_even_with_a_high_score() -> None:
    report = score(amended(GOOD_EN, title=GOOD_EN.title + ", Best"))
    assert report.score >= APPROVAL_SCORE
    assert not report.approved
    assert "-10: title contains banned claim 'best'" in report.reasons


def test_title_length_against_the_recommended_range() -> None:
    long_title = (
        "Acme Insulated Water Bottle, 750 ml Stainless Steel, Leakproof Lid, Navy Blue, Gym"
    )
    assert (
        "-5: title is 82 characters; 40-80 reads best"
        in score(amended(GOOD_EN, title=long_title)).reasons
    )
    short = score(amended(GOOD_EN, title="Acme Water Bottle"))
    assert "-10: title is 17 characters; under 40 says too little" in short.reasons


def test_keyword_coverage_and_product_type_in_title() -> None:
    vague = amended(
        GOOD_EN,
        title="Acme Drinkware for Trail and Office, 750 ml, Navy Blue, Screw Lid Flask",
        bullet_points=[b.replace("bottle", "flask") for b in GOOD_EN.bullet_points],
        description="A flask for every day. It keeps drinks as you like them. " * 6,
    )
    reasons = score(vague).reasons
    assert "-10: title does not name the product type 'water bottle'" in reasons
    assert (
        "-5: keyword coverage 2/5 (40%); missing 'water bottle', 'insulated water bottle', "
        "'leakproof'" in reasons
    )


def test_chinese_coverage_uses_substring_matching() -> None:
    # No spaces between Chinese words: '防漏' is found inside '防漏设计'.
    assert not any("coverage" in r for r in score(GOOD_ZH, "zh").reasons)
    missing = amended(GOOD_ZH, keywords=["保温杯", "咖啡杯", "茶杯", "酒杯"])
    assert "-10: keyword coverage 1/4 (25%); missing '咖啡杯', '茶杯', '酒杯'" in (
        score(missing, "zh").reasons
    )


def test_readability_of_long_sentences() -> None:
    bullets = list(GOOD_EN.bullet_points)
    bullets[2] = "Easy to clean: " + " ".join(["and it washes quickly"] * 10) + "."
    reasons = score(amended(GOOD_EN, bullet_points=bullets)).reasons
    assert "-3: bullet 3 has a 43-word sentence (over 35 words)" in reasons
    zh_bullets = list(GOOD_ZH.bullet_points)
    zh_bullets[0] = "【长效保温】" + "双层真空结构让饮品保持温度" * 7 + "。"
    zh_reasons = score(amended(GOOD_ZH, bullet_points=zh_bullets), "zh").reasons
    assert "-3: bullet 1 has a 97-character sentence (over 80 characters)" in zh_reasons


def test_near_duplicate_bullets_are_found() -> None:
    bullets = list(GOOD_EN.bullet_points)
    bullets[4] = bullets[0].replace("24 hours", "twenty-four hours")
    reasons = score(amended(GOOD_EN, bullet_points=bullets)).reasons
    assert any(re.fullmatch(r"-10: bullets 1 and 5 are 9\d% alike", r) for r in reasons)


def _report(draft: ListingDraft, **kwargs: object) -> QualityReport:
    request = ListingRequest(brand=BRAND, features=SELLER_FEATURES)
    return score_listing(
        draft, AMAZON_US, product=bottle(), brand=BRAND, language="en", request=request, **kwargs
    )


def test_filler_bullets_that_name_nothing_of_the_product_cost_points() -> None:
    filler = [
        "Ready when you need it: suited to daily use.",
        "Solid construction: made to hold up to regular, everyday use.",
        "Easy everyday use: a simple, practical design for daily routines.",
        "Thoughtful choice: made for people who value practical design.",
        "Clear details: see the images before you order.",
    ]
    report = _report(amended(GOOD_EN, bullet_points=filler))
    generic = [r for r in report.reasons if "names no attribute" in r]
    assert len(generic) == 5 and not report.approved


def test_naming_what_the_product_is_says_nothing_about_it() -> None:
    """Stock phrases around the product's type are filler; a word its name adds is a fact."""
    bullets = [
        "Ready when you need it: a water bottle suited to daily use.",
        "Made for everyday users: a practical water bottle that fits everyday life.",
        "Clear details: check the images for the size of the water bottle before you order.",
        *GOOD_EN.bullet_points[3:],
    ]
    report = _report(amended(GOOD_EN, bullet_points=bullets))
    generic = [r for r in report.reasons if "names no attribute" in r]
    assert [r.split(": ", 1)[1].split()[1] for r in generic] == ["1", "2", "3"]
    assert not report.approved
    named = _report(amended(GOOD_EN, bullet_points=["Insulated, for hot or cold.", *bullets[1:]]))
    assert not any("bullet 1 names" in r for r in named.reasons)  # "Insulated": from its name


def test_bullets_reused_from_another_products_listing_cost_points() -> None:
    others = frozenset(bullet_key(b) for b in GOOD_EN.bullet_points[:2])
    report = _report(GOOD_EN, other_bullets=others)
    assert sum("another product's listing" in r for r in report.reasons) == 2
    assert report.score == 100 - 2 * 6


def test_colours_the_recognition_did_not_see_and_invented_variants_cost_points() -> None:
    bullets = [*GOOD_EN.bullet_points[:4], "Available in red, green and pink to suit you."]
    report = _report(amended(GOOD_EN, bullet_points=bullets))
    joined = "\n".join(report.reasons)
    assert "promises variants" in joined and "'red', a colour the recognition did not see" in joined
    assert not report.approved


def test_internal_notes_in_customer_fields_block_approval() -> None:
    note = "[offline analysis] No AI model looked at this photo."
    report = _report(amended(GOOD_EN, description=note + "\n\n" + GOOD_EN.description))
    assert any("internal notes" in r for r in report.reasons)
    assert report.score < APPROVAL_SCORE and not report.approved


def test_offline_drafts_are_never_approved_whatever_they_score() -> None:
    report = _report(GOOD_EN, writer="offline")
    assert report.score == 100 and not report.approved
