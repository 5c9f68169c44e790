"""Running dbt (programmatically, in this process) against the warehouse."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cother_core.database import parsed, warehouse_url
from cother_core.settings import PROJECT_ROOT, get_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class TransformError(RuntimeError):
    pass


FAILED = {"error", "fail", "runtime error"}  # the statuses of a model or test that did not pass


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str
    depends_on: tuple[str, ...]
    execution_time: float


@dataclass(frozen=True)
class DbtRun:
    command: str
    results: list[NodeResult]
    invocation_id: str
    success: bool
    exception: str

    def failures(self) -> list[str]:
        return [f"{r.resource_type} {r.name}: {r.status} {r.message}" for r in self.results if r.status in FAILED]

    def raise_for_failure(self) -> None:
        if not self.success:
            detail = "\n".join(self.failures()) or self.exception
            raise TransformError(f"dbt {self.command} failed:\n{detail}")


def dbt_environment() -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads, from the warehouse URL."""
    url = parsed(warehouse_url())
    return {
        "COTHER_DBT_HOST": url.host or "127.0.0.1",
        "COTHER_DBT_PORT": str(url.port or 5432),
        "COTHER_DBT_USER": url.username or "postgres",
        "DBT_ENV_SECRET_COTHER_PASSWORD": url.password or "",
        "COTHER_DBT_DBNAME": url.database,
    }


def run_dbt(*args: str) -> DbtRun:
    """Run one dbt command in this process; each node's result, the invocation id and whether it succeeded."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment())
    settings = get_settings()
    argv = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.runtime_dir / "dbt" / "logs"),
    ]
    outcome = dbtRunner().invoke(argv)
    results = [
        NodeResult(
            r.node.unique_id,
            r.node.name,
            str(r.node.resource_type),
            str(r.status),
            r.message or "",
            tuple(getattr(r.node.depends_on, "nodes", ())),  # a seed depends on macros only
            round(r.execution_time, 3),
        )
        for r in (getattr(outcome.result, "results", None) or [])
    ]
    invocation_id = json.loads((settings.dbt_target_dir / "run_results.json").read_text())["metadata"]["invocation_id"]
    return DbtRun(" ".join(args), results, invocation_id, outcome.success, str(outcome.exception or ""))


def node_statuses(run: DbtRun) -> list[dict]:
    """One entry per model of the run, and per source with tests: its status and the results of its tests."""
    models = {r.unique_id: r for r in run.results if r.resource_type == "model"}
    tests = [r for r in run.results if r.resource_type in ("test", "unit_test")]
    sources = sorted({node for test in tests for node in test.depends_on if node.startswith("source.")})
    statuses = []
    for unique_id in [*models, *sources]:
        model = models.get(unique_id)
        on_it = [t for t in tests if unique_id in t.depends_on]
        counts: dict[str, int] = {}
        for test in on_it:
            counts[test.status] = counts.get(test.status, 0) + 1
        statuses.append(
            {
                "node": model.name if model else unique_id.split(".", 2)[2],
                "kind": "model" if model else "source",
                "status": model.status if model else "declared",
                "message": f"{model.message} in {model.execution_time} s" if model else "",
                "tests": counts,
                "failures": [
                    f"{t.resource_type} {t.name}: {t.status} {t.message}" for t in on_it if t.status in FAILED
                ],
            }
        )
    return statuses


def failed(status: dict) -> bool:
    """Whether a node of node_statuses() failed: the model itself, or one of its tests."""
    return status["status"] in FAILED or bool(status["failures"])


def check_node(status: dict) -> str:
    """The line the node's task shows; raises TransformError if the model or one of its tests failed."""
    tests = ", ".join(f"{count} {state}" for state, count in sorted(status["tests"].items())) or "none"
    line = f"{status['kind']} {status['node']}: {status['status']} {status['message']}; tests: {tests}"
    if failed(status):
        raise TransformError("\n".join([line, *status["failures"]]))
    return line


def build() -> dict:
    """`dbt build` of every model and test, then, if it passed, `dbt docs generate`: the invocation id,
    whether the build succeeded and each node's status.

    A failing model or test does not raise here, so that each model's status reaches Airflow; a
    failure that no model or source accounts for (a compile or connection error) does, and so does a
    failing docs generation. The docs are generated in the same process, from the build's manifest:
    a second dbt process would cost more than the catalog itself.
    """
    from cother_core.warehouse import sync_regions

    sync_regions()  # every raw table exists, loaded or not; raw.regions holds config/regions/ (and sets removed since, until retired)
    run = run_dbt("build")
    statuses = node_statuses(run)
    if not any(failed(status) for status in statuses):
        run.raise_for_failure()
    if run.success:
        generate_docs(after_build=True)
    return {"invocation_id": run.invocation_id, "success": run.success, "nodes": statuses}


def generate_docs(after_build: bool = False) -> str:
    """`dbt docs generate` into the target folder that `make docs` serves; returns the catalog's path.

    Right after a build the manifest in the target folder is current, so compiling again is skipped.
    """
    run_dbt("docs", "generate", *(["--no-compile"] if after_build else [])).raise_for_failure()
    return str(get_settings().dbt_target_dir / "catalog.json")
