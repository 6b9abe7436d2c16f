"""Railway config-as-code: valid fields, the right image and command, and deploys that only
follow changes to what a service is built from."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pathspec
import pytest

from shelfready_core.stages import pipeline

ROOT = Path(__file__).resolve().parents[2]
RAILWAY = ROOT / "infra" / "railway"
# One Railway service per installed stage, plus the pool that serves them all.
STAGES = list(pipeline().names)
CONFIGS = [*STAGES, "all"]


def load(name: str) -> dict[str, Any]:
    return json.loads((RAILWAY / f"{name}.json").read_text())


def services_of(name: str) -> list[str]:
    return STAGES if name == "all" else [name]


def redeploys(config: dict[str, Any], changed_path: str) -> bool:
    """Would a commit touching `changed_path` redeploy this service? (gitignore-style, from /)"""
    spec = pathspec.GitIgnoreSpec.from_lines(config["build"]["watchPatterns"])
    return spec.match_file(changed_path)


def test_every_worker_service_has_a_config() -> None:
    present = {p.stem for p in RAILWAY.glob("*.json")} - {"schema"}
    assert present == {*STAGES, "all", "api"}


@pytest.mark.parametrize("name", CONFIGS)
def test_config_uses_only_fields_railway_documents(name: str) -> None:
    schema = json.loads((RAILWAY / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(load(name), schema, cls=jsonschema.Draft202012Validator)


def test_schema_rejects_what_railway_rejects() -> None:
    """The schema must be able to fail: a misspelt key, a string drain time, an unknown policy."""
    schema = json.loads((RAILWAY / "schema.json").read_text())
    good = load("recognition")
    broken = [
        {**good, "deploy": {**good["deploy"], "drainingSecond": 90}},
        # Railway's parser: "deploy.drainingSeconds: Expected number, received string".
        {**good, "deploy": {**good["deploy"], "drainingSeconds": "90"}},
        {**good, "deploy": {**good["deploy"], "restartPolicyType": "ALWAYS_ON"}},
        {**good, "build": {**good["build"], "builder": "DOCKER"}},
    ]
    for config in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(config, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("name", CONFIGS)
def test_builds_its_own_dockerfile(name: str) -> None:
    build = load(name)["build"]
    assert build["builder"] == "DOCKERFILE"
    dockerfile = ROOT / build["dockerfilePath"].lstrip("/")
    assert dockerfile.is_file(), f"{name}: {build['dockerfilePath']} does not exist"
    assert redeploys(load(name), build["dockerfilePath"].lstrip("/")), "Dockerfile not watched"


@pytest.mark.parametrize("name", CONFIGS)
def test_starts_the_worker_for_its_service_and_migrates_first(name: str) -> None:
    deploy = load(name)["deploy"]
    assert shlex.split(deploy["startCommand"]) == ["shelfready", "worker", name]
    assert [shlex.split(c) for c in deploy["preDeployCommand"]] == [["shelfready", "migrate"]]
    assert deploy["restartPolicyType"] == "ALWAYS"
    assert deploy["numReplicas"] >= 1


@pytest.mark.parametrize("name", CONFIGS)
def test_drain_outlasts_the_longest_job(name: str) -> None:
    """Railway sends SIGKILL `drainingSeconds` after SIGTERM: a running job must finish first."""
    longest = max(pipeline().get(s).queue.timeout_seconds for s in services_of(name))
    assert isinstance(load(name)["deploy"]["drainingSeconds"], int | float)
    assert load(name)["deploy"]["drainingSeconds"] >= longest + 30


@pytest.mark.parametrize("name", CONFIGS)
def test_healthcheck_is_the_workers_endpoint(name: str) -> None:
    deploy = load(name)["deploy"]
    assert deploy["healthcheckPath"] == "/health"
    assert deploy["healthcheckTimeout"] >= 30


@pytest.mark.parametrize("name", CONFIGS)
def test_shared_code_and_the_lock_redeploy_every_service(name: str) -> None:
    config = load(name)
    for path in (
        "libs/core/src/shelfready_core/db.py",
        "libs/core/pyproject.toml",
        "uv.lock",
        "pyproject.toml",
        ".dockerignore",
        f"infra/railway/{name}.json",
    ):
        assert redeploys(config, path), f"{name} ignores a change to {path}"


@pytest.mark.parametrize("service", STAGES)
def test_a_service_change_redeploys_only_that_service_and_all(service: str) -> None:
    changed = f"services/{service}/src/shelfready_{service}/job.py"
    triggered = {name for name in CONFIGS if redeploys(load(name), changed)}
    assert triggered == {service, "all"}
    assert {n for n in CONFIGS if redeploys(load(n), f"services/{service}/Dockerfile")} == {service}


@pytest.mark.parametrize("name", CONFIGS)
def test_other_workspace_members_redeploy_no_worker(name: str) -> None:
    """Services that are not workers (e.g. an HTTP API) have their own deploys."""
    others = [p.name for p in (ROOT / "services").iterdir() if p.name not in STAGES]
    for other in others:
        for path in (f"services/{other}/src/app.py", f"services/{other}/pyproject.toml"):
            assert not redeploys(load(name), path), f"{name} redeploys on {path}"
    assert not redeploys(load(name), "services/newcomer/src/newcomer/app.py")


@pytest.mark.parametrize("name", CONFIGS)
def test_unrelated_changes_redeploy_nothing(name: str) -> None:
    config = load(name)
    for path in ("docs/deploy-railway.md", "tests/conftest.py", "README.md", "samples/a.jpg"):
        assert not redeploys(config, path), f"{name} redeploys on {path}"
    others = [n for n in CONFIGS if n != name]
    for other in others:
        assert not redeploys(config, f"infra/railway/{other}.json")
