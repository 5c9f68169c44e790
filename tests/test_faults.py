"""Faults the platform survives, each provoked for real on the test PostgreSQL: a server restart in
the middle of a load (in the loading code, and at DAG level through Airflow's task retries), a load
killed mid-way, two loads of the same partitions at once, a source down and back (in the client, and
at DAG level), and the MLflow registry unreachable during a retrain. Each ends with the rows a single
clean run leaves, and nothing published half-way. And a run whose task process was killed with no one
to report it: it ends (failed), and the DAG's next run runs. A run with a failed task ends failed (under
dag.test(), `airflow dags test` and the scheduler) with one alert: a refused plan, a source down or
redirecting to itself through Airflow's retries, a publish the warehouse refuses; a failure the same
input repeats (a missing key, a landed file removed) fails its task at once, without retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import psycopg2
import pytest
from conftest import (
    ROOT,
    TEST_RUNTIME,
    check,
    empty_warehouse,
    land,
    publish_seoul,
    registered_model,
    row_count,
    table_contents,
)

from cother.ingest import stages
from cother.ingest.sources import SourceError
from cother.ingest.sources.sample import bundled_period
from cother.local import postgres
from cother.orchestration.airflow_runner import latest_run_id, local_stack, set_paused, wait_for
from cother.transform import dbt
from cother_core.database import connect, libpq_url, metadata_rows, warehouse_url

pytestmark = pytest.mark.system

START, END = date(2021, 3, 1), date(2021, 3, 31)
DAYS = (END - START).days + 1
CASES = "raw.coronaboard_cases"
WEEK = {
    "start_date": "2021-03-01",
    "end_date": "2021-03-07",
    "regions": ["seoul"],
    "weather_source": "sample_weather",
    "cases_source": "sample_cases",
}
REFUSED = {**WEEK, "start_date": "2021-03-07", "end_date": "2021-03-01"}  # a plan that cannot be done


@contextmanager
def table_locked(table: str):
    """Another session holds an exclusive lock on `table`: any load into it waits inside its transaction
    (reads, such as a gate's, go on)."""
    conn = psycopg2.connect(libpq_url(warehouse_url()))
    try:
        with conn.cursor() as cur:
            cur.execute(f"lock table {table} in exclusive mode")  # noqa: S608 -- the test's own table name
            yield
    finally:
        try:
            conn.rollback()
            conn.close()
        except psycopg2.Error:
            pass  # the server went away under it: that was the point


def loads_waiting(table: str) -> int:
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query ilike %s",
            (f"%{table.split('.')[1]}%",),
        )
        return cur.fetchone()[0]


def in_thread(function, *args):
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except Exception as failed:  # the fault under test
            outcome["error"] = failed

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def retrying_ingest_dag():
    """cother_ingest with its production retries, after 1 s instead of 30."""
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag

    settings.Session.remove()  # this process's Airflow session may hold a connection a server restart cut
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["cother_ingest"]
    for task in dag.tasks:
        task.retry_delay = task.max_retry_delay = timedelta(seconds=1)
    return dag


@pytest.fixture
def warehouse_server(postgres_server, monkeypatch):
    """The warehouse on an embedded PostgreSQL of its own, apart from Airflow's metadata database (as a
    production deployment may have them), so that restarting it leaves Airflow's own database up."""
    from cother.orchestration.airflow_runner import free_port
    from cother_core.database import airflow_url, mlflow_url

    monkeypatch.setenv("COTHER_AIRFLOW_DATABASE_URL", airflow_url())
    monkeypatch.setenv("COTHER_MLFLOW_DATABASE_URL", mlflow_url())
    with monkeypatch.context() as second:
        second.setenv("COTHER_RUNTIME_DIR", str(TEST_RUNTIME / "warehouse-server"))
        second.setenv("COTHER_PG_PORT", str(free_port()))
        url = postgres.start()
        server = postgres.EmbeddedPostgres()
    monkeypatch.setenv("COTHER_DATABASE_URL", url)
    empty_warehouse()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()


@pytest.fixture
def cases_batch(warehouse):
    return check(land("sample_cases", "seoul", START, END))


