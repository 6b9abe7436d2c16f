"""The seller's page in a real browser, against real workers: upload two photos, watch them
complete, edit a title past its limit and see the finding, fix and approve it, regenerate one
image, download the Amazon pack and check its file names and columns."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Deployment

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PHOTOS = [SAMPLES / "ceramic-coffee-mug.jpg", SAMPLES / "stainless-water-bottle.jpg"]
GOOD_TITLE = "Northwind Ceramic Coffee Mug, 350 ml Glazed Stoneware, Dishwasher Safe"
FILLER = (
    "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliet Kilo Lima Mike "
    "November Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey Yankee Zulu"
)
# Where to keep screenshots for a person to look at (else the test's own folder).
SHOTS = os.environ.get("SHELFREADY_SCREENSHOT_DIR")


def _open_page(browser: Browser, deployment: Deployment, **context: Any) -> tuple[Page, list[str]]:
    page = browser.new_context(accept_downloads=True, **context).new_page()
    outside: list[str] = []
    # Every asset must come from the API itself: anything else is recorded and refused.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith((deployment.url, "blob:", "data:"))
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.goto(deployment.url + "/")
    page.fill("#api-key", deployment.token)
    page.click("#key-form button")
    expect(page.locator("#key-state")).to_have_text("key saved")
    return page, outside


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


@pytest.mark.slow
def test_seller_uploads_reviews_approves_regenerates_and_exports(
    deployment: Deployment, browser: Browser, tmp_path: Path
) -> None:
    page, outside = _open_page(browser, deployment, viewport={"width": 1280, "height": 900})

    page.set_input_files("#files", [str(p) for p in PHOTOS])
    expect(page.locator("#picked")).to_contain_text("2 photo(s)")
    page.fill("#upload-form input[name=brand]", "Northwind")
    page.fill("#upload-form input[name=category]", "Home & Kitchen")
    page.click("#start")
    expect(page.locator("#upload-msg")).to_have_text("Started 2 workflow(s).")

    rows = page.locator("#workflows li")
    expect(rows).to_have_count(2)
    done = page.locator('#workflows li[data-status="COMPLETED"]')
    expect(done).to_have_count(2, timeout=240_000)
    expect(page.locator("#workflows img")).to_have_count(2)  # thumbnails, fetched with the key

    mug = page.locator("#workflows li", has_text="Mug")
    mug.first.click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#score")).to_contain_text("/100")
    expect(page.locator("#images li")).to_have_count(5)
    expect(page.locator("#images li img[src^='blob:']")).to_have_count(5)
    _shot(page, tmp_path, "desktop.png")

    # Past Amazon's 200 characters: the counter turns red while typing, the finding appears
    # when saved, and approval is refused.
    title = page.locator("#listing-form textarea[name=title]")
    title.fill(f"{GOOD_TITLE}, {FILLER}")
    counter = page.locator('.counter[data-for="title"]')
    expect(counter).to_have_class("counter over")
    page.click("#save")
    expect(page.locator("#listing-msg")).to_have_text("Saved as version 2.")
    expect(page.locator('#findings li[data-field="title"]')).to_have_text(
        f"title is {len(GOOD_TITLE) + 2 + len(FILLER)} characters; amazon allows at most 200"
    )
    expect(page.locator("#approve")).to_be_disabled()
    _shot(page, tmp_path, "finding.png")

    title.fill(GOOD_TITLE)
    expect(counter).to_have_text(f"{len(GOOD_TITLE)} / 200 chars")
    expect(counter).to_have_class("counter")
    page.click("#save")
    expect(page.locator("#listing-msg")).to_have_text("Saved as version 3.")
    expect(page.locator('#findings li[data-field="title"]')).to_have_count(0)
    expect(page.locator("#approve")).to_be_enabled()
    page.click("#approve")
    expect(page.locator("#approved-state")).to_have_text("approved")
    expect(page.locator("#workflows li.open .badge.approved")).to_be_visible()

    # Regenerate one image: the button waits until the worker has re-rendered it.
    second = page.locator('#images li[data-index="2"]')
    second.locator("textarea").fill("a brighter kitchen scene")
    second.locator("button").click()
    expect(second.locator("button")).to_have_text("Regenerating…")
    expect(page.locator('#images li[data-index="2"] button')).to_have_text(
        "Regenerate image", timeout=120_000
    )

    page.select_option("#export-format", "amazon")
    with page.expect_download() as download_info:
        page.click("#export")
    pack_path = tmp_path / "pack.zip"
    download_info.value.save_as(pack_path)
    with zipfile.ZipFile(pack_path) as pack:
        names = set(pack.namelist())
        listing_file = pack.read("amazon-listings.txt").decode()
    rows_out = list(csv.reader(io.StringIO(listing_file), delimiter="\t"))
    header, row = rows_out[0], dict(zip(rows_out[0], rows_out[1], strict=True))
    sku = row["item_sku"]
    assert sku.startswith("SR-")  # no SKU given on the page: the stable default
    assert {f"images/{sku}.MAIN.jpg", *(f"images/{sku}.PT0{n}.jpg" for n in range(1, 5))} <= names
    assert header[:3] == ["item_sku", "item_name", "brand_name"]
    assert [c for c in header if c.startswith("bullet_point")] == [
        f"bullet_point{n}" for n in range(1, 6)
    ]
    assert {"product_description", "generic_keywords", "main_image_url", "other_image_url1"} <= set(
        header
    )
    assert row["item_name"] == GOOD_TITLE and row["brand_name"] == "Northwind"
    assert len(rows_out) == 2

    # Both workflows in one pack: the unapproved one only when asked for.
    for box in page.locator("#workflows li input[type=checkbox]").all():
        box.check()
    page.click("#batch-export")
    expect(page.locator("#batch-msg")).to_contain_text("not approved yet")
    page.check("#batch-unapproved")
    with page.expect_download() as batch_info:
        page.click("#batch-export")
    batch_path = tmp_path / "batch.zip"
    batch_info.value.save_as(batch_path)
    with zipfile.ZipFile(batch_path) as pack:
        text = pack.read("amazon-listings.txt").decode()
    assert len(list(csv.DictReader(io.StringIO(text), delimiter="\t"))) == 2
    assert outside == [], outside


@pytest.mark.slow
def test_the_page_works_on_a_phone_screen(
    deployment: Deployment, browser: Browser, tmp_path: Path
) -> None:
    width = 390
    page, outside = _open_page(
        browser,
        deployment,
        viewport={"width": width, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    expect(page.locator("#page-info")).to_have_text("no workflows yet")
    page.set_input_files("#files", [str(PHOTOS[1])])
    page.click("#start")
    expect(page.locator('#workflows li[data-status="COMPLETED"]')).to_have_count(1, timeout=180_000)
    page.locator("#workflows li").first.tap()
    expect(page.locator("#images li img[src^='blob:']")).to_have_count(5)
    expect(page.locator("#no-findings")).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for section in ("#upload", "#list", "#detail"):
        box = page.locator(section).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, section
    _shot(page, tmp_path, "phone.png")
    assert outside == []
