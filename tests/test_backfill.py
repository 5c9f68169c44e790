"""A real backfill of the world set under a real scheduler: the local Airflow stack (cother.orchestration.airflow_runner.local_stack) on the test database,
`airflow backfill create` over five days for about 200 countries (Johns Hopkins cases, the bundled
Open-Meteo cities' weather), then exactly one transform run and one retrain run for the whole backfill."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psutil
import pytest
from conftest import TEST_RUNTIME, empty_warehouse, row_count

from cother.orchestration import airflow_runner
from cother.orchestration.airflow_runner import dag_runs, latest_run_id, wait_for
from cother_core.database import metadata_rows
from cother_core.regions import get_set

pytestmark = pytest.mark.system

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
# Runs at 09:00 Asia/Seoul from 03-05 to 03-09 (--to-date is midnight Asia/Seoul, so 03-10 is not run);
# each run loads the day before its logical date: 2021-03-04..2021-03-08.
BACKFILL_FROM, BACKFILL_TO = "2021-03-05", "2021-03-10"
WORLD = {"region_set": "world", "cases_source": "jhu", "weather_source": "sample_open_meteo"}
# Countries whose cumulative count falls in the history (real corrections): published with a warning.
REVISED = ["ci", "es", "fr", "is", "mh", "nz", "sc"]
DAG_IDS = ("cother_transform", "cother_retrain", "cother_ingest")


@pytest.fixture(scope="module")
def history(airflow_db):
    """The bundled history up to the backfill, loaded with dag.test() before any scheduler runs; the
    countries whose series the source revised down publish with a warning, as every other country."""
    from airflow.dag_processing.dagbag import DagBag

    from cother.orchestration.airflow_runner import last_run_results

    empty_warehouse()
    dag = DagBag(dag_folder=str(DAGS_DIR)).dags["cother_ingest"]
    dag_run = dag.test(run_conf={"start_date": "2020-10-05", "end_date": "2021-03-03", **WORLD})
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert {task: state for task, state in states.items() if state != "success"} == {}
    (cases,) = last_run_results("cother_ingest")["cases.validate"]
    assert cases["failed"] == {} and cases["held"] == {} and len(cases["passed"]) == len(get_set("world").ids)
    assert {country for country, warned in cases["warnings"].items() if warned} >= set(REVISED)
    (weather,) = last_run_results("cother_ingest")["weather.validate"]
    assert len(weather["passed"]) == 21 and weather["failed"] == {}  # the countries of the bundled cities


@pytest.fixture(scope="module")
def airflow_stack(history):
    with airflow_runner.local_stack(
        TEST_RUNTIME / "logs" / "airflow-stack.log", AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2"
    ) as env:
        try:
            yield env
        finally:  # as they were: a later file's stack would otherwise run what its own runs queue
            airflow_runner.set_paused(env, True, *DAG_IDS)


def queued_asset_events() -> list[tuple]:
    """The asset events the scheduler has queued for a DAG run it has not created yet."""
    return metadata_rows("select asset_id, target_dag_id from asset_dag_run_queue")


def airflow_cli(env: dict, *args: str) -> None:
    subprocess.run(["airflow", *args], env=env, check=True, capture_output=True, text=True)


def test_a_world_backfill_reprocesses_its_days_and_leads_to_one_transform_and_one_retrain(airflow_stack):
    before = latest_run_id()  # the runs of this worker's earlier test files stay in its metadata database
    history_rows = row_count("raw.jhu_covid_cases")
    countries = len(get_set("world").regions)
    airflow_cli(
        airflow_stack, "backfill", "create", "--dag-id", "cother_ingest", "--from-date", BACKFILL_FROM, "--to-date", BACKFILL_TO,
        "--max-active-runs", "1", "--dag-run-conf", json.dumps(WORLD),
    )  # fmt: skip
    airflow_runner.set_paused(airflow_stack, False, *DAG_IDS)

    def backfill_done():
        runs = [state for run_type, state in dag_runs("cother_ingest", before) if run_type == "backfill"]
        return len(runs) == 5 and all(state in ("success", "failed") for state in runs) and runs

    assert wait_for(backfill_done, 600, "the five backfill runs") == ["success"] * 5
    assert row_count("raw.jhu_covid_cases") == history_rows + 5 * countries  # 2021-03-04..2021-03-08, nothing else
    assert row_count("raw.batch_log where start_date between '2021-03-04' and '2021-03-08'") == 5 * (countries + 21)

    def retrained():
        runs = dag_runs("cother_retrain", before)
        return runs and all(state in ("success", "failed") for _, state in runs) and runs

    assert wait_for(retrained, 900, "the retrain after the backfill") == [("asset_triggered", "success")]
    # no asset event left queued for a DAG: the scheduler has nothing from which to start a second run
    wait_for(lambda: not queued_asset_events(), 120, "the scheduler to consume every queued asset event")
    assert dag_runs("cother_transform", before) == [("asset_triggered", "success")]
    assert dag_runs("cother_retrain", before) == [("asset_triggered", "success")]
    from cother_ml import registry

    world = registry.model_name_of("world")  # the retrain trained the world set's own model
    assert registry.client().search_model_versions(f"name = '{world}'")


def idle_executor_workers() -> list[psutil.Process]:
    """The LocalExecutor workers of the stack the fixture started from this process that wait for a task."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            if "LocalExecutor: <idle>" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            continue  # a task process that has just ended
    return found


def test_the_executor_forks_its_workers_with_the_task_libraries_loaded(airflow_stack):
    """cother.orchestration.executor: the LocalExecutor workers, forked from the scheduler when it starts
    and from which every task process of the backfill was forked, hold LightGBM's and pandas' compiled
    libraries, which no worker imports itself, so no task imported them again."""
    workers = wait_for(idle_executor_workers, 120, "an idle LocalExecutor worker")
    for worker in workers:
        mapped = Path(f"/proc/{worker.pid}/maps").read_text()
        assert "lib_lightgbm.so" in mapped and "pandas/_libs" in mapped, f"worker {worker.pid} starts without them"