def clean_run_rows(batch) -> list:
    stages.publish(batch)
    return table_contents(CASES)


def test_postgresql_restarted_during_a_load_leaves_nothing_half_written_and_the_retry_completes(cases_batch):
    with table_locked(CASES):
        thread, outcome = in_thread(stages.publish, cases_batch)
        wait_for(lambda: loads_waiting(CASES), 120, "the load to reach the locked table", every_s=0.2)
        server = postgres.EmbeddedPostgres()
        server.stop()  # fast shutdown: every session is cut, the load's transaction with it
        server.start()
    thread.join(120)
    assert isinstance(outcome.get("error"), psycopg2.Error)
    assert row_count(CASES) == 0 and row_count("raw.batch_log") == 0  # nothing half-written
    assert stages.publish(cases_batch)["rows"] == {"seoul": DAYS}  # the retry
    assert row_count(CASES) == DAYS and row_count("raw.batch_log") == 1


def test_a_load_killed_mid_way_rolls_back_and_the_rerun_leaves_the_same_rows(cases_batch):
    code = "import json, sys; from cother.ingest import stages; stages.publish(json.loads(sys.argv[1]))"
    with table_locked(CASES):
        load = subprocess.Popen([sys.executable, "-c", code, json.dumps(cases_batch)], cwd=ROOT, env=os.environ)
        wait_for(lambda: loads_waiting(CASES), 120, "the load to reach the locked table", every_s=0.2)
        load.send_signal(signal.SIGKILL)
        load.wait(120)
    wait_for(lambda: not loads_waiting(CASES), 120, "the killed load's session to end", every_s=0.2)
    assert row_count(CASES) == 0 and row_count("raw.batch_log") == 0
    rerun = clean_run_rows(cases_batch)
    empty_warehouse()
    assert clean_run_rows(cases_batch) == rerun and len(rerun) == DAYS


def test_two_loads_of_the_same_partitions_at_once_leave_the_rows_of_one(cases_batch):
    with table_locked(CASES):
        first, first_outcome = in_thread(stages.publish, cases_batch)
        second, second_outcome = in_thread(stages.publish, cases_batch)
        wait_for(
            lambda: loads_waiting(CASES) or first_outcome or second_outcome, 120, "the loads to start", every_s=0.2
        )
    first.join(120)
    second.join(120)
    written = sorted(outcome["value"]["rows"]["seoul"] for outcome in (first_outcome, second_outcome))
    assert written == [0, DAYS]  # one loaded, the other waited and found the batch already there
    assert row_count(CASES) == DAYS and row_count("raw.batch_log") == 1


def test_a_source_down_then_back_lands_once_and_loads_once(warehouse, api):
    from answers import open_meteo_body
    from fake_api import OPEN_METEO, Answer

    days = [START + timedelta(days=offset) for offset in range(DAYS)]
    api.script(OPEN_METEO, Answer("unavailable", 503))
    with pytest.raises(SourceError, match="open_meteo"):
        land("open_meteo", "seoul", START, END)  # down for longer than the client's retries
    assert row_count("raw.open_meteo_daily") == 0
    api.script(OPEN_METEO, Answer("unavailable", 503), Answer(open_meteo_body(days)))
    batch = land("open_meteo", "seoul", START, END)  # back: one more 503, retried, then the answer
    assert stages.publish(check(batch))["rows"] == {"seoul": DAYS}
    again = land("open_meteo", "seoul", START, END)  # the next run: the landed range is reused
    assert again == batch and stages.publish(check(again))["rows"] == {"seoul": 0}
    assert row_count("raw.open_meteo_daily") == DAYS


