"""Airflow on Celery workers for real, as `make celery` runs it (cother.orchestration.celery_workers): the
project's Redis, two named workers running one task at a time each, the scheduler, on the test
database. The same daily pipeline (ingest -> transform -> retrain) for three provinces runs first without
Airflow, then on the workers: the rows are the same, and the task instances ran on both workers.
Then, on the workers: two lands of the same live source at once (a backfill beside a triggered run)
keep to the one rate limit; Redis restarted in the middle of a run; a worker killed with SIGKILL in the
middle of a publish. And a broker that does not answer stops `cother stack --celery` at once, by name."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
import pytest
from conftest import TEST_RUNTIME, empty_warehouse, load, registered_model, row_count
from fake_api import OPEN_METEO, Answer
from psycopg2 import sql

from cother.ingest.load import claim_unannounced
from cother.ingest.sources.sample import bundled_period
from cother.orchestration import celery_workers
from cother.orchestration.airflow_runner import latest_run_id, local_stack, set_paused, unpause, wait_for
from cother_core.database import connect, metadata_rows

pytestmark = pytest.mark.system

REGIONS = ["seoul", "busan", "daegu"]
SAMPLE = {
    "region_set": "korea",
    "regions": REGIONS,
    "weather_source": "sample_open_meteo",
    "cases_source": "sample_cases",
}
FIRST, LAST = bundled_period()
DAY, LIMITED_DAY, BACKFILLED_DAY, RESTART_DAY, KILL_DAY = (LAST - timedelta(days=n) for n in (5, 4, 3, 2, 1))
PIPELINE = ("cother_ingest", "cother_transform", "cother_retrain")
# Compared between the two runs: what the sources gave, what dbt built, what the model forecast.
COMPARED = ("raw.open_meteo_daily", "raw.coronaboard_cases", "marts.fct_region_daily", "marts.fct_training_features")
# One request for the three provinces' weather of one day weighs 3.6 calls: one such request per 8 s.
RATE_LIMIT, WINDOW_S = "4/8", 8
RESTARTED: list[subprocess.Popen] = []  # the Redis the restart test started again, outside the stack
STACK_SETTINGS = {
    "COTHER_CELERY_CONCURRENCY": "1",  # two tasks queued at once go to the two workers
    "COTHER_OPEN_METEO_RATE_LIMIT": RATE_LIMIT,
    "COTHER_HTTP_READ_TIMEOUT_S": "150",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",  # a dead worker's task is failed (and retried) soon
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
}


def history() -> None:
    """The bundled days before DAY published without Airflow, and marked announced (no news)."""
    empty_warehouse()
    for source in ("sample_open_meteo", "sample_cases"):
        load(source, REGIONS, FIRST, DAY - timedelta(days=1))
    claim_unannounced()


def trigger(env: dict, day, **conf) -> str:
    run_id = f"test_celery__{day}__{time.monotonic_ns()}"
    conf = {**SAMPLE, "start_date": str(day), "end_date": str(day), **conf}
    command = ["airflow", "dags", "trigger", "cother_ingest", "--run-id", run_id, "-c", json.dumps(conf)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    return run_id


def run_state(dag_id: str, run_id: str) -> str | None:
    rows = metadata_rows("select state from dag_run where dag_id = %s and run_id = %s", (dag_id, run_id))
    return rows[0][0] if rows and rows[0][0] in ("success", "failed") else None


def retrain_after(since_run_count: int) -> str | None:
    rows = metadata_rows("select state from dag_run where dag_id = 'cother_retrain' order by id")[since_run_count:]
    return rows[0][0] if rows and rows[0][0] in ("success", "failed") else None


def retrain_runs() -> int:
    return metadata_rows("select count(*) from dag_run where dag_id = 'cother_retrain'")[0][0]


def task_instances(run_id: str) -> dict[str, tuple]:
    rows = metadata_rows(
        "select task_id, hostname, state, try_number from task_instance where run_id = %s and dag_id = 'cother_ingest'",
        (run_id,),
    )
    return {task_id: (hostname, state, tries) for task_id, hostname, state, tries in rows}


def contents() -> dict[str, str]:
    """A digest of each compared table's rows (without load times and validation ids, which every run
    makes anew) and of the forecasts (without the model's name and version)."""
    digests = {}
    with connect() as conn, conn.cursor() as cur:
        for table in COMPARED:
            schema, name = table.split(".")
            cur.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and data_type not like 'timestamp%%' and column_name <> 'validation_id' order by ordinal_position",
                (schema, name),
            )
            columns = sql.SQL(", ").join(sql.Identifier(column) for (column,) in cur.fetchall())
            cur.execute(
                sql.SQL(
                    "select md5(string_agg(row::text, '|' order by row::text)) from (select {} from {}) as row"
                ).format(columns, sql.Identifier(schema, name))
            )
            digests[table] = cur.fetchone()[0]
        cur.execute(
            "select region, origin_date, target_date, horizon_days, round(forecast_new_cases::numeric, 6)"
            " from ml.forecasts order by 1, 2, 3, 4"
        )
        digests["ml.forecasts"] = cur.fetchall()
    assert digests["ml.forecasts"], "the retrain wrote no forecasts"
    return digests


