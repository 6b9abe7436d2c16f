"""Shopify: the product CSV import format, one row per image, plus the image files.

The first row of a product carries its fields; the following rows repeat only the Handle with
the next image, as Shopify's template does.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence

from shelfready_core.export.gather import ExportItem

PRODUCTS_FILE = "shopify-products.csv"
COLUMNS = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Variant SKU",
    "Variant Price",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "SEO Title",
    "SEO Description",
    "Status",
]
SEO_TITLE_CHARS = 70  # what search engines show (marketplace-rules.md)
SEO_DESCRIPTION_CHARS = 160


def handle_for(item: ExportItem) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", item.sku.lower()).strip("-")
    return slug or item.workflow_id


def body_html(item: ExportItem) -> str:
    paragraphs = [p.strip() for p in item.description.split("\n") if p.strip()]
    parts = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    if item.bullet_points:
        bullets = "".join(f"<li>{html.escape(b)}</li>" for b in item.bullet_points)
        parts.append(f"<ul>{bullets}</ul>")
    return "".join(parts)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build(items: Sequence[ExportItem]) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    missing_urls = False
    for item in items:
        handle = handle_for(item)
        product = {
            "Handle": handle,
            "Title": item.title,
            "Body (HTML)": body_html(item),
            "Vendor": item.brand or "",
            "Product Category": item.category or "",
            "Type": item.category.split(">")[-1].strip() if item.category else "",
            "Tags": ", ".join(item.keywords),
            # A draft: the seller adds a price in Shopify before publishing.
            "Published": "FALSE",
            "Option1 Name": "Title",
            "Option1 Value": "Default Title",
            "Variant SKU": item.sku,
            "Variant Price": "",
            "SEO Title": _clip(item.title, SEO_TITLE_CHARS),
            "SEO Description": _clip(item.description, SEO_DESCRIPTION_CHARS),
            "Status": "draft",
        }
        if not item.images:
            writer.writerow(product)
        for position, image in enumerate(item.images, start=1):
            name = f"images/{handle}-{position}.{image.extension}"
            files[name] = image.data
            missing_urls |= image.public_url is None
            row = product if position == 1 else {"Handle": handle}
            writer.writerow(
                {
                    **row,
                    "Image Src": image.public_url or name,
                    "Image Position": position,
                    "Image Alt Text": f"{item.title} - {image.kind}"[:512],
                }
            )
    files[PRODUCTS_FILE] = out.getvalue().encode("utf-8")
    notes = [f"{PRODUCTS_FILE}: Shopify's product CSV import format; products import as drafts."]
    if missing_urls:
        notes.append(
            "Image Src holds the file name where storage has no public URL "
            "(set CLOUDFLARE_R2_PUBLIC_URL); Shopify needs a URL, so host images/ first."
        )
    return files, notes