def test_the_warehouse_restarted_during_the_ingest_dags_load_is_retried_by_airflow(airflow_db, warehouse_server):
    """The restart at DAG level: `cases.publish` waits inside its transaction when the warehouse's
    PostgreSQL restarts; the task fails, Airflow retries it, and the run ends with the month loaded once."""
    dag = retrying_ingest_dag()

    def restart_once_the_load_waits() -> None:
        try:
            wait_for(lambda: loads_waiting(CASES), 120, "the load to reach the locked table", every_s=0.2)
        finally:  # the restart also ends the lock, so the run can never hang on it
            warehouse_server.stop()  # fast shutdown: every session is cut, the load's transaction with it
            warehouse_server.start()

    with table_locked(CASES):
        restarter, restarted = in_thread(restart_once_the_load_waits)
        dag_run = dag.test(
            run_conf={
                "start_date": str(START),
                "end_date": str(END),
                "regions": ["seoul"],
                "weather_source": "sample_weather",
            }
        )
        restarter.join(60)
    assert "error" not in restarted, restarted
    assert dag_run.state == "success"
    (publish,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "cases.publish"]
    # failed, retried by Airflow: a retry 1 s later may still find the server starting on a busy machine
    assert publish.state == "success" and publish.try_number >= 2, publish.try_number
    assert row_count(CASES) == DAYS and row_count("raw.batch_log where source = 'sample_cases'") == 1


def test_a_source_down_beyond_the_clients_retries_is_retried_by_airflow_and_loads_once(warehouse, airflow_db, api):
    """The same outage at DAG level: Open-Meteo answers 503 longer than the HTTP client retries, so the
    first try of `weather.land` fails; Airflow retries the task (its production retries, after 1 s here
    instead of 30), the source is back, and the run ends with the month landed and loaded once."""
    from answers import open_meteo_body
    from fake_api import OPEN_METEO, Answer

    from cother_core.settings import get_settings

    dag = retrying_ingest_dag()
    attempts = int(os.environ["COTHER_HTTP_ATTEMPTS"])
    days = [START + timedelta(days=offset) for offset in range(DAYS)]
    api.script(OPEN_METEO, *[Answer("unavailable", 503)] * attempts, Answer(open_meteo_body(days)))
    conf = {"start_date": str(START), "end_date": str(END), "regions": ["seoul"], "weather_source": "open_meteo"}
    dag_run = dag.test(run_conf=conf)
    assert dag_run.state == "success"
    (landing_task,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "weather.land"]
    assert (landing_task.state, landing_task.try_number) == ("success", 2)  # failed once, retried by Airflow
    assert len([path for path, _ in api.requests if path == OPEN_METEO]) == attempts + 1
    assert row_count("raw.open_meteo_daily") == DAYS
    assert row_count("raw.batch_log where source = 'open_meteo'") == 1
    landed = get_settings().landing_dir / "open_meteo"
    assert len([path for path in landed.glob(f"{START:%Y%m%d}-*") if not path.name.endswith(".meta.json")]) == 1


def tries(dag_run) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try number) of a run's tasks."""
    return {ti.task_id: (ti.state, ti.try_number) for ti in dag_run.get_task_instances()}


def test_a_refused_plan_fails_the_run_at_once_with_one_alert(warehouse, airflow_db, monkeypatch):
    """A plan that cannot be done (start after end) fails its task, without retries, and the run with it,
    though the ends of the DAG (announce, check_freshness, fail_if_any_region_failed) run whatever came
    before them; the one alert is the plan's."""
    from fake_api import FakeApi

    webhook = FakeApi()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", webhook.url("/alerts"))
    try:
        dag_run = retrying_ingest_dag().test(run_conf=REFUSED)
    finally:
        webhook.close()
    states = tries(dag_run)
    assert dag_run.state == "failed", states
    assert states["plan"] == ("failed", 1)
    assert states["fail_if_any_region_failed"][0] == "success" and states["no_task_failed"][0] == "upstream_failed"
    alerts = [json.loads(body) for path, body in webhook.posts if path == "/alerts"]
    assert [(alert["event"], alert["task_id"]) for alert in alerts] == [("task_failed", "plan")]
    assert "start 2021-03-07 is after end 2021-03-01" in alerts[0]["error"]


