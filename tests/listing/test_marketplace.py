"""Marketplace rule tables and check_listing on hand-written listings (English and Chinese)."""

from __future__ import annotations

import pytest

from shelfready_core.schemas import ListingDraft
from shelfready_listing.marketplace import check_listing, describe_rules
from shelfready_listing.rules import AMAZON, ETSY, rules_for
from shelfready_listing.text_checks import utf8_len
from tests.listing.samples import BAD_EN, BAD_ZH, BRAND, GOOD_EN, GOOD_ZH


def amended(draft: ListingDraft, **changes: object) -> ListingDraft:
    """A copy with some fields changed, skipping validation (bad drafts on purpose)."""
    return ListingDraft.model_construct(**{**draft.model_dump(), **changes})


def violations(draft: ListingDraft, marketplace: str = "amazon", **kwargs: object) -> list[str]:
    options: dict = {"brand": BRAND, "language": "en", **kwargs}
    market = str(options.pop("market", "US"))
    return check_listing(draft, rules_for(marketplace, market), **options)


# --- rule tables ---------------------------------------------------------------------------


def test_rules_for_known_marketplaces_and_markets() -> None:
    assert rules_for("amazon", "US").title_max_chars == 200
    assert rules_for("Amazon", "uk").title_max_chars == 150
    assert rules_for("amazon", "GB").title_max_chars == 150
    assert rules_for("amazon", "DE") is AMAZON  # no override: the marketplace defaults
    assert rules_for("etsy", "US").tag_max_count == 13
    assert rules_for("etsy", "US").tag_max_chars == 20
    assert rules_for("ebay", "US").title_max_chars == 80
    assert rules_for("shopify", "JP").title_max_chars == 255
    assert rules_for("amazon", "US").search_terms_byte_limit == 250


def test_unknown_marketplace_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown marketplace 'walmart'") as info:
        rules_for("walmart", "US")
    for known in ("amazon", "ebay", "etsy", "shopify"):
        assert known in str(info.value)


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        AMAZON.title_max_chars = 10  # type: ignore[misc]


def test_rules_text_for_the_model_comes_from_the_table() -> None:
    text = describe_rules(rules_for("amazon", "UK"), "zh")
    assert "at most 150 characters" in text
    assert "fewer than 250 BYTES" in text
    assert "最好" in text and '"best"' in text
    assert "tags" in describe_rules(ETSY, "en")


# --- English -------------------------------------------------------------------------------


def test_good_english_listing_passes() -> None:
    assert violations(GOOD_EN) == []
    assert violations(GOOD_EN, "shopify") == []


def test_bad_english_listing_fails_with_specific_violations() -> None:
    found = violations(BAD_EN)
    expected = [
        f"title is {len(BAD_EN.title)} characters; amazon allows at most 200",
        "there are 4 bullet points; amazon listings need 5",
        "title contains banned claim 'best'",
        "title contains banned claim '#1'",
        "bullet 1 contains banned claim '100%'",
        "bullet 1 contains banned claim 'guaranteed'",
        "bullet 1 contains a URL (www.acme-bottles.com)",
        "search terms are 268 bytes; amazon allows fewer than 250",
        "description contains banned claim 'best'",
    ]
    for line in expected:
        assert line in found
    assert any(v.startswith("title repeats words more than 2 times: 'water'") for v in found)


def test_uk_title_limit_is_150() -> None:
    draft = amended(GOOD_EN, title="Acme " + "Steel Bottle " * 12)
    assert any("amazon UK allows at most 150" in v for v in violations(draft, market="UK"))


def test_search_terms_limit_is_strictly_below_250_bytes() -> None:
    assert violations(amended(GOOD_EN, search_terms="k" * 249)) == []
    assert violations(amended(GOOD_EN, search_terms="k" * 250)) == [
        "search terms are 250 bytes; amazon allows fewer than 250"
    ]


