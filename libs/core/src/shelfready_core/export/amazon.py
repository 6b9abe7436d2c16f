"""Amazon: images named `<SKU>.MAIN.jpg`, `<SKU>.PT01.jpg`… and a tab-separated listing file.

File names follow Amazon's image naming (`<SKU>.<VARIANT>.<ext>`, parts split by periods);
the listing file's columns are the inventory flat file's attribute names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from shelfready_core.export.gather import AMAZON_VARIANTS, ExportItem, one_line

LISTING_FILE = "amazon-listings.txt"
BULLETS = 5
OTHER_IMAGES = 4
COLUMNS = [
    "item_sku",
    "item_name",
    "brand_name",
    *[f"bullet_point{n}" for n in range(1, BULLETS + 1)],
    "product_description",
    "generic_keywords",
    "main_image_url",
    *[f"other_image_url{n}" for n in range(1, OTHER_IMAGES + 1)],
]


def image_name(sku: str, index: int, extension: str) -> str:
    return f"{sku}.{AMAZON_VARIANTS[index]}.{extension}"


def build(items: Sequence[ExportItem]) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    missing_urls = False
    for item in items:
        urls: dict[int, str] = {}
        for image in item.images:
            files[f"images/{image_name(item.sku, image.index, image.extension)}"] = image.data
            if image.public_url:
                urls[image.index] = image.public_url
        missing_urls |= len(urls) < len(item.images)
        bullets = [one_line(b) for b in item.bullet_points[:BULLETS]]
        writer.writerow(
            [
                item.sku,
                one_line(item.title),
                item.brand or "",
                *(bullets + [""] * (BULLETS - len(bullets))),
                one_line(item.description),
                one_line(item.search_terms),
                urls.get(1, ""),
                *[urls.get(index, "") for index in range(2, 2 + OTHER_IMAGES)],
            ]
        )
    files[LISTING_FILE] = out.getvalue().encode("utf-8")
    notes = [
        f"{LISTING_FILE}: tab-separated, UTF-8, one row per SKU, flat-file attribute names.",
        "images/: upload the folder with Seller Central's image upload; the names match SKUs.",
    ]
    if missing_urls:
        notes.append(
            "Image URL columns are empty where storage has no public URL "
            "(set CLOUDFLARE_R2_PUBLIC_URL); upload images/ by file name instead."
        )
    return files, notes
