"""Export packs: a workflow's listing and images in a form a marketplace imports.

`build_pack(items, format)` returns the ZIP's bytes. Every pack carries `manifest.json` with
`PACK_VERSION`, so a consumer can tell which layout it holds; bump it when a layout changes.
"""

from shelfready_core.export.gather import (
    ExportImage,
    ExportItem,
    NotApproved,
    gather_items,
)
from shelfready_core.export.pack import FORMATS, PACK_VERSION, build_pack

__all__ = [
    "FORMATS",
    "PACK_VERSION",
    "ExportImage",
    "ExportItem",
    "NotApproved",
    "build_pack",
    "gather_items",
]
