"""The offline writer: rule-compliant, deterministic, labelled, in four languages."""

from __future__ import annotations

import pytest
import redis

from shelfready_core.config import Settings
from shelfready_core.schemas import ListingRequest, ProductAnalysis
from shelfready_listing.marketplace import check_listing
from shelfready_listing.offline import OFFLINE_REASON, OfflineListingWriter
from shelfready_listing.quality import APPROVAL_SCORE, score_listing
from shelfready_listing.rules import rules_for
from shelfready_listing.text_checks import has_cjk, title_words_in_search_terms, utf8_len
from shelfready_listing.writer import ClaudeListingWriter, get_listing_writer
from tests.listing.samples import bottle, mug, tshirt

PRODUCTS = {"bottle": bottle, "tshirt": tshirt, "mug": mug}
SELLERS = {
    "bottle": {
        "brand": "Acme",
        "features": ["Keeps drinks cold for 24 hours", "FREE SHIPPING on orders"],
        "specifications": {"Capacity": "750 ml", "Height": "26 cm"},
        "emphasis": ["leakproof lid"],
    },
    "tshirt": {
        "brand": "Northwind",
        "product_name": "Everyday Crew Tee",
        "features": ["Call 212-555-0199 for bulk orders", "<b>pre-shrunk</b> fabric"],
    },
    "mug": {},
}


def request(name: str, marketplace: str, language: str) -> ListingRequest:
    return ListingRequest(marketplace=marketplace, language=language, **SELLERS[name])


@pytest.mark.parametrize("language", ["en", "zh", "ja", "de"])
@pytest.mark.parametrize("marketplace", ["amazon", "etsy", "shopify", "ebay"])
@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_offline_listing_passes_the_marketplace_rules(
    name: str, marketplace: str, language: str
) -> None:
    product, req = PRODUCTS[name](), request(name, marketplace, language)
    result = OfflineListingWriter().write(product, req)
    problems = check_listing(
        result.value,
        rules_for(marketplace, "US"),
        brand=req.brand,
        language=language,
        brand_marks=product.brand_marks,
    )
    assert problems == []
    assert result.notes["violations"] == []
    assert result.usage == []


@pytest.mark.parametrize("name", ["bottle", "tshirt"])
def test_offline_english_listing_scores_well_but_is_never_approved(name: str) -> None:
    product, req = PRODUCTS[name](), request(name, "amazon", "en")
    result = OfflineListingWriter().write(product, req)
    report = score_listing(
        result.value,
        rules_for("amazon", "US"),
        product=product,
        brand=req.brand,
        language="en",
        request=req,
        writer="offline",
    )
    # Rich facts: at most the closing "check the images" bullet is filler.
    assert report.score >= 75, report.reasons
    assert sum("names no attribute" in r for r in report.reasons) <= 1, report.reasons
    assert not report.approved
    review = result.notes["review"]
    assert review.writer == "offline" and review.needs_review
    assert OFFLINE_REASON in review.review_reasons


def test_offline_listing_is_deterministic() -> None:
    first = OfflineListingWriter().write(bottle(), request("bottle", "amazon", "en")).value
    second = OfflineListingWriter().write(bottle(), request("bottle", "amazon", "en")).value
    assert first == second


def test_offline_listing_shape_and_label() -> None:
    result = OfflineListingWriter().write(bottle(), request("bottle", "amazon", "en"))
    draft = result.value
    assert result.notes["writer"] == "offline"
    assert draft.title.startswith("Acme ")
    assert "Water Bottle" in draft.title and "Stainless Steel" in draft.title
    assert "offline" not in draft.description.casefold()  # said in the review, not the copy
    assert len(draft.bullet_points) == 5 and len(set(draft.bullet_points)) == 5
    assert "leakproof lid" in draft.bullet_points[0].casefold()  # emphasis comes first
    assert "Capacity: 750 ml" in draft.bullet_points[4]
    assert "white background" in draft.image_prompts[0]
    assert "Capacity: 750 ml" in draft.image_prompts[3]


def test_seller_noise_is_cleaned_not_copied() -> None:
    draft = OfflineListingWriter().write(tshirt(), request("tshirt", "amazon", "en")).value
    text = "\n".join([draft.title, *draft.bullet_points, draft.description, draft.search_terms])
    for unwanted in ("212-555-0199", "<b>", "www.", "Nike", "SUPER", "best", "Perfect"):
        assert unwanted not in text
    assert "Super Soft ribbed collar" in text  # shouting softened, the fact kept
    assert "fit ever" not in text  # a fragment with a claim is dropped, not mangled
    assert "100% cotton" in text  # a material share is not a claim
    assert draft.title.startswith("Northwind Everyday Crew Tee T-Shirt")


def test_search_terms_fit_in_the_byte_limit_without_title_words_or_brand() -> None:
    product = bottle().model_copy(
        update={"keywords": [f"keyword{n} phrase{n} extra{n}" for n in range(60)]}
    )
    for language in ("en", "zh"):
        req = request("bottle", "amazon", language)
        draft = OfflineListingWriter().write(product, req).value
        assert 150 < utf8_len(draft.search_terms) < 250
        assert title_words_in_search_terms(draft.search_terms, draft.title, language) == []
        assert "acme" not in draft.search_terms.casefold()


