"""Batches from the CLI through real workers: submit --csv / a folder, list, status, export."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.integration.conftest import SAMPLES, Pipeline, terminal

MUG, BOTTLE = SAMPLES / "ceramic-coffee-mug.jpg", SAMPLES / "stainless-water-bottle.jpg"
HEADER = "photo,sku,brand,category,marketplace,market,language,features,specs\n"


@pytest.mark.slow
def test_csv_batch_list_status_and_export(pipeline: Pipeline, tmp_path: Path) -> None:
    shutil.copy(MUG, tmp_path / "mug.jpg")
    shutil.copy(BOTTLE, tmp_path / "bottle.jpg")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "mug.jpg,MUG-1,Northwind,,,,,,\nnope.jpg,X,,,,,,,\n")
    refused = pipeline.cli("submit", "--csv", str(bad), check=False)
    assert refused.returncode == 1
    assert "line 3: photo: nope.jpg is not a file" in refused.stderr
    assert "0 of 0 workflow(s)" in pipeline.cli("list").stdout  # nothing was queued

    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    good = tmp_path / "batch.csv"
    good.write_text(
        HEADER + "mug.jpg,NW-MUG-01,Northwind,Home & Kitchen > Mugs,amazon,US,en,dishwasher safe,"
        "Capacity=350 ml\n" + "bottle.jpg,NW-BTL-02,Northwind,,amazon,US,en,,\n"
    )
    result = pipeline.cli("submit", "--csv", str(good), "--wait", "--timeout", "240", timeout=300)
    ids = result.stdout.split()
    assert len(ids) == 2
    assert "batch: 2 COMPLETED" in result.stderr, result.stderr + pipeline.log_tail()

    listed = pipeline.cli("list", "--status", "COMPLETED").stdout
    assert all(i in listed for i in ids) and "2 of 2 workflow(s)" in listed
    assert "0 of 0" in pipeline.cli("list", "--status", "FAILED").stdout

    text = pipeline.cli("status", ids[0]).stdout
    for part in ("bullet points:", "  5. ", "description:", "search terms (", "quality score:"):
        assert part in text, text
    assert "sku: NW-MUG-01" in text and "1. main" in text and "passes" in text
    assert "file://" not in text

    pack_path = tmp_path / "out" / "pack.zip"
    not_approved = pipeline.cli(
        "export", *ids, "--format", "amazon", "--out", str(pack_path), check=False
    )
    assert not_approved.returncode == 1 and "not approved" in not_approved.stderr
    assert not pack_path.exists()
    pipeline.cli(
        "export", *ids, "--format", "amazon", "--out", str(pack_path), "--include-unapproved"
    )
    with zipfile.ZipFile(pack_path) as pack:
        names = set(pack.namelist())
        rows = list(
            csv.DictReader(io.StringIO(pack.read("amazon-listings.txt").decode()), delimiter="\t")
        )
    for sku in ("NW-MUG-01", "NW-BTL-02"):
        assert f"images/{sku}.MAIN.jpg" in names
        assert {f"images/{sku}.PT0{n}.jpg" for n in range(1, 5)} <= names
    assert [r["item_sku"] for r in rows] == ["NW-MUG-01", "NW-BTL-02"]
    assert all(r["brand_name"] == "Northwind" and r["bullet_point5"] for r in rows)

    shop = tmp_path / "shop.zip"
    pipeline.cli(
        "export", ids[1], "--format", "shopify", "--out", str(shop), "--include-unapproved"
    )
    with zipfile.ZipFile(shop) as pack:
        assert "shopify-products.csv" in pack.namelist()


@pytest.mark.slow
def test_a_folder_submits_every_photo_and_status_fails_for_failed(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    folder = tmp_path / "shoot"
    folder.mkdir()
    shutil.copy(MUG, folder / "mug.jpg")
    (folder / "broken.jpg").write_text("not a photo")
    (folder / "notes.txt").write_text("ignored")
    pipeline.start_worker("recognition")
    result = pipeline.cli("submit", str(folder))
    ids = result.stdout.split()
    assert len(ids) == 2 and "batch: 2 workflow(s) queued" in result.stderr
    by_name = {pipeline.status(i)["source_name"]: i for i in ids}
    failed = pipeline.wait_for(by_name["broken.jpg"], terminal)
    assert failed["status"] == "FAILED"
    status = pipeline.cli("status", by_name["broken.jpg"], check=False)
    assert status.returncode == 1 and "not an image" in status.stdout
    assert pipeline.cli("status", by_name["mug.jpg"], check=False).returncode == 0