def test_search_terms_without_brands_or_title_words() -> None:
    found = violations(amended(GOOD_EN, search_terms="acme thermos bottle navy flask"))
    assert "search terms contain the brand name 'Acme'; leave brand names out" in found
    assert "search terms repeat words already in the title: 'bottle', 'navy'" in found


def test_amazon_title_rules() -> None:
    no_brand_first = amended(GOOD_EN, title="Insulated Water Bottle by Acme, Navy Blue")
    assert "title must start with the brand 'Acme'" in violations(no_brand_first)
    symbols = amended(GOOD_EN, title="Acme Water Bottle! {New} ✨")
    found = violations(symbols)
    assert "title contains characters amazon forbids in titles: ! { }" in found
    assert "title contains decorative symbols or emoji: ✨" in found
    # A forbidden character that is part of the brand is fine.
    branded = amended(GOOD_EN, title="Zip!t Insulated Water Bottle, Navy Blue")
    assert violations(branded, brand="Zip!t") == []


def test_repeated_title_words_ignore_articles_and_prepositions() -> None:
    fine = amended(GOOD_EN, title="Acme Bottle for Yoga, for Office and for Travel and the Car")
    assert violations(fine) == []
    stuffed = amended(GOOD_EN, title="Acme Bottle Yoga Bottle Office Bottle")
    assert violations(stuffed) == ["title repeats words more than 2 times: 'bottle' (3 times)"]


def test_all_caps_words_but_not_acronyms() -> None:
    draft = amended(GOOD_EN, title="Acme LEAKPROOF Water Bottle, USB LED Light, BPA Free")
    assert violations(draft) == ["title has words in ALL CAPS ('LEAKPROOF'); use normal case"]
    assert violations(amended(GOOD_EN, title="ACME Insulated Water Bottle"), brand="ACME") == []
    acronyms = amended(GOOD_EN, title="Acme HEPA Air Purifier, USB-C, PFOA-Free Filter, IPX7")
    assert violations(acronyms) == []
    bullets = list(GOOD_EN.bullet_points)
    bullets[2] = "LEAK-PROOF: the lid seals tight."
    assert violations(amended(GOOD_EN, bullet_points=bullets)) == [
        "bullet 3 has words in ALL CAPS ('LEAK', 'PROOF'); use normal case"
    ]


def test_contact_details_and_html() -> None:
    bullets = list(GOOD_EN.bullet_points)
    bullets[1] = "Questions? Call (212) 555-0199 or write to help@acme.example."
    bullets[2] = "Easy to clean: <b>dishwasher safe</b> lid."
    found = violations(amended(GOOD_EN, bullet_points=bullets))
    assert "bullet 2 contains a phone number ((212) 555-0199)" in found
    assert "bullet 2 contains an e-mail address (help@acme.example)" in found
    assert "bullet 3 contains HTML or markup; use plain text" in found


def test_html_description_allowed_on_shopify_only() -> None:
    draft = amended(GOOD_EN, description="<p>Keeps drinks cold.</p><ul><li>750 ml</li></ul>")
    assert "description contains HTML or markup; use plain text" in violations(draft)
    assert violations(draft, "shopify") == []


def test_material_percentages_are_not_claims() -> None:
    bullets = list(GOOD_EN.bullet_points)
    bullets[0] = "Soft on skin: the sleeve is 100% cotton, and the lining is 100 % merino wool."
    assert violations(amended(GOOD_EN, bullet_points=bullets)) == []
    bullets[0] = "Soft on skin: 100% satisfaction for every buyer."
    assert violations(amended(GOOD_EN, bullet_points=bullets)) == [
        "bullet 1 contains banned claim '100%'"
    ]


