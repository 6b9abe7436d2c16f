"""Export packs, checked against the marketplaces' documented rules (marketplace-rules.md)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

from fastapi.testclient import TestClient

from shelfready_core.config import Settings
from shelfready_core.export import PACK_VERSION
from tests.api.seed import seed_completed

# Amazon: `<SKU>.<VARIANT>.<ext>`, parts split by periods, MAIN then PT01..PT08.
AMAZON_IMAGE_NAME = re.compile(r"^images/[A-Za-z0-9_-]+\.(MAIN|PT0[1-8])\.(jpg|png)$")
AMAZON_COLUMNS = [
    "item_sku",
    "item_name",
    "brand_name",
    "bullet_point1",
    "bullet_point2",
    "bullet_point3",
    "bullet_point4",
    "bullet_point5",
    "product_description",
    "generic_keywords",
    "main_image_url",
    "other_image_url1",
    "other_image_url2",
    "other_image_url3",
    "other_image_url4",
]


def _approved(client: TestClient, settings: Settings, sku: str | None) -> str:
    workflow_id = seed_completed(settings, sku=sku)
    assert client.post(f"/api/workflows/{workflow_id}/approve").status_code == 200
    return workflow_id


def _zip(response) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_amazon_pack_names_images_by_sku_and_follows_the_flat_file(
    client: TestClient, settings: Settings
) -> None:
    workflow_id = _approved(client, settings, "NW-MUG-01")
    pack = _zip(client.get(f"/api/workflows/{workflow_id}/export", params={"format": "amazon"}))
    names = set(pack.namelist())
    images = sorted(n for n in names if n.startswith("images/"))
    assert images == [
        "images/NW-MUG-01.MAIN.jpg",
        "images/NW-MUG-01.PT01.jpg",
        "images/NW-MUG-01.PT02.jpg",
        "images/NW-MUG-01.PT03.jpg",
        "images/NW-MUG-01.PT04.jpg",
    ]
    assert all(AMAZON_IMAGE_NAME.match(n) for n in images)
    assert pack.read("images/NW-MUG-01.MAIN.jpg")[:2] == b"\xff\xd8"
    rows = list(csv.reader(io.StringIO(pack.read("amazon-listings.txt").decode()), delimiter="\t"))
    assert rows[0] == AMAZON_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2
    assert row["item_sku"] == "NW-MUG-01" and row["brand_name"] == "Acme"
    assert len(row["item_name"]) <= 200
    assert len(row["generic_keywords"].encode()) < 250  # bytes, not characters
    assert all(row[f"bullet_point{n}"] for n in range(1, 6))
    assert "\n" not in row["product_description"]  # one line per SKU
    # Local storage has no public URL: the columns stay empty and the pack says why.
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["pack_version"] == PACK_VERSION and manifest["format"] == "amazon"
    assert row["main_image_url"] == "" and any("PUBLIC_URL" in n for n in manifest["notes"])


def test_only_approved_listings_are_exported_unless_asked(
    client: TestClient, settings: Settings
) -> None:
    workflow_id = seed_completed(settings, sku="RAW-1")
    refused = client.get(f"/api/workflows/{workflow_id}/export")
    assert refused.status_code == 409 and workflow_id in refused.json()["detail"]
    pack = _zip(
        client.get(f"/api/workflows/{workflow_id}/export", params={"include_unapproved": True})
    )
    assert json.loads(pack.read("manifest.json"))["items"][0]["approved"] is False
    assert client.get(f"/api/workflows/{workflow_id}/export?format=ebay").status_code == 422


def test_shopify_csv_has_one_row_per_image_with_product_fields_first(
    client: TestClient, settings: Settings
) -> None:
    workflow_id = _approved(client, settings, "NW-BOTTLE")
    pack = _zip(client.get(f"/api/workflows/{workflow_id}/export", params={"format": "shopify"}))
    rows = list(csv.DictReader(io.StringIO(pack.read("shopify-products.csv").decode())))
    for column in ("Handle", "Title", "Body (HTML)", "Vendor", "Tags", "Image Src"):
        assert column in rows[0]
    assert [r["Image Position"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert {r["Handle"] for r in rows} == {"nw-bottle"}
    assert (
        rows[0]["Title"] and rows[0]["Vendor"] == "Acme" and rows[0]["Variant SKU"] == "NW-BOTTLE"
    )
    assert rows[0]["Body (HTML)"].startswith("<p>") and "<li>" in rows[0]["Body (HTML)"]
    assert rows[1]["Title"] == ""  # image rows after the first carry only the handle
    assert len(rows[0]["SEO Title"]) <= 70
    assert all(r["Image Src"] in pack.namelist() for r in rows)  # no public URL: file names


def test_batch_export_of_many_and_the_plain_pack(client: TestClient, settings: Settings) -> None:
    ids = [_approved(client, settings, f"SKU-{n}") for n in range(3)]
    pack = _zip(client.post("/api/exports", json={"ids": ids, "format": "csv"}))
    records = json.loads(pack.read("listings.json"))
    assert [r["workflow_id"] for r in records] == ids
    rows = list(csv.DictReader(io.StringIO(pack.read("listings.csv").decode())))
    assert [r["sku"] for r in rows] == ["SKU-0", "SKU-1", "SKU-2"]
    assert rows[0]["image1"] in pack.namelist()

    duplicate = _approved(client, settings, "SKU-0")
    clash = client.post("/api/exports", json={"ids": [ids[0], duplicate], "format": "amazon"})
    assert clash.status_code == 409 and "SKU-0" in clash.json()["detail"]
    unknown = client.post("/api/exports", json={"ids": [ids[0], "missing-id"]})
    assert unknown.status_code == 404
    assert client.post("/api/exports", json={"ids": []}).status_code == 422


def test_a_workflow_without_a_sku_gets_a_stable_one(client: TestClient, settings: Settings) -> None:
    workflow_id = _approved(client, settings, None)
    pack = _zip(client.get(f"/api/workflows/{workflow_id}/export"))
    images = [n for n in pack.namelist() if n.startswith("images/")]
    assert all(AMAZON_IMAGE_NAME.match(n) for n in images) and len(images) == 5
    again = _zip(client.get(f"/api/workflows/{workflow_id}/export"))
    assert sorted(again.namelist()) == sorted(pack.namelist())


def test_a_sku_that_would_break_file_names_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/workflows", json={"image_url": "https://example.com/a.jpg", "sku": "A.B C"}
    )
    assert response.status_code == 422 and "sku" in str(response.json()["detail"])
