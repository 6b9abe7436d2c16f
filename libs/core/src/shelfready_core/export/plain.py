"""Every field as CSV and JSON, with the images, for any other tool."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from shelfready_core.export.gather import ExportItem

CSV_FILE = "listings.csv"
JSON_FILE = "listings.json"
BULLETS = 5
IMAGES = 5


def build(items: Sequence[ExportItem]) -> tuple[dict[str, bytes], list[str]]:
    files: dict[str, bytes] = {}
    columns = [
        "workflow_id",
        "sku",
        "brand",
        "category",
        "marketplace",
        "market",
        "language",
        "title",
        *[f"bullet_point{n}" for n in range(1, BULLETS + 1)],
        "description",
        "keywords",
        "search_terms",
        "quality_score",
        "approved",
        "listing_version",
        *[f"image{n}" for n in range(1, IMAGES + 1)],
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    records = []
    for item in items:
        fields = item.fields()
        images: dict[int, str] = {}
        for image in item.images:
            name = f"images/{item.sku}/{image.index}-{image.kind}.{image.extension}"
            files[name] = image.data
            images[image.index] = name
        for record in fields["images"]:
            record["file"] = images.get(record["index"])
        records.append(fields)
        row = {k: v for k, v in fields.items() if k in columns}
        row.update({f"bullet_point{n + 1}": b for n, b in enumerate(item.bullet_points[:BULLETS])})
        row["keywords"] = ", ".join(item.keywords)
        row.update({f"image{index}": name for index, name in images.items()})
        writer.writerow(row)
    files[CSV_FILE] = out.getvalue().encode("utf-8")
    files[JSON_FILE] = json.dumps(records, indent=2, ensure_ascii=False).encode("utf-8")
    return files, [f"{CSV_FILE} and {JSON_FILE}: every field; images/<SKU>/ holds the images."]
