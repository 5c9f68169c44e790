"""The transform DAG's wall time beside a plain `dbt build` of the same models, in one run (target:
at most 1.5x), on the bundled Seoul period, in the benchmarks' own runtime.

Run: .venv/bin/python bench/transform.py
"""

from __future__ import annotations

import json
import subprocess
import time

from bench_runtime import ROOT  # sets the runtime before anything imports cother

from cother import ingest, loading, postgres, transform
from cother.airflow_env import airflow_environment
from cother.airflow_runner import migrate
from cother.settings import get_settings
from cother.sources.sample import bundled_period


def wall(command: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    postgres.start()
    try:
        log = get_settings().runtime_dir / "logs" / "bench-transform.log"
        migrate(log)
        loading.sync_regions()
        start, end = bundled_period()
        for source in ("sample_weather", "sample_cases"):
            ingest.publish(ingest.validate(ingest.land(source, "seoul", start, end)))
        env = {**airflow_environment(), **transform.dbt_environment()}
        dbt = [str(ROOT / ".venv" / "bin" / "dbt"), "build", "--project-dir", str(transform.DBT_PROJECT_DIR)]
        dbt += ["--profiles-dir", str(transform.DBT_PROJECT_DIR), "--target-path", str(get_settings().dbt_target_dir)]
        wall(dbt, env)  # warm: the first build creates every relation
        plain = wall(dbt, env)
        conf = json.dumps({"regions": ["seoul"]})
        dag = wall([str(ROOT / ".venv" / "bin" / "airflow"), "dags", "test", "cother_transform", "-c", conf], env)
        print(
            f"plain dbt build {plain:.1f} s, cother_transform DAG run {dag:.1f} s: {dag / plain:.2f}x (target: at most 1.5x)"
        )
        print("  (the DAG also validates the training slice with GX and regenerates the dbt docs)")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
