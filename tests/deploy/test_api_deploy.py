"""The HTTP API's image and Railway service: lint-clean, valid, and deployed on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pathspec

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "infra" / "railway" / "api.json").read_text())


def test_api_dockerfile_lints_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", "services/api/Dockerfile"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_api_railway_config_is_valid_and_points_at_its_dockerfile() -> None:
    schema = json.loads((ROOT / "infra" / "railway" / "schema.json").read_text())
    jsonschema.validate(CONFIG, schema, cls=jsonschema.Draft202012Validator)
    assert (ROOT / CONFIG["build"]["dockerfilePath"]).is_file()
    assert CONFIG["deploy"]["startCommand"] == "shelfready-api"
    assert CONFIG["deploy"]["healthcheckPath"] == "/healthz"


def test_api_redeploys_for_its_own_code_and_core_only() -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(CONFIG["build"]["watchPatterns"])
    assert spec.match_file("services/api/src/shelfready_api/app.py")
    assert spec.match_file("libs/core/src/shelfready_core/producer.py")
    assert spec.match_file("uv.lock")
    assert spec.match_file("services/listing/src/shelfready_listing/rules.py")
    assert not spec.match_file("services/imagegen/src/shelfready_imagegen/cutout.py")


def test_api_image_installs_no_heavy_worker_service() -> None:
    # The listing package comes along for its rules and score (PATCH re-checks edits with
    # them); recognition and imagegen (OpenCV, image models) stay out.
    dockerfile = (ROOT / "services" / "api" / "Dockerfile").read_text()
    assert "--package shelfready-api" in dockerfile
    assert "COPY services/listing services/listing" in dockerfile
    for service in ("recognition", "imagegen"):
        assert f"services/{service}" not in dockerfile
