"""Batches for `shelfready submit`: every photo in a folder, or one row per photo in a CSV.

A CSV is checked whole before anything is queued: every bad row is reported with its line
number, and one bad row queues nothing, so a seller fixes the file and submits it again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from shelfready_core.errors import InvalidInput
from shelfready_core.photo_formats import ACCEPTED_FORMATS
from shelfready_core.schemas import ListingRequest

CSV_COLUMNS = (
    "photo",
    "sku",
    "brand",
    "category",
    "marketplace",
    "market",
    "language",
    "features",
    "specs",
)
PHOTO_SUFFIXES = {f".{ext}" for _, ext in ACCEPTED_FORMATS.values()} | {".jpeg", ".tif"}
LIST_SEPARATOR = ";"  # features "a; b"; specs "Capacity=350 ml; Colour=white"


@dataclass(frozen=True)
class BatchItem:
    source: str  # a local path or an http(s) URL
    request: ListingRequest
    line: int | None = None  # the CSV line it came from


class BatchErrors(InvalidInput):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was queued:\n" + "\n".join(errors))
        self.errors = errors


def photos_in(folder: Path) -> list[Path]:
    """The photos directly in `folder`, by name (hidden files and other files skipped)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in PHOTO_SUFFIXES
    )


def expand_sources(sources: list[str]) -> list[str]:
    """Paths, URLs and folders -> one source per photo (a folder gives every photo in it)."""
    expanded: list[str] = []
    for source in sources:
        path = Path(source)
        if not source.startswith(("http://", "https://")) and path.is_dir():
            photos = photos_in(path)
            if not photos:
                raise InvalidInput(f"{path} holds no photos ({', '.join(sorted(PHOTO_SUFFIXES))})")
            expanded.extend(str(p) for p in photos)
        else:
            expanded.append(source)
    return expanded


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def _row_item(row: dict[str, str], base: Path, line: int) -> tuple[BatchItem | None, list[str]]:
    errors: list[str] = []
    photo = (row.get("photo") or "").strip()
    if not photo:
        errors.append(f"line {line}: photo: a photo path or URL is required")
    elif not photo.startswith(("http://", "https://")):
        path = (base / photo) if not Path(photo).is_absolute() else Path(photo)
        if not path.is_file():
            errors.append(f"line {line}: photo: {photo} is not a file")
        photo = str(path)
    specs: dict[str, str] = {}
    for item in _split(row.get("specs") or ""):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            errors.append(f"line {line}: specs: {item!r} must look like KEY=VALUE")
        else:
            specs[key.strip()] = value.strip()
    fields: dict[str, object] = {
        name: value.strip()
        for name in ("sku", "brand", "category", "marketplace", "market", "language")
        if (value := row.get(name) or "").strip()
    }
    if "market" in fields:
        fields["market"] = str(fields["market"]).upper()
    if "marketplace" in fields:
        fields["marketplace"] = str(fields["marketplace"]).lower()
    try:
        request = ListingRequest(
            **fields, features=_split(row.get("features") or ""), specifications=specs
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            errors.append(f"line {line}: {where}: {error['msg']}")
        return None, errors
    return (None if errors else BatchItem(photo, request, line)), errors


def read_batch_csv(path: Path) -> list[BatchItem]:
    """Every row of a batch CSV as a BatchItem; BatchErrors lists every bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from spreadsheet exports is fine
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in reader.fieldnames or []]
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    if "photo" not in header or unknown:
        raise BatchErrors(
            [
                f"line 1: header must name the columns {', '.join(CSV_COLUMNS)} "
                f"(photo is required; unknown: {', '.join(unknown) or 'none'})"
            ]
        )
    reader.fieldnames = header
    items: list[BatchItem] = []
    errors: list[str] = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line
        item, row_errors = _row_item(row, path.parent, reader.line_num)
        errors.extend(row_errors)
        if item:
            items.append(item)
    skus = [i.request.sku for i in items if i.request.sku]
    for sku in sorted({s for s in skus if skus.count(s) > 1}):
        lines = [str(i.line) for i in items if i.request.sku == sku]
        errors.append(f"lines {', '.join(lines)}: sku: {sku} is used more than once")
    if errors:
        raise BatchErrors(errors)
    if not items:
        raise BatchErrors([f"{path} has no rows"])
    return items
