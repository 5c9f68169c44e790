"""Running dbt (programmatically, in this process) against the warehouse."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cother.database import parsed, warehouse_url
from cother.settings import PROJECT_ROOT, get_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


class TransformError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str
    status: str
    message: str


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


def run_dbt(*args: str) -> tuple[list[NodeResult], str]:
    """Run one dbt command; returns each node's result and the invocation id, raises if anything failed."""
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
        NodeResult(r.node.name, r.node.resource_type, str(r.status), r.message or "")
        for r in (getattr(outcome.result, "results", None) or [])
    ]
    invocation_id = json.loads((settings.dbt_target_dir / "run_results.json").read_text())["metadata"]["invocation_id"]
    if not outcome.success:
        failed = [
            f"{r.resource_type} {r.name}: {r.status} {r.message}"
            for r in results
            if r.status not in {"success", "pass"}
        ]
        detail = "\n".join(failed) or str(outcome.exception)
        raise TransformError(f"dbt {' '.join(args)} failed:\n{detail}")
    return results, invocation_id


def build() -> dict:
    """`dbt build` of every model and test; returns the invocation id and the count of results by status."""
    from cother.loading import sync_regions

    sync_regions()  # every raw table exists, loaded or not, and raw.regions is config/regions.yml
    results, invocation_id = run_dbt("build")
    counts: dict[str, int] = {}
    for result in results:
        key = f"{result.resource_type} {result.status}"
        counts[key] = counts.get(key, 0) + 1
    return {"invocation_id": invocation_id, "results": counts}


def generate_docs() -> str:
    """`dbt docs generate` into the target folder that `make docs` serves; returns the catalog's path."""
    run_dbt("docs", "generate")
    return str(get_settings().dbt_target_dir / "catalog.json")
