"""The transform DAG's wall time beside a plain `dbt build` of the same models, in one run (target:
at most 1.5x), and the parse time of the transform DAG file (target: under 0.5 s), on the bundled
Seoul period, in the benchmarks' own runtime.

The DAG runs under a real Airflow stack (API server, scheduler with its LocalExecutor, DAG processor, triggerer); its wall time
is the run's duration as Airflow records it, what the grid shows. The plain build is the `dbt build`
command, start-up included, timed while the same Airflow services are up. Each is the median of
five, interleaved: on a shared 2-core machine a single run of either varies by a second.

Run: .venv/bin/python bench/transform.py   (about 4 minutes)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from bench_runtime import ROOT, load  # sets the runtime before anything imports cother
from dag_parse import TARGET_S, parse_seconds

from cother.ingest.sources.sample import bundled_period
from cother.local import postgres
from cother.orchestration.airflow_runner import dag_runs, local_stack, migrate, wait_for
from cother.transform import dbt
from cother_core import warehouse
from cother_core.database import airflow_url, connect
from cother_core.settings import get_settings

RUNS = 5
LAST_RUN = """
select run_id, extract(epoch from end_date - start_date) from dag_run
where dag_id = 'cother_transform' order by id desc limit 1
"""
TASKS = """
select task_id, count(*), extract(epoch from max(end_date) - min(start_date)), string_agg(distinct state, ',')
from task_instance where dag_id = 'cother_transform' and run_id = %s group by task_id order by min(start_date)
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def dag_run(env: dict[str, str]) -> tuple[float, list]:
    """Trigger one cother_transform run and wait for it: its duration and each task's span."""
    before = len(dag_runs("cother_transform"))
    subprocess.run(
        ["airflow", "dags", "trigger", "cother_transform"],
        env=env,
        check=True,
        capture_output=True,
    )
    runs = wait_for(
        lambda: (runs := dag_runs("cother_transform"))[before:] and runs[-1][1] in ("success", "failed") and runs,
        300,
        "the cother_transform run",
        every_s=0.5,
    )
    assert runs[-1][1] == "success", f"cother_transform failed: see {get_settings().airflow_home / 'logs'}"
    with connect(airflow_url()) as conn, conn.cursor() as cur:
        cur.execute(LAST_RUN)
        run_id, seconds = cur.fetchone()
        cur.execute(TASKS, (run_id,))
        return float(seconds), cur.fetchall()


def main() -> None:
    postgres.start()
    try:
        settings = get_settings()
        migrate(settings.runtime_dir / "logs" / "bench-transform.log")
        warehouse.sync_regions()
        start, end = bundled_period()
        for source in ("sample_weather", "sample_cases"):
            load(source, ["seoul"], start, end)
        dbt = [str(ROOT / ".venv" / "bin" / "dbt"), "build", "--project-dir", str(dbt.DBT_PROJECT_DIR)]
        dbt += ["--profiles-dir", str(dbt.DBT_PROJECT_DIR), "--target-path", str(settings.dbt_target_dir)]
        dbt_env = {**os.environ, **dbt.dbt_environment()}
        timed(dbt, dbt_env)  # warm: the first build creates every relation
        with local_stack(settings.runtime_dir / "logs" / "bench-transform-airflow.log") as env:
            subprocess.run(["airflow", "dags", "unpause", "cother_transform"], env=env, check=True, capture_output=True)
            plain, dags, tasks = [], [], []
            for _ in range(RUNS):
                plain.append(timed(dbt, dbt_env))
                seconds, spans = dag_run(env)
                dags.append(seconds)
                tasks.append(spans)
        plain_s, dag_s = statistics.median(plain), statistics.median(dags)
        print(f"plain dbt build           {plain_s:6.2f} s  (runs: {', '.join(f'{s:.2f}' for s in plain)})")
        print(f"cother_transform DAG run  {dag_s:6.2f} s  (runs: {', '.join(f'{s:.2f}' for s in dags)})")
        print("  its tasks in the median run (first start to last end):")
        for task_id, count, seconds, states in tasks[dags.index(dag_s)]:
            print(f"  {task_id:<24}{float(seconds):6.2f} s  {count} task instance(s), {states}")
        print(f"DAG run / plain dbt build: {dag_s / plain_s:.2f}x (target: at most 1.5x)")
        parse = statistics.median(parse_seconds(ROOT / "dags" / "cother_transform.py"))
        print(f"cother_transform.py parse: {parse:.3f} s, median of 5 (target: under {TARGET_S} s)")
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