def daily_pipeline(env: dict) -> str:
    """Trigger DAY's ingestion and wait for the retrain it leads to; its run id."""
    before = retrain_runs()
    run_id = trigger(env, DAY)
    assert wait_for(lambda: run_state("cother_ingest", run_id), 600, "the daily ingestion") == "success"
    assert wait_for(lambda: retrain_after(before), 900, "the retrain after the ingestion") == "success"
    return run_id


@pytest.fixture(scope="module")
def rows_without_airflow(postgres_server):
    """The daily pipeline's steps run in this process, without Airflow: DAY's batches published, dbt built,
    the model retrained; the rows they leave. (The pipeline on the LocalExecutor, under a scheduler, is
    test_backfill's.)"""
    from cother.transform import dbt
    from cother_ml.retrain import retrain

    history()
    for source in ("sample_open_meteo", "sample_cases"):
        load(source, REGIONS, DAY, DAY)
    assert dbt.build()["success"]
    with registered_model("cother_test_celery_local"):
        retrain(SAMPLE["region_set"], REGIONS)
        return contents()


class LimitedOpenMeteo:
    """Open-Meteo's documented answer for the asked days and places; the first request is held until a
    second arrives (both lands are then in flight at once), or for 120 s."""

    def __init__(self) -> None:
        self.arrived: list[tuple[float, str]] = []  # (time, start_date)
        self.second = threading.Event()

    def __call__(self, params: dict) -> Answer:
        from answers import open_meteo_places

        self.arrived.append((time.time(), params["start_date"]))
        if len(self.arrived) == 1:
            self.second.wait(120)
        else:
            self.second.set()
        return Answer(open_meteo_places(params, [date.fromisoformat(params["start_date"])]))


@pytest.fixture(scope="module")
def open_meteo():
    from fake_api import FakeApi

    fake = FakeApi()
    fake.respond(OPEN_METEO, LimitedOpenMeteo())
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def celery_stack(airflow_db, rows_without_airflow, open_meteo):
    """The same history, then the stack on two Celery workers; yields its environment."""
    history()
    settings = {**STACK_SETTINGS, "COTHER_OPEN_METEO_URL": open_meteo.url(OPEN_METEO)}
    with registered_model("cother_test_celery"):
        with local_stack(TEST_RUNTIME / "logs" / "celery-airflow.log", celery=True, **settings) as env:
            unpause(env, *PIPELINE)
            try:
                yield env
            finally:
                set_paused(env, True, *PIPELINE)
                for redis in RESTARTED:
                    redis.terminate()
                    redis.wait(60)


def kill_worker(node: str) -> None:
    """SIGKILL to every process of the worker with this node name (its main process, which the stack
    started from this process, its pool, the task processes forked from them), as if its machine had
    died. Celery titles the main process with the node name."""
    (main,) = [
        process
        for process in psutil.Process().children()
        if f"[celeryd: {node}:" in process.name() + " ".join(process.cmdline())
    ]
    family = [main, *main.children(recursive=True)]
    for process in family:
        process.kill()

    def dead(process: psutil.Process) -> bool:
        try:
            return process.status() == psutil.STATUS_ZOMBIE  # the stack reaps its own child when it stops
        except psutil.NoSuchProcess:
            return True

    wait_for(lambda: all(dead(process) for process in family), 60, f"worker {node} to die", every_s=0.2)


def test_the_daily_pipeline_runs_on_both_workers_and_leaves_the_rows_of_its_steps_run_without_airflow(
    celery_stack, rows_without_airflow
):
    run_id = daily_pipeline(celery_stack)
    assert contents() == rows_without_airflow
    hosts = metadata_rows(  # an EmptyOperator (the ingest's no_task_failed) is marked done by the scheduler
        "select distinct hostname from task_instance where dag_id = any(%s) and operator <> 'EmptyOperator'"
        " and start_date >= (select start_date from dag_run where run_id = %s)",
        (list(PIPELINE), run_id),
    )
    assert {host for (host,) in hosts} == {celery_workers.node(name) for name in ("worker-1", "worker-2")}
    # the fault tests below need only the ingestion
    set_paused(celery_stack, True, "cother_transform", "cother_retrain")