def test_airflow_dags_test_of_a_refused_plan_exits_failed_and_the_run_helper_stops(warehouse, airflow_db):
    """`airflow dags test` exits with an error when the run failed: the run helper (`make demo`'s) stops."""
    from cother.orchestration.airflow_runner import DagRunFailed
    from cother.orchestration.airflow_runner import test_dag as airflow_dags_test

    log = TEST_RUNTIME / "logs" / "refused-plan-dags-test.log"
    with pytest.raises(DagRunFailed, match="cother_ingest failed"):
        airflow_dags_test("cother_ingest", REFUSED, log)
    run = "select state from dag_run where dag_id = 'cother_ingest' order by id desc limit 1"
    assert metadata_rows(run) == [("failed",)]


@pytest.mark.parametrize("outage", ["down", "redirect loop"])
def test_a_source_failing_through_airflows_retries_fails_the_run_and_the_other_kind_is_published(
    warehouse, airflow_db, api, outage
):
    """Open-Meteo answers 503 (or redirects to itself) through the HTTP client's attempts and Airflow's
    retries of `weather.land`, which may pass by themselves: the task is retried, then fails, and the run
    with it; the cases, which came through, are published."""
    from fake_api import OPEN_METEO, Answer

    answers = {"down": Answer("unavailable", 503), "redirect loop": Answer("", 302, {"Location": OPEN_METEO})}
    api.script(OPEN_METEO, answers[outage])
    dag_run = retrying_ingest_dag().test(run_conf={**WEEK, "weather_source": "open_meteo"})
    states = tries(dag_run)
    assert dag_run.state == "failed", states
    assert states["weather.land"] == ("failed", 3)
    assert states["cases.publish"] == ("success", 1) and row_count(f"{CASES} where region = 'seoul'") == 7
    assert row_count("raw.open_meteo_daily") == 0


def test_a_publish_the_warehouse_refuses_fails_the_run(warehouse, airflow_db):
    """The warehouse refuses every new row of the cases' raw table (a check constraint no row passes):
    `cases.publish` fails through its retries, and the run with it; the weather is published."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"alter table {CASES} add constraint refuses_every_row check (false) not valid")
    try:
        dag_run = retrying_ingest_dag().test(run_conf=WEEK)
    finally:
        with connect() as conn, conn.cursor() as cur:
            cur.execute(f"alter table {CASES} drop constraint refuses_every_row")
    states = tries(dag_run)
    assert dag_run.state == "failed", states
    assert states["cases.publish"][0] == "failed" and states["weather.publish"] == ("success", 1)
    assert row_count(CASES) == 0 and row_count("raw.kma_asos_daily") == 7


def test_a_missing_service_key_fails_the_run_at_once(warehouse, airflow_db, api, monkeypatch):
    """A configuration error (no data.go.kr key for KMA) fails the same way at every try: `weather.land`
    fails at once, without Airflow's retries, and asks the source nothing."""
    from fake_api import KMA

    monkeypatch.delenv("COTHER_DATA_GO_KR_SERVICE_KEY")
    dag_run = retrying_ingest_dag().test(run_conf={**WEEK, "weather_source": "kma_asos"})
    states = tries(dag_run)
    assert dag_run.state == "failed", states
    assert states["weather.land"] == ("failed", 1)
    assert api.paths(KMA) == []


def test_a_landed_file_removed_since_it_landed_is_named_and_fetched_again(warehouse, airflow_db, capsys):
    """The week's cases landed, then their payload was removed (its record kept, as retention does): the
    run does not reuse the batch it cannot read; `cases.land` names the missing file and fetches the
    range again, and the week publishes."""
    batch = land("sample_cases", "seoul", START, START + timedelta(days=6))
    Path(batch["path"]).unlink()
    dag_run = retrying_ingest_dag().test(run_conf=WEEK)
    states = tries(dag_run)
    assert dag_run.state == "success", states
    assert states["cases.land"] == ("success", 1) and states["cases.publish"] == ("success", 1)
    assert f"landing file {batch['path']} of batch {batch['batch_id']} is missing" in capsys.readouterr().out
    assert Path(batch["path"]).exists() and row_count(CASES) == 7


