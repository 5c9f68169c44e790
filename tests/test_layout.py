"""The layout's rules: the design card's top level; the foundation (core/, cother_core) and the model
library (ml/, cother_ml) import nothing of the platform (cother) nor Airflow; inside the platform, the
stages below the DAGs (ingest, quality, transform) import none of what runs them; no two modules import
each other, even inside a function."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "cother": ROOT / "cother",
    "cother_core": ROOT / "core" / "cother_core",
    "cother_ml": ROOT / "ml" / "cother_ml",
}


def module_files() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def loaded_by(packages: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after importing every module of these packages."""
    chosen = sorted(of(set(module_files()), *packages))
    probe = f"import sys; import {', '.join(chosen)}; print(' '.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(run.stdout.split())


def of(loaded: set[str], *prefixes: str) -> set[str]:
    return {name for name in loaded if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)}


def test_the_top_level_is_the_design_cards_and_the_model_library_is_a_package_of_its_own():
    for folder in ("dags", "dbt_project", "ml", "expectations", "docker", "tests"):
        assert (ROOT / folder).is_dir(), folder
    assert (ROOT / "docker-compose.yml").is_file() and (ROOT / "README.md").is_file()
    assert not (ROOT / "cother" / "ml").exists()
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert root["tool"]["uv"]["workspace"]["members"] == ["core", "ml"]
    for member, package in (("ml", "cother-ml"), ("core", "cother-core")):
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
        assert project["name"] == package
        assert not [need for need in project["dependencies"] if "airflow" in need or need.startswith("cother ")]


def test_the_foundation_and_the_model_library_import_nothing_of_the_platform_nor_airflow():
    loaded = loaded_by(["cother_core", "cother_ml"])
    assert of(loaded, "cother", "airflow", "dbt", "celery") == set()
    assert of(loaded, "cother_ml") and of(loaded, "cother_core")  # the probe imported what it names


@pytest.mark.parametrize(
    ("stage", "not_below"),
    [
        ("cother.ingest", ["cother.orchestration", "cother.forecast_page", "cother.local", "cother.cli", "airflow"]),
        ("cother.quality", ["cother.ingest", "cother.orchestration", "cother.transform", "cother.cli", "airflow"]),
        (
            "cother.transform",
            ["cother.ingest", "cother.orchestration", "cother.forecast_page", "cother.cli", "airflow"],
        ),
        ("cother.forecast_page", ["cother.ingest", "cother.orchestration", "cother.local", "cother.cli"]),
    ],
)
def test_a_stage_imports_none_of_what_runs_it(stage, not_below):
    loaded = loaded_by([stage])
    assert of(loaded, stage)
    assert of(loaded, *not_below) == set()


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules a file imports, at its top or inside a function; not those imported for type
    checking only."""
    checking_only = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            checking_only.update(id(child) for child in ast.walk(node))
    imported = set()
    for node in ast.walk(tree):
        if id(node) in checking_only:
            continue
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return imported & set(modules)


def test_no_two_modules_import_each_other():
    modules = module_files()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    cycles = set()

    def visit(name: str, path: list[str]) -> None:
        for imported in graph[name]:
            if imported in path:
                cycles.add(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(name)

    done: set[str] = set()
    for name in graph:
        if name not in done:
            visit(name, [name])
    assert cycles == set()
