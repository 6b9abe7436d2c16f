"""`shelfready demo` as a new user runs it: no Redis, no PostgreSQL, no API key.

The whole pipeline on the bundled samples, through the real job code, with the seller details
of samples/listing-details.csv: every sample completes with five images, the listings state the
seller's facts, the dimensions images have their sizes, and the console shows the summary
rather than every job's log lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shelfready_core.batch import read_batch_csv

ROOT = Path(__file__).resolve().parents[2]
SHELFREADY = str(Path(sys.executable).with_name("shelfready"))
UNSET = ("REDIS_URL", "DATABASE_URL", "ANTHROPIC_API_KEY", "SHELFREADY_LOG_LEVEL", "SHELFREADY_AI")


@pytest.mark.slow
def test_demo_delivers_every_sample_with_the_sellers_facts(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("SHELFREADY_")
    }
    env["SHELFREADY_STORAGE_DIR"] = str(tmp_path / "storage")
    env["SHELFREADY_SQLITE_PATH"] = str(tmp_path / "demo.db")  # not the checkout's data/
    env["COLUMNS"] = "80"  # the narrowest terminal a new user is likely to have
    out = tmp_path / "out"
    run = subprocess.run(
        [SHELFREADY, "demo", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " INFO " not in run.stderr  # job logs stay out of the way unless asked for
    assert "Listings and images written" in run.stdout
    # The summary fits the terminal and shows the titles (every sample's row: below).
    table = [line for line in run.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= 80, run.stdout
    assert any("Northwind Brass" in line for line in table), run.stdout  # not a sliver

    details = read_batch_csv(ROOT / "samples" / "listing-details.csv")
    assert len(details) == 6
    for item in details:
        folder = out / Path(item.source).stem
        data = json.loads((folder / "listing.json").read_text())
        assert data["status"] == "COMPLETED", data.get("error")
        assert sorted(p.name for p in (folder / "images").iterdir()) == [
            "1-main.jpg",
            "2-scene.jpg",
            "3-detail.jpg",
            "4-dimensions.jpg",
            "5-selling_points.jpg",
        ]
        copy = json.dumps(data["listing"])
        # The seller's features reach the copy, and their sizes reach the dimensions image.
        assert any(feature.split()[0] in copy for feature in item.request.features), copy
        reasons = " ".join(data["images"]["review_reasons"])
        assert "without sizes" not in reasons
        assert data["request"]["sku"] == item.request.sku
        assert folder.name[:20] in run.stdout  # its row in the summary