def test_the_registry_unreachable_during_a_retrain_fails_cleanly_and_the_champion_stays(postgres_server, monkeypatch):
    from cother.orchestration.airflow_runner import free_port
    from cother_ml import registry
    from cother_ml.retrain import retrain

    with registered_model("cother_test_faults"):
        empty_warehouse()
        publish_seoul(*bundled_period())
        assert dbt.build()["success"]
        champion = retrain("korea", ["seoul"])["version"]
        before = {
            table: table_contents(table) for table in ("ml.forecasts", "ml.forecast_quantiles", "ml.model_promotions")
        }
        monkeypatch.setenv("COTHER_MLFLOW_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/mlflow")
        with pytest.raises(registry.RegistryUnavailable, match="MLflow registry database .*127.0.0.1.* is unreachable"):
            retrain("korea", ["seoul"])
        monkeypatch.undo()
        assert registry.champion_version("cother_test_faults") == champion
        assert {table: table_contents(table) for table in before} == before


COTHER = str(Path(sys.executable).parent / "cother")
PIPELINE = ("cother_ingest", "cother_transform", "cother_retrain")
DAGRUN_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def stale_stack(airflow_db):
    """The local stack with the DAGs' dagrun_timeout at DAGRUN_TIMEOUT_S (COTHER_DAGRUN_TIMEOUT_HOURS) and a
    scheduler that creates no run of its own (no cron run on unpausing: only triggered runs run); the
    three DAGs paused (none follows an ingestion here)."""
    settings = {
        "COTHER_DAGRUN_TIMEOUT_HOURS": str(DAGRUN_TIMEOUT_S / 3600),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    with local_stack(TEST_RUNTIME / "logs" / "stale-runs-airflow.log", **settings) as env:
        count = "select count(*) from dag where dag_id = any(%s)"
        wait_for(lambda: metadata_rows(count, (list(PIPELINE),))[0][0] == 3, 120, "the DAG processor to list the DAGs")
        set_paused(env, True, *PIPELINE)
        try:
            yield env
        finally:
            set_paused(env, True, *PIPELINE)


def run_state(run_id: str) -> str:
    return metadata_rows("select state from dag_run where dag_id = 'cother_ingest' and run_id = %s", (run_id,))[0][0]


def ended(run_id: str) -> str | None:
    """The run's state once it has ended."""
    state = run_state(run_id)
    return state if state in ("success", "failed") else None


def task_states(run_id: str) -> dict[str, str]:
    rows = metadata_rows(
        "select task_id, state from task_instance where dag_id = 'cother_ingest' and run_id = %s", (run_id,)
    )
    return dict(rows)


@contextmanager
def publish_held():
    """While the block runs, a publish into raw.coronaboard_cases waits inside its transaction: this
    session holds the advisory lock it takes first."""
    with connect() as lock, lock.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{CASES}/sample_cases",))
        yield
        lock.rollback()


def publish_waiting(after_run: int) -> tuple | None:
    """(run_id, pid, queued_by_job_id) of the cases' publish of a cother_ingest run newer than `after_run`
    (a dag_run id) once it waits for the held lock."""
    rows = metadata_rows(
        "select r.run_id, ti.pid, ti.queued_by_job_id from task_instance as ti join dag_run as r using (dag_id, run_id)"
        " where ti.dag_id = 'cother_ingest' and ti.task_id = 'cases.publish' and ti.state = 'running' and r.id > %s",
        (after_run,),
    )
    return rows[0] if rows and row_count("pg_locks where locktype = 'advisory' and not granted") else None


def killed_dags_test(env: dict, while_alive=lambda run_id: None) -> str:
    """`cother airflow dags test cother_ingest` for a week of Seoul (the DAG paused: no scheduler runs its
    tasks besides), its task process killed with SIGKILL while the cases' publish waits inside its
    transaction: `dags test` runs each task inside its own process, which no scheduler queued. Returns
    the run's id."""
    set_paused(env, True, "cother_ingest")
    before = latest_run_id()
    with publish_held(), (TEST_RUNTIME / "logs" / "stale-runs-dags-test.log").open("a") as log:
        command = [COTHER, "airflow", "dags", "test", "cother_ingest", "-c", json.dumps(WEEK)]
        dags_test = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        run_id, pid, _ = wait_for(lambda: publish_waiting(before), 300, "the dags test's publish to wait", every_s=0.5)
        while_alive(run_id)
        os.kill(pid, signal.SIGKILL)
        dags_test.wait(60)
    assert run_state(run_id) == "running" and task_states(run_id)["cases.publish"] == "running"  # left so for good
    return run_id


def test_a_run_whose_task_process_was_killed_is_ended_before_the_next_trigger_and_the_next_run_succeeds(
    warehouse, stale_stack
):
    """A `dags test` run killed in the middle of its publish stays `running`: no scheduler queued its
    task, so none fails it (Airflow's heartbeat timeout covers a scheduler's own tasks), and the DAG
    allowing one active run, the next would wait behind it for good. `cother airflow dags trigger` (as
    `dags test` and the local stack's start) first ends it, failed, saying why; the triggered run then
    runs and succeeds. A run whose task process lives, in `dags test` or under the scheduler, is left."""
    from cother.orchestration.stale_runs import end_stale_runs

    def left_alone(run_id: str) -> None:
        assert end_stale_runs() == [] and run_state(run_id) == "running"

    stale = killed_dags_test(stale_stack, while_alive=left_alone)
    before = latest_run_id()
    command = [COTHER, "airflow", "dags", "trigger", "cother_ingest", "--run-id", "next", "-c", json.dumps(WEEK)]
    trigger = subprocess.run(command, env=stale_stack, check=True, capture_output=True, text=True)
    assert run_state(stale) == "failed"
    assert (
        f"ended the stale run {stale} of cother_ingest (failed): its task cases.publish was running" in trigger.stderr
    )
    states = task_states(stale)  # its dead task failed, those yet to run skipped, as "mark failed" leaves them
    assert states.pop("cases.publish") == "failed" and states["announce"] == "skipped"
    assert set(states.values()) == {"success", "skipped"}
    with publish_held():
        set_paused(stale_stack, False, "cother_ingest")
        run_id, _, job_id = wait_for(lambda: publish_waiting(before), 120, "the next run's publish to wait")
        assert (run_id, job_id is not None) == ("next", True)  # the scheduler's, its task process alive
        assert end_stale_runs() == [] and run_state("next") == "running"
    assert wait_for(lambda: ended("next"), 120, "the next run to end") == "success"
    assert row_count(f"{CASES} where date between '2021-03-01' and '2021-03-07'") == 7


def test_under_the_scheduler_a_stale_run_ends_at_the_dags_dagrun_timeout(warehouse, stale_stack):
    """Where no project entry point starts (the deployment's own scheduler, a `dags test` killed while
    the stack runs), the DAGs' dagrun_timeout (COTHER_DAGRUN_TIMEOUT_HOURS; 90 s here) ends the stale
    run: the scheduler fails it and skips its unfinished tasks."""
    stale = killed_dags_test(stale_stack)
    set_paused(stale_stack, False, "cother_ingest")
    assert wait_for(lambda: ended(stale), DAGRUN_TIMEOUT_S + 240, "the scheduler to end the stale run") == "failed"
    assert task_states(stale)["cases.publish"] == "skipped"  # the scheduler's doing: stale_runs fails it
    ((lasted,),) = metadata_rows(
        "select extract(epoch from end_date - start_date) from dag_run where dag_id = 'cother_ingest' and run_id = %s",
        (stale,),
    )
    assert lasted >= DAGRUN_TIMEOUT_S


def test_under_the_scheduler_a_refused_plan_fails_the_run(warehouse, stale_stack):
    """The scheduler, too, ends a run whose plan was refused `failed`, its last task `upstream_failed`."""
    set_paused(stale_stack, False, "cother_ingest")
    command = [COTHER, "airflow", "dags", "trigger", "cother_ingest", "--run-id", "refused", "-c", json.dumps(REFUSED)]
    subprocess.run(command, env=stale_stack, check=True, capture_output=True, text=True)
    assert wait_for(lambda: ended("refused"), 180, "the scheduler to end the refused run") == "failed"
    states = task_states("refused")
    assert states["plan"] == "failed" and states["no_task_failed"] == "upstream_failed"