def test_search_terms_only_where_the_marketplace_has_them() -> None:
    draft = OfflineListingWriter().write(bottle(), request("bottle", "etsy", "en")).value
    assert draft.search_terms == ""
    assert len(draft.keywords) <= 13 and all(len(k) <= 20 for k in draft.keywords)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh", "【耐用材质】采用不锈钢和硅胶制成"),
        ("ja", "【丈夫な素材】ステンレス"),
        ("de", "aus Edelstahl und Silikon"),
    ],
)
def test_language_switch_works_offline(language: str, expected: str) -> None:
    draft = OfflineListingWriter().write(bottle(), request("bottle", "amazon", language)).value
    assert expected in draft.bullet_points[1]
    assert "offline" not in draft.description.casefold() and "KI" not in draft.description
    assert has_cjk(draft.bullet_points[0]) == (language in {"zh", "ja"})


def test_unknown_language_falls_back_to_english() -> None:
    result = OfflineListingWriter().write(bottle(), request("bottle", "amazon", "fr"))
    assert result.notes["language"] == "en"
    assert OFFLINE_REASON in result.notes["review"].review_reasons


def test_unknown_marketplace_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown marketplace 'walmart'"):
        OfflineListingWriter().write(bottle(), request("bottle", "walmart", "en"))


def test_sparse_product_scores_lower_but_breaks_no_rule() -> None:
    draft = OfflineListingWriter().write(mug(), ListingRequest()).value
    report = score_listing(
        draft, rules_for("amazon", "US"), product=mug(), brand=None, language="en"
    )
    assert draft.search_terms  # the category path still gives search terms
    # With nothing known but what it is, the bullets that only name the mug are filler.
    generic = [r for r in report.reasons if "names no attribute" in r]
    assert len(generic) >= 3, report.reasons
    assert 40 <= report.score < APPROVAL_SCORE and not report.approved


def test_sparse_product_still_gets_five_bullets() -> None:
    sparse = ProductAnalysis(
        product_type="lamp", product_name="Lamp", category="Home", confidence=0.5, description=""
    )
    draft = OfflineListingWriter().write(sparse, ListingRequest()).value
    assert len(draft.bullet_points) == 5 and all(draft.bullet_points)
    assert draft.title == "Lamp"


def test_get_listing_writer_follows_the_settings(redis_conn: redis.Redis) -> None:
    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    no_key = settings(anthropic_api_key=None, SHELFREADY_AI="auto")
    assert isinstance(get_listing_writer(no_key, redis_conn), OfflineListingWriter)
    forced = settings(anthropic_api_key="sk-test", SHELFREADY_AI="offline")
    assert isinstance(get_listing_writer(forced, redis_conn), OfflineListingWriter)
    claude = settings(anthropic_api_key="sk-test", SHELFREADY_AI="auto")
    assert isinstance(get_listing_writer(claude, redis_conn), ClaudeListingWriter)


@pytest.mark.parametrize(
    "name", ["IMG_2041", "DSC_0042", "PXL_20240101_123456", "Screenshot 2024-05-01"]
)
def test_a_camera_file_name_is_never_the_product_name(name: str) -> None:
    product = bottle().model_copy(update={"product_name": name})
    result = OfflineListingWriter().write(product, ListingRequest(brand="Acme"))
    draft = result.value
    text = "\n".join([draft.title, *draft.bullet_points, draft.description]).casefold()
    assert name.casefold() not in text and "water bottle" in draft.title.casefold()
    assert any("camera file name" in r for r in result.notes["review"].review_reasons)


def test_regenerate_feedback_that_states_facts_is_applied() -> None:
    product = bottle().model_copy(update={"materials": [], "colors": ["navy"]})
    feedback = "It is a teapot. The colour is green and it is made of ceramic. Size: 20 cm"
    draft = (
        OfflineListingWriter().write(product, ListingRequest(brand="Acme", feedback=feedback)).value
    )
    assert "Teapot" in draft.title and "Ceramic" in draft.title and "Green" in draft.title
    assert "navy" not in draft.title.casefold()
    assert any("20 cm" in b for b in draft.bullet_points)


def test_one_product_one_colour_no_invented_variants() -> None:
    product = bottle().model_copy(update={"colors": ["blue", "teal", "navy"]})
    draft = OfflineListingWriter().write(product, ListingRequest(brand="Acme")).value
    text = "\n".join([draft.title, *draft.bullet_points, draft.description, draft.search_terms])
    assert "available in" not in text.casefold()
    assert "teal" not in text.casefold() and "navy" not in text.casefold()


@pytest.mark.parametrize(
    ("language", "native_type"),
    [("ja", "水筒"), ("zh", "水瓶"), ("de", "Trinkflasche")],
)
def test_the_whole_title_is_in_the_requested_language(language: str, native_type: str) -> None:
    draft = (
        OfflineListingWriter()
        .write(bottle(), ListingRequest(brand="Acme", language=language))
        .value
    )
    assert native_type in draft.title
    english = {"water", "bottle", "insulated", "stainless", "steel", "navy", "blue"}
    title_words = {w.casefold().strip(",") for w in draft.title.split()}
    assert not (title_words & english), draft.title


def test_different_products_get_different_bullets() -> None:
    first = OfflineListingWriter().write(bottle(), ListingRequest(brand="Acme")).value
    second = OfflineListingWriter().write(mug(), ListingRequest(brand="Acme")).value
    assert not set(first.bullet_points) & set(second.bullet_points)
