"""The three services as real worker processes, end to end, through the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from PIL import Image

from tests.integration.conftest import SAMPLES, Pipeline, terminal


def _border_is_white(path: Path) -> bool:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        band = [
            rgb.getpixel((x, y)) for x in range(0, width, 7) for y in (0, 1, height - 2, height - 1)
        ]
        band += [
            rgb.getpixel((x, y)) for y in range(0, height, 7) for x in (0, 1, width - 2, width - 1)
        ]
    return all(pixel == (255, 255, 255) for pixel in band)


def test_several_workflows_complete_through_three_worker_services(pipeline: Pipeline) -> None:
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    photos = sorted(SAMPLES.glob("*.jpg"))[:3]
    result = pipeline.cli(
        "submit",
        *map(str, photos),
        "--brand",
        "Northwind",
        "--wait",
        "--timeout",
        "240",
        "--json",
        timeout=300,
    )
    decoder, text, items = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        item, end = decoder.raw_decode(text)
        items.append(item)
        text = text[end:].strip()
    assert len(items) == len(photos)
    for data in items:
        assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
        assert data["progress"] == 100
        listing = data["listing"]
        assert listing["title"] and len(listing["bullet_points"]) == 5
        assert len(listing["image_prompts"]) == 5
        assert data["product"]["product_type"]
        assert data["usage"]["calls"] >= 2 and data["usage"]["total_cost_usd"] > 0
        images = data["images"]["items"]
        main = next(item for item in images if item["kind"] == "main")
        assert main["width"] >= 2000 and main["height"] >= 2000
        # Clients get the API route, never this server's file path; the file is under the key.
        assert main["url"] == f"/api/workflows/{data['id']}/images/1"
        path = pipeline.storage_dir / main["key"]
        assert path.is_file()
        assert _border_is_white(path)
        # The fake recogniser's box is the middle 60% of any photo: where the cut-out finds
        # the product elsewhere, the disagreement is reported for review, and that is the
        # only thing the main image may fail on.
        own = [
            reason
            for reason in main["compliance"]["reasons"]
            if not reason.startswith("the cut-out may have missed part of the product")
        ]
        assert not own, own
        assert main["compliance"]["passed"] or data["images"]["needs_review"]
        assert set(main["compliance"]["reasons"]) <= set(data["images"]["review_reasons"])
        box = data["images"]["cutout_box"]
        assert len(box) == 4 and box[0] < box[2] and box[1] < box[3]
        assert 0.0 <= data["images"]["cutout_confidence"] <= 1.0
        assert data["images"]["needs_review"] == bool(data["images"]["review_reasons"])


def test_a_photo_with_no_separable_product_completes_with_its_listing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """The listing was written (and paid for): the images failing does not fail the workflow."""
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    blank = tmp_path / "blank-wall.jpg"
    Image.new("RGB", (1200, 900), (128, 128, 128)).save(blank, quality=90)
    result = pipeline.cli("submit", str(blank), "--wait", "--timeout", "240", "--json", timeout=300)
    data = json.loads(result.stdout)
    assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
    assert data["listing"]["title"]
    images = data["images"]
    assert images["status"] == "FAILED" and images["needs_review"]
    assert images["cutout_box"] is None
    assert images["review_reasons"][0].startswith("no product could be separated")
    assert len(images["items"]) == 5
    assert all(item["url"] is None and item["error"] for item in images["items"])


def test_non_image_upload_fails_clearly_and_worker_keeps_serving(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    worker = pipeline.start_worker("recognition")
    pipeline.start_worker("listing")
    pipeline.start_worker("imagegen")
    bogus = tmp_path / "invoice.jpg"
    bogus.write_text("this is a text file, not a photo")
    bad_id = pipeline.cli("submit", str(bogus)).stdout.strip()
    bad = pipeline.wait_for(bad_id, terminal)
    assert bad["status"] == "FAILED"
    assert bad["failed_step"] == "IMAGE_DOWNLOAD"
    assert "invoice.jpg" in bad["error"] and "not an image" in bad["error"]
    # Bad input is not retried: one attempt, one failure event.
    assert [e["kind"] for e in bad["events"]].count("started") == 1

    good_id = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    good = pipeline.wait_for(good_id, terminal, timeout=180)
    assert good["status"] == "COMPLETED", good["error"]
    assert worker.poll() is None  # the same worker process served both


def test_secrets_never_reach_logs_or_the_database(pipeline: Pipeline, pg_url: str) -> None:
    # Where the API key could leak: worker logs, stored rows, the status JSON.
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    photo = str(sorted(SAMPLES.glob("*.jpg"))[0])
    workflow_id = pipeline.cli("submit", photo).stdout.strip()
    assert pipeline.wait_for(workflow_id, terminal)["status"] == "COMPLETED"
    pipeline.stop_all()
    secret = pipeline.env["ANTHROPIC_API_KEY"]
    dump = subprocess.run(
        ["pg_dump", "--data-only", pg_url], capture_output=True, text=True, check=True
    ).stdout
    assert workflow_id in dump  # the dump really holds the workflow's rows
    assert secret not in dump
    assert secret not in pipeline.log_tail(limit=None)
    assert secret not in pipeline.status_via_cli(workflow_id).__repr__()