def test_competitor_brands_and_foreign_brand_marks() -> None:
    bullets = list(GOOD_EN.bullet_points)
    bullets[3] = "Fits the Thermos sleeve; lighter than a Hydro Flask bottle."
    draft = amended(GOOD_EN, bullet_points=bullets)
    found = violations(draft, brand_marks=["Thermos"])
    assert "bullet 4 names another brand (Hydro Flask)" in found
    assert "bullet 4 names another brand (Thermos)" in found
    # Without a seller brand, marks on the product are most likely its own brand.
    no_brand = amended(draft, title="Insulated Water Bottle, Navy Blue")
    assert violations(no_brand, brand=None, brand_marks=["Thermos"]) == [
        "bullet 4 names another brand (Hydro Flask)"
    ]
    bullets[3] = "Sized to sit beside phones and compatible with Samsung car mounts."
    assert violations(amended(GOOD_EN, bullet_points=bullets)) == []


def test_etsy_tags_and_ebay_title() -> None:
    tags = [f"tag number {n}" for n in range(14)] + ["a tag that is far too long"]
    found = violations(amended(GOOD_EN, keywords=tags), "etsy")
    assert "there are 15 tags; etsy allows at most 13" in found
    assert "tag 15 'a tag that is far too long' is 26 characters; etsy allows at most 20" in found
    assert violations(GOOD_EN, "ebay") == []
    long_title = amended(GOOD_EN, title=GOOD_EN.title + " with Carry Loop")
    assert violations(long_title, "ebay") == [
        f"title is {len(long_title.title)} characters; ebay allows at most 80"
    ]
    assert "title contains banned claim 'l@@k'" in violations(
        amended(GOOD_EN, title="L@@K Acme Bottle"), "ebay"
    )


def test_german_and_japanese_banned_phrases() -> None:
    german = amended(GOOD_EN, title="Acme Trinkflasche, die beste Wahl, garantiert dicht")
    found = violations(german, language="de")
    assert "title contains banned claim 'beste'" in found
    assert "title contains banned claim 'garantiert'" in found
    japanese = amended(GOOD_ZH, title="Acme 水筒 最高の保温力 日本一")
    found = violations(japanese, language="ja")
    assert "title contains banned claim '最高'" in found
    assert "title contains banned claim '日本一'" in found


# --- Chinese -------------------------------------------------------------------------------


def test_good_chinese_listing_passes() -> None:
    assert violations(GOOD_ZH, language="zh") == []


def test_bad_chinese_listing_fails_with_specific_violations() -> None:
    found = violations(BAD_ZH, language="zh")
    assert utf8_len(BAD_ZH.search_terms) == 270 and len(BAD_ZH.search_terms) == 90
    expected = [
        "search terms are 270 bytes; amazon allows fewer than 250 "
        "(UTF-8: each CJK character counts 3 bytes)",
        "there are 4 bullet points; amazon listings need 5",
        "title contains banned claim '最好'",
        "title contains banned claim '第一'",
        "bullet 1 contains banned claim '100%'",
        "bullet 1 contains banned claim '保证'",
        "bullet 1 contains an e-mail address (shop@acme.example.com)",
    ]
    for line in expected:
        assert line in found


def test_cjk_search_terms_count_three_bytes_per_character() -> None:
    assert violations(amended(GOOD_ZH, search_terms="水" * 83), language="zh") == []  # 249 B
    assert violations(amended(GOOD_ZH, search_terms="水" * 84), language="zh") == [
        "search terms are 252 bytes; amazon allows fewer than 250 "
        "(UTF-8: each CJK character counts 3 bytes)"
    ]


def test_cjk_search_terms_repeating_the_title_are_found_by_substring() -> None:
    draft = amended(GOOD_ZH, search_terms="保温杯 户外水瓶")
    assert violations(draft, language="zh") == [
        "search terms repeat words already in the title: '保温杯'"
    ]


def test_chinese_title_length_counts_characters() -> None:
    draft = amended(GOOD_ZH, title="Acme " + "保温杯" * 66)  # 203 characters, 599 bytes
    assert violations(draft, language="zh") == [
        "title is 203 characters; amazon allows at most 200"
    ]
