"""The ZIP: one layout per format, each with `manifest.json` saying what it holds."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from shelfready_core.errors import InvalidInput
from shelfready_core.export import amazon, plain, shopify
from shelfready_core.export.gather import ExportItem

# Bump when a layout changes (file names, columns), so importers can tell packs apart.
PACK_VERSION = 1

Files = dict[str, bytes]
Builder = Callable[[Sequence[ExportItem]], tuple[Files, list[str]]]

FORMATS: dict[str, Builder] = {
    "amazon": amazon.build,
    "shopify": shopify.build,
    "csv": plain.build,
}


def build_pack(items: Sequence[ExportItem], format: str) -> bytes:
    """The pack's ZIP bytes for `items` in `format` (amazon | shopify | csv)."""
    builder = FORMATS.get(format)
    if builder is None:
        raise InvalidInput(f"unknown export format {format!r}; choose {', '.join(FORMATS)}")
    if not items:
        raise InvalidInput("nothing to export: no workflows were given")
    duplicates = sorted(sku for sku, n in Counter(i.sku for i in items).items() if n > 1)
    if duplicates:
        # Files are named by SKU: two products with one SKU would overwrite each other.
        raise InvalidInput(f"SKU used by more than one workflow: {', '.join(duplicates)}")
    files, notes = builder(items)
    manifest = {
        "pack_version": PACK_VERSION,
        "format": format,
        "created_at": datetime.now(UTC).isoformat(),
        "items": [
            {"workflow_id": i.workflow_id, "sku": i.sku, "approved": i.approved} for i in items
        ],
        "files": sorted(files),
        "notes": notes,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            # JPEG/PNG are compressed already; deflating them again only costs time.
            kind = zipfile.ZIP_STORED if name.startswith("images/") else zipfile.ZIP_DEFLATED
            archive.writestr(name, files[name], compress_type=kind)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return buffer.getvalue()
