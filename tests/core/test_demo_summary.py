"""The demo's summary says what a person still has to review, part by part."""

from shelfready_demo.demo import _markdown, _review


def test_review_counts_the_reasons_of_each_part() -> None:
    data = {
        "listing": {"approved": False, "review_reasons": ["drafted offline", "score 75"]},
        "images": {"needs_review": True, "review_reasons": ["no sizes for the dimensions"]},
    }
    assert _review(data) == "listing 2, images 1"


def test_only_an_approved_listing_with_clean_images_needs_nothing() -> None:
    approved = {"listing": {"approved": True}, "images": {"needs_review": False}}
    assert _review(approved) == "nothing"
    flagged_images = {"listing": {"approved": True}, "images": {"needs_review": True}}
    assert _review(flagged_images) == "listing"


def test_listing_md_carries_the_review_reasons_and_fixes() -> None:
    data = {
        "source_name": "mug.jpg",
        "status": "COMPLETED",
        "error": None,
        "listing": {
            "title": "Mug",
            "quality": {"score": 70, "approved": False, "reasons": ["-10: short title"]},
            "review_reasons": ["drafted offline"],
            "fixes": ["title: removed trailing '!'"],
            "bullet_points": ["a"],
            "description": "d",
            "search_terms": "s",
            "keywords": [],
        },
        "images": {"review_reasons": ["detail is not a close-up"]},
    }
    text = _markdown(data, [])
    for expected in ("drafted offline", "-10: short title", "removed trailing", "needs review"):
        assert expected in text
