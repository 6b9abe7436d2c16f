"""Batch input for `shelfready submit`: folders and CSV files, checked before anything queues."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfready_core.batch import BatchErrors, expand_sources, read_batch_csv
from shelfready_core.errors import InvalidInput

HEADER = "photo,sku,brand,category,marketplace,market,language,features,specs\n"


def _photos(folder: Path, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")


def test_a_folder_expands_to_its_photos_only(tmp_path: Path) -> None:
    _photos(tmp_path / "shoot", "b.JPG", "a.png", ".hidden.jpg", "notes.txt")
    expanded = expand_sources([str(tmp_path / "shoot"), "https://example.com/c.jpg"])
    assert [Path(p).name for p in expanded] == ["a.png", "b.JPG", "c.jpg"]
    _photos(tmp_path / "empty", "readme.md")
    with pytest.raises(InvalidInput, match="holds no photos"):
        expand_sources([str(tmp_path / "empty")])


def test_csv_rows_become_requests_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    _photos(tmp_path, "mug.jpg")
    (tmp_path / "batch.csv").write_text(
        HEADER + "mug.jpg,MUG-1,Northwind,Kitchen > Mugs,Amazon,uk,en,dishwasher safe; 350 ml,"
        "Capacity=350 ml; Colour=white\n"
        "\n"  # blank lines are skipped
        "https://example.com/lamp.jpg,LAMP-2,,,etsy,US,de,,\n",
        encoding="utf-8",
    )
    mug, lamp = read_batch_csv(tmp_path / "batch.csv")
    assert mug.source == str(tmp_path / "mug.jpg") and mug.line == 2
    assert mug.request.sku == "MUG-1" and mug.request.market == "UK"
    assert mug.request.marketplace == "amazon"
    assert mug.request.features == ["dishwasher safe", "350 ml"]
    assert mug.request.specifications == {"Capacity": "350 ml", "Colour": "white"}
    assert lamp.source == "https://example.com/lamp.jpg" and lamp.request.language == "de"
    assert lamp.request.brand is None


def test_every_bad_row_is_reported_with_its_line_number(tmp_path: Path) -> None:
    _photos(tmp_path, "ok.jpg")
    (tmp_path / "batch.csv").write_text(
        HEADER
        + "ok.jpg,GOOD-1,,,,,,,\n"
        + "missing.jpg,GOOD-2,,,,,,,\n"
        + ",GOOD-3,,,,,,,\n"
        + "ok.jpg,bad sku.with.dots,,,,,,,\n"
        + "ok.jpg,GOOD-1,,,,,,,Capacity\n",
        encoding="utf-8",
    )
    with pytest.raises(BatchErrors) as caught:
        read_batch_csv(tmp_path / "batch.csv")
    errors = caught.value.errors
    assert any(e.startswith("line 3: photo: missing.jpg is not a file") for e in errors)
    assert any(e.startswith("line 4: photo:") for e in errors)
    assert any(e.startswith("line 5: sku:") for e in errors)
    assert any(e.startswith("line 6: specs:") for e in errors)
    assert len(errors) == 4
    assert "nothing was queued" in str(caught.value)


def test_duplicate_skus_and_bad_headers_are_refused(tmp_path: Path) -> None:
    _photos(tmp_path, "a.jpg")
    (tmp_path / "dupes.csv").write_text(HEADER + "a.jpg,SAME,,,,,,,\na.jpg,SAME,,,,,,,\n")
    with pytest.raises(BatchErrors, match="lines 2, 3: sku: SAME is used more than once"):
        read_batch_csv(tmp_path / "dupes.csv")
    (tmp_path / "header.csv").write_text("image,sku\na.jpg,X\n")
    with pytest.raises(BatchErrors, match="line 1: header"):
        read_batch_csv(tmp_path / "header.csv")
