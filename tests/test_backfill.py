"""A real backfill under a real scheduler: `airflow standalone` on the test database, `airflow backfill
create` over five days, then exactly one transform run and one retrain run for the whole backfill."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from conftest import TEST_RUNTIME, row_count

from cother.database import airflow_url, connect, libpq_url

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
# Runs at 09:00 Asia/Seoul from 03-01 to 03-05 (--to-date is midnight Asia/Seoul, so 03-06 is not run);
# each run loads the day before its logical date: 2021-02-28..2021-03-04.
BACKFILL_FROM, BACKFILL_TO = "2021-03-01", "2021-03-06"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def airflow_runs(dag_id: str) -> list[tuple[str, str]]:
    """(run_type, state) of every run of the DAG, from the metadata database."""
    with psycopg2.connect(libpq_url(airflow_url())) as conn, conn.cursor() as cur:
        cur.execute("select run_type, state from dag_run where dag_id = %s order by id", (dag_id,))
        return cur.fetchall()


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def history(airflow_db):
    """The bundled history up to the backfill, loaded with dag.test() before any scheduler runs."""
    from airflow.dag_processing.dagbag import DagBag

    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine, staging, intermediate, marts cascade")
    dag = DagBag(dag_folder=str(DAGS_DIR)).dags["cother_ingest"]
    dag_run = dag.test(run_conf={"start_date": "2020-10-05", "end_date": "2021-02-27", "regions": ["seoul"]})
    assert dag_run.state == "success"


@pytest.fixture(scope="module")
def standalone(history):
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    log = (TEST_RUNTIME / "logs" / "standalone.log").open("w")
    process = subprocess.Popen(
        ["airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as answer:
                health = json.load(answer)
            return health["scheduler"]["status"] == "healthy" and health["dag_processor"]["status"] == "healthy"
        except (OSError, ValueError, KeyError):
            return False

    try:
        wait_for(healthy, 180, "airflow standalone to be healthy")
        yield env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def airflow_cli(env: dict, *args: str) -> None:
    subprocess.run(["airflow", *args], env=env, check=True, capture_output=True, text=True)


def test_a_backfill_reprocesses_its_days_and_leads_to_one_transform_and_one_retrain(standalone):
    history_rows = row_count("raw.coronaboard_cases")
    airflow_cli(
        standalone, "backfill", "create", "--dag-id", "cother_ingest", "--from-date", BACKFILL_FROM, "--to-date", BACKFILL_TO,
        "--max-active-runs", "1", "--dag-run-conf", json.dumps({"regions": ["seoul"]}),
    )  # fmt: skip
    for dag_id in ("cother_transform", "cother_retrain", "cother_ingest"):
        airflow_cli(standalone, "dags", "unpause", dag_id)

    def backfill_done():
        runs = [state for run_type, state in airflow_runs("cother_ingest") if run_type == "backfill"]
        return len(runs) == 5 and all(state in ("success", "failed") for state in runs) and runs

    assert wait_for(backfill_done, 600, "the five backfill runs") == ["success"] * 5
    assert row_count("raw.coronaboard_cases") == history_rows + 5  # 2021-02-28..2021-03-04, nothing else
    assert row_count("raw.batch_log where start_date between '2021-02-28' and '2021-03-04'") == 10

    def retrained():
        runs = airflow_runs("cother_retrain")
        return runs and all(state in ("success", "failed") for _, state in runs) and runs

    assert wait_for(retrained, 300, "the retrain after the backfill") == [("asset_triggered", "success")]
    time.sleep(10)  # give the scheduler a chance to start a second run, if it were going to
    assert airflow_runs("cother_transform") == [("asset_triggered", "success")]
    assert airflow_runs("cother_retrain") == [("asset_triggered", "success")]