def test_two_lands_of_one_source_on_two_workers_keep_to_its_one_rate_limit(celery_stack, open_meteo):
    """A run triggered by hand and a backfill's run (which Airflow runs beside it) both fetch Open-Meteo's
    weather, one request each, on the two workers at once: the second request reaches the source only when
    the first has left the limit's window, while the first is still unanswered."""
    responder = open_meteo.responders[OPEN_METEO]
    live = {"weather_source": "open_meteo"}
    last_run = latest_run_id()  # other modules' backfills came before
    triggered = trigger(celery_stack, LIMITED_DAY, **live)
    after = BACKFILLED_DAY + timedelta(days=1)  # a backfill's run loads the day before its logical date
    subprocess.run(
        ["airflow", "backfill", "create", "--dag-id", "cother_ingest", "--from-date", str(after),
         "--to-date", str(after + timedelta(days=1)), "--max-active-runs", "1",
         "--dag-run-conf", json.dumps({**SAMPLE, **live})],
        env=celery_stack, check=True, capture_output=True,
    )  # fmt: skip
    backfill = wait_for(
        lambda: metadata_rows(
            "select run_id from dag_run where dag_id = 'cother_ingest' and run_type = 'backfill' and id > %s",
            (last_run,),
        ),
        120,
        "the backfill's run",
    )[0][0]
    for run_id in (triggered, backfill):
        assert wait_for(lambda run_id=run_id: run_state("cother_ingest", run_id), 600, run_id) == "success"
    (first, first_day), (second, second_day) = responder.arrived
    assert {first_day, second_day} == {str(LIMITED_DAY), str(BACKFILLED_DAY)}
    assert responder.second.is_set()  # the first was held until the second came: both lands were in flight
    assert second - first >= WINDOW_S - 0.5  # the shared limit: one such request per window (clocks: 0.5 s)
    hosts = {task_instances(run_id)["weather.land"][0] for run_id in (triggered, backfill)}
    assert hosts == {celery_workers.node(name) for name in ("worker-1", "worker-2")}


def test_a_run_goes_on_when_redis_restarts_in_its_middle(celery_stack):
    """Redis stopped and started again (its queue on disk) while the run's tasks are queued and running:
    the run succeeds and each region's day is published once."""
    from cother.local import redis_server

    run_id = trigger(celery_stack, RESTART_DAY)
    wait_for(lambda: task_instances(run_id).get("plan", (None, None))[1] == "success", 300, "the run's plan")
    (redis,) = [p for p in psutil.Process().children(recursive=True) if p.name() == "redis-server"]
    redis.send_signal(signal.SIGTERM)
    redis.wait(60)
    restarted = subprocess.Popen(redis_server.command(), stdout=subprocess.DEVNULL, start_new_session=True)
    RESTARTED.append(restarted)  # stopped with the stack
    assert wait_for(lambda: run_state("cother_ingest", run_id), 600, "the run after Redis restarted") == "success"
    assert row_count(f"raw.coronaboard_cases where date = '{RESTART_DAY}'") == len(REGIONS)
    assert row_count(f"raw.batch_log where start_date = '{RESTART_DAY}'") == 2 * len(REGIONS)


def test_a_worker_killed_in_the_middle_of_a_publish_is_retried_on_the_other(celery_stack):
    """While the cases' publish waits inside its transaction (for a lock this test holds), its worker is
    killed with SIGKILL, every process of it: the scheduler fails the task when its heartbeat stops, its
    retry runs on the other worker, and the day is published once."""
    with connect() as lock, lock.cursor() as cur:  # the lock a publish into raw.coronaboard_cases takes first
        cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", ("raw.coronaboard_cases/sample_cases",))
        run_id = trigger(celery_stack, KILL_DAY)

        def publishing() -> str | None:
            host, state, _ = task_instances(run_id).get("cases.publish", (None, None, None))
            return host if state == "running" else None

        host = wait_for(publishing, 300, "the cases' publish to start")
        wait_for(lambda: row_count("pg_locks where locktype = 'advisory' and not granted"), 120, "the publish to wait")
        kill_worker(host)
        lock.rollback()  # the lock released: the killed publish's transaction had nothing to commit
    assert wait_for(lambda: run_state("cother_ingest", run_id), 600, "the run after the worker died") == "success"
    retried_host, state, tries = task_instances(run_id)["cases.publish"]
    assert (state, tries) == ("success", 2) and retried_host != host
    assert row_count(f"raw.coronaboard_cases where date = '{KILL_DAY}'") == len(REGIONS)
    assert row_count(f"raw.batch_log where start_date = '{KILL_DAY}' and source = 'sample_cases'") == len(REGIONS)


def test_a_broker_that_does_not_answer_stops_the_stack_at_once_by_name(postgres_server):
    broker = f"redis+socket://{TEST_RUNTIME}/no-such-redis.sock"
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cother"), "stack", "--celery", "--port", "0"],
        env={**os.environ, "COTHER_CELERY_BROKER_URL": broker},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert f"the Celery broker {broker} is not reachable" in done.stderr
    assert time.monotonic() - started < 120
