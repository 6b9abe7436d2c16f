"""`shelfready-core` is a library: no commands, and it never imports what runs it or a stage.

The runner (CLI, worker pool, health endpoint), the demo and the services depend on core, never
the other way round, so a service image installs core, the runner and its own code only.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "libs" / "core"
SERVICES = [p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists()]
ABOVE_CORE = ("shelfready_runner", "shelfready_demo", *(f"shelfready_{name}" for name in SERVICES))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_declares_no_commands_and_no_entry_points() -> None:
    project = tomllib.loads((CORE / "pyproject.toml").read_text())["project"]
    assert "scripts" not in project
    assert "entry-points" not in project


def test_core_imports_nothing_that_depends_on_it() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (CORE / "src").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in ABOVE_CORE
    }
    assert not offenders


def test_the_shelfready_command_comes_from_the_runner() -> None:
    runner = tomllib.loads((ROOT / "libs" / "runner" / "pyproject.toml").read_text())["project"]
    assert runner["scripts"] == {"shelfready": "shelfready_runner.cli:main"}
    for service in ("recognition", "listing", "imagegen", "api"):
        declared = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
        assert "shelfready-runner" in declared["project"]["dependencies"], service
        assert "shelfready-demo" not in declared["project"]["dependencies"], service


def test_core_names_no_stage() -> None:
    """No string in core names an installed stage, nor does any text name a service package.

    A stage name that is also one of core's own tables ("listing": the Listing row and its JSON
    key) is a word of the domain, not the service, so it is left out of the string check.
    """
    from sqlmodel import SQLModel

    import shelfready_core.models  # noqa: F401 - registers the tables
    from shelfready_core.stages import installed

    tables = set(SQLModel.metadata.tables)
    names = {stage.name for stage in installed()} - tables
    assert names, "no installed stage to look for"
    packages = tuple(f"shelfready_{name}" for name in SERVICES)
    offenders = []
    for path in (CORE / "src").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        offenders += [f"{path.name}: {p}" for p in packages if p in text]
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and node.value in names:
                offenders.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not offenders
