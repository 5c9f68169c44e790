"""The real DAGs, run with dag.test() on the embedded PostgreSQL, dbt, Great Expectations and MLflow."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import empty_warehouse, registered_model, row_count, table_contents

from cother.ingest.sources.sample import bundled_period

pytestmark = pytest.mark.system

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
RAW_TABLES = ["raw.kma_asos_daily", "raw.coronaboard_cases"]
START, END = bundled_period()
WEATHER = {"weather_source": "sample_weather"}  # the bundled Seoul station observations
INGEST_CONF = {"start_date": str(START), "end_date": str(END), "regions": ["seoul"], **WEATHER}
MODEL_NAME = "cother_test_end_to_end"  # the korea set\'s model in this module (COTHER_MODEL_NAME)


@pytest.fixture(scope="module")
def dags(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0  # a failure should fail the run now, not after the production backoff
    return bag.dags


def run(dag, conf: dict):
    from airflow.utils.state import DagRunState

    dag_run = dag.test(run_conf=conf)
    failed = [ti.task_id for ti in dag_run.get_task_instances() if ti.state == "failed"]
    return dag_run.state == DagRunState.SUCCESS, failed


def training_features_events() -> int:
    """How many times marts.fct_training_features was emitted (each schedules a retrain)."""
    from cother_core.database import airflow_url, connect

    with connect(airflow_url()) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from asset_event join asset on asset.id = asset_event.asset_id where asset.name = %s",
            ("marts.fct_training_features",),
        )
        return cur.fetchone()[0]


def champion_version():
    from cother_ml import registry

    return registry.champion_version(MODEL_NAME)


@pytest.fixture(scope="module")
def first_pipeline_run(dags, postgres_server):
    with registered_model(MODEL_NAME) as model:
        empty_warehouse()
        yield {
            "model": model,
            "ingest": run(dags["cother_ingest"], INGEST_CONF),
            "transform": run(dags["cother_transform"], {}),
            "retrain": run(dags["cother_retrain"], {"regions": ["seoul"]}),
        }


def test_the_three_dags_succeed_over_the_bundled_period(first_pipeline_run):
    assert first_pipeline_run == {
        "model": "cother_test_end_to_end",
        "ingest": (True, []),
        "transform": (True, []),
        "retrain": (True, []),
    }
    days = (END - START).days + 1
    assert [row_count(table) for table in RAW_TABLES] == [days, days]
    assert row_count("marts.fct_training_features") == days + 1  # and the forecast row
    assert row_count("raw.batch_log") == 2
    assert row_count("raw.batch_log where announced_at is null") == 0  # announced to the downstream DAGs
    from cother_core.settings import get_settings

    catalog = json.loads((get_settings().dbt_target_dir / "catalog.json").read_text())
    assert "model.cother.fct_training_features" in catalog["nodes"]  # the docs site was regenerated


def test_the_champion_loads_from_the_registry_and_forecasts(first_pipeline_run):
    import mlflow

    from cother_core.database import connect
    from cother_ml import registry
    from cother_ml.intervals import QUANTILE_LEVELS
    from cother_ml.pyfunc_model import output_column, quantile_column
    from cother_ml.storage import load_mart

    registry.configure()
    model = mlflow.pyfunc.load_model(registry.model_uri(MODEL_NAME))
    forecast_row = load_mart(["seoul"]).query("is_forecast_row")
    columns = model.metadata.get_input_schema().input_names()
    forecast = model.predict(forecast_row[columns])
    # what the retrain wrote of the champion's forecasts from that row, and their quantiles
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select forecast_new_cases from marts.fct_forecasts where model_version = %s order by horizon_days",
            (int(champion_version()),),
        )
        written = [value for (value,) in cur.fetchall()]
        cur.execute(
            "select quantile_value from marts.fct_forecast_quantiles where model_version = %s"
            " order by horizon_days, quantile_level",
            (int(champion_version()),),
        )
        written_quantiles = [value for (value,) in cur.fetchall()]
    assert len(forecast) == 1
    assert [forecast[output_column(horizon)].item() for horizon in (1, 7)] == pytest.approx(written)
    quantiles = [quantile_column(horizon, level) for horizon in (1, 7) for level in QUANTILE_LEVELS]
    assert forecast[quantiles].iloc[0].tolist() == written_quantiles


def test_the_retrain_writes_its_forecasts_to_the_forecast_mart(first_pipeline_run):
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select region, date_day, horizon_days, model_version, model_alias, actual_new_cases, is_latest_version,"
            " forecast_new_cases from marts.fct_forecasts order by horizon_days"
        )
        forecasts = cur.fetchall()
    version = int(champion_version())
    assert [forecast[:7] for forecast in forecasts] == [
        ("seoul", END + timedelta(days=1), 1, version, "champion", None, True),
        ("seoul", END + timedelta(days=7), 7, version, "champion", None, True),
    ]
    assert all(0 < forecast[7] < 10_000 for forecast in forecasts)


def test_the_champions_quantiles_export_as_a_hub_submission(first_pipeline_run, tmp_path, capsys):
    """`cother export hub --date D` writes the origin's forecasts of the champion in the hubverse
    model-output columns: 23 non-decreasing quantiles per target, those of marts.fct_forecast_quantiles."""
    import pandas as pd

    from cother.cli import main
    from cother_core.database import connect

    main(["export", "hub", "--date", str(END), "--out", str(tmp_path / "submission.csv")])
    assert f"wrote 46 rows of v{champion_version()}'s quantile forecasts" in capsys.readouterr().out
    submission = pd.read_csv(tmp_path / "submission.csv")
    assert list(submission.columns) == HUBVERSE_COLUMNS
    assert_hub_submission(submission, END, "day inc case", {1: END + timedelta(days=1), 7: END + timedelta(days=7)})
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select horizon_days, quantile_level::float, quantile_value from marts.fct_forecast_quantiles"
            " where model_version = %s order by horizon_days, quantile_level",
            (int(champion_version()),),
        )
        written = cur.fetchall()
    exported = submission.sort_values(["horizon", "output_type_id"])
    assert list(zip(exported["horizon"], exported["output_type_id"], exported["value"], strict=True)) == written


HUBVERSE_COLUMNS = [  # docs.hubverse.io, "Model output": the task ID columns, then the output representation
    "reference_date",
    "target",
    "horizon",
    "location",
    "target_end_date",
    "output_type",
    "output_type_id",
    "value",
]
HUB_LEVELS = [0.01, 0.025, *(round(0.05 * k, 2) for k in range(1, 20)), 0.975, 0.99]


def assert_hub_submission(submission, origin, target: str, end_dates: dict) -> None:
    """One origin's rows in the hubverse columns: per task (location, horizon) the hubs' 23 levels with
    values that never fall as the level rises, each task's target end date as `end_dates` by horizon."""
    assert (submission["reference_date"] == str(origin)).all() and (submission["target"] == target).all()
    assert (submission["output_type"] == "quantile").all()
    for (location, horizon), task in submission.groupby(["location", "horizon"]):
        ordered = task.sort_values("output_type_id")
        assert ordered["output_type_id"].tolist() == pytest.approx(HUB_LEVELS), (location, horizon)
        assert ordered["value"].is_monotonic_increasing and (ordered["value"] >= 0).all(), (location, horizon)
        assert set(task["target_end_date"]) == {str(end_dates[horizon])}
    assert set(submission["horizon"]) == set(end_dates)


def test_a_second_run_leaves_the_same_rows_and_registers_a_challenger(first_pipeline_run, dags):
    from cother_ml import registry

    before = {table: table_contents(table) for table in [*RAW_TABLES, "marts.fct_training_features"]}
    version = int(registry.champion_version(MODEL_NAME))
    assert run(dags["cother_ingest"], INGEST_CONF) == (True, [])
    assert run(dags["cother_transform"], {}) == (True, [])
    assert run(dags["cother_retrain"], {"regions": ["seoul"]}) == (True, [])
    assert {table: table_contents(table) for table in before} == before
    assert str(registry.alias_version(MODEL_NAME, "challenger").version) == str(version + 1)  # nothing new to win with
    assert int(registry.champion_version(MODEL_NAME)) == version


def test_a_batch_failing_its_gate_publishes_nothing_and_keeps_the_landing_file(first_pipeline_run, dags):
    from cother_core.database import connect
    from cother_core.settings import get_settings

    before = {table: table_contents(table) for table in RAW_TABLES}
    champion = champion_version()
    succeeded, failed = run(
        dags["cother_ingest"], {"start_date": "2023-09-05", "end_date": "2023-09-06", "regions": ["seoul"], **WEATHER}
    )
    assert not succeeded
    assert failed == ["fail_if_any_region_failed"]  # after the stages ran, announced and checked freshness
    assert {table: table_contents(table) for table in RAW_TABLES} == before
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select source, landed_file from quarantine.batches where start_date = '2023-09-05'")
        quarantined = dict(cur.fetchall())
    assert set(quarantined) == {"sample_cases", "sample_weather"}  # neither bundled file has those days
    assert all(Path(path).is_file() for path in quarantined.values())
    assert Path(quarantined["sample_cases"]).parent == get_settings().landing_dir / "sample_cases"
    assert champion_version() == champion


def test_one_regions_failure_does_not_block_the_others(first_pipeline_run, dags):
    """The bundled station observations are Seoul's only: Busan's part of the weather batch fails alone,
    in one validate task per kind whatever the number of regions; the others are published."""
    from cother.orchestration.airflow_runner import last_run_results

    ingest = dags["cother_ingest"]
    dag_run = ingest.test(
        run_conf={"start_date": "2021-10-01", "end_date": "2021-10-05", "regions": ["seoul", "busan"], **WEATHER}
    )
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed"
    assert {task: state for task, state in states.items() if state != "success"} == {
        "fail_if_any_region_failed": "failed",
        "no_task_failed": "upstream_failed",
    }
    (weather,) = last_run_results("cother_ingest")["weather.validate"]
    assert weather["passed"] == ["seoul"] and list(weather["failed"]) == ["busan"]
    assert (
        "sample_weather: region busan, date 2021-10-01..2021-10-05: coverage: expected rows for this region; observed none in the answer"
        in (weather["failed"]["busan"])
    )
    assert row_count("raw.coronaboard_cases where region = 'busan'") == 5
    assert row_count("raw.kma_asos_daily where region = 'busan'") == 0
    assert row_count("raw.kma_asos_daily where region = 'seoul' and date >= '2021-10-01'") == 5


def test_a_failed_task_and_a_late_source_send_alerts_naming_them(first_pipeline_run, dags, monkeypatch):
    from fake_api import FakeApi

    webhook = FakeApi()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", webhook.url("/alerts"))
    succeeded, failed = run(
        dags["cother_ingest"], {"start_date": "2023-09-05", "end_date": "2023-09-06", "regions": ["seoul"], **WEATHER}
    )
    assert not succeeded
    alerts = [json.loads(body) for path, body in webhook.posts if path == "/alerts"]
    (failure,) = [alert for alert in alerts if alert["event"] == "task_failed"]
    assert (failure["dag_id"], failure["task_id"]) == ("cother_ingest", "fail_if_any_region_failed")
    assert failure["run_id"]
    for named_in_error in (
        "sample_cases",
        "region seoul",
        "2023-09-05..2023-09-06",
        "coverage: expected rows for this region; observed none in the answer",
    ):
        assert named_in_error in failure["error"]
    (late,) = [alert for alert in alerts if alert["event"] == "source_late"]
    assert {(source["kind"], source["region"], source["last_published"]) for source in late["late"]} == {
        ("weather", "seoul", str(END)),
        ("cases", "seoul", str(END)),
    }


def test_a_scheduled_run_past_the_bundle_says_so_without_alert_or_quarantine(airflow_db, monkeypatch, capsys):
    """On a fresh install with the sample sources, the first scheduled run (the day before today) failed
    its gate, quarantined an empty batch and sent an alert."""
    from airflow.utils.state import DagRunState
    from fake_api import FakeApi

    from cother_core.clock import today
    from cother_core.warehouse import ensure_warehouse

    ensure_warehouse()
    webhook = FakeApi()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", webhook.url("/alerts"))
    quarantined_before = row_count("quarantine.batches")
    from airflow.dag_processing.dagbag import DagBag

    # a DAG parsed afresh: dag.test(run_conf) leaves its conf in the params of the DAG object it ran
    dag = DagBag(dag_folder=str(DAGS_DIR / "cother_ingest.py")).dags["cother_ingest"]
    dag_run = dag.test()  # no dates: the day before the run, as the schedule asks
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == DagRunState.SUCCESS, states
    assert states["plan"] == "skipped" and states["cases.land"] == "skipped", states
    assert "failed" not in states.values(), states
    yesterday = today() - timedelta(days=1)
    said = [line for line in capsys.readouterr().out.splitlines() if f"nothing to load for {yesterday}" in line]
    assert said, "the skip is not explained"
    assert re.search(r"the bundled sample data ends earlier \(.*sample_cases through 2023-09-04\)", said[0])
    assert "COTHER_CASES_SOURCE" in said[0]
    assert row_count("quarantine.batches") == quarantined_before
    assert webhook.posts == []
    webhook.close()


def test_a_training_slice_failing_its_gate_stops_the_retrain_and_keeps_the_champion(
    first_pipeline_run, dags, monkeypatch, capfd
):
    """A day missing from the mart (deleted behind dbt's back) fails the slice's row count: the retrain
    stops its first step, the slice's gate, with the gate's message and its summary table in the task's
    output (what its log shows), nothing is registered, the champion stays."""
    from fake_api import FakeApi

    from cother_core.database import connect
    from cother_ml import registry

    webhook = FakeApi()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", webhook.url("/alerts"))
    registered = f"name = '{first_pipeline_run['model']}'"
    champion, versions = champion_version(), len(registry.client().search_model_versions(registered))
    missing = START + timedelta(days=100)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "create table marts.held_day as select * from marts.fct_training_features"
            " where region = 'seoul' and date_day = %s",
            (missing,),
        )
        cur.execute(
            "delete from marts.fct_training_features as f using marts.held_day as held"
            " where f.region = held.region and f.date_day = held.date_day"
        )
    try:
        dag_run = dags["cother_retrain"].test(run_conf={"regions": ["seoul"]})
    finally:
        with connect() as conn, conn.cursor() as cur:
            cur.execute("insert into marts.fct_training_features select * from marts.held_day")
            cur.execute("drop table marts.held_day")
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed"
    assert states == {"plan": "success", "train_and_register": "failed"}
    output = capfd.readouterr().out
    assert "quality gate failed: suite fct_training_features on marts.fct_training_features, region seoul" in output
    assert re.search(r"seoul\s+FAILED\s+0\s+expect_column_pair_values_to_be_equal check_days_of_region", output), (
        output[-3000:]
    )
    (alert,) = [json.loads(body) for path, body in webhook.posts if path == "/alerts"]
    assert alert["task_id"] == "train_and_register"
    for named in ("fct_training_features", "region seoul", "expect_column_pair_values_to_be_equal"):
        assert named in alert["error"]
    assert champion_version() == champion
    assert len(registry.client().search_model_versions(registered)) == versions


def test_each_dbt_model_shows_its_own_status_and_a_failing_test_emits_nothing(first_pipeline_run, dags):
    """A row that bypassed the ingestion gate fails a dbt test of stg_kma__weather_daily: that model's
    task is red and names the test, the models built from it are skipped, the rest are green, the docs
    are not regenerated and no retrain is scheduled. Runs last: it leaves the bad row behind."""
    from cother_core.database import connect
    from cother_core.settings import get_settings

    with connect() as conn, conn.cursor() as cur:
        cur.execute("update raw.kma_asos_daily set avgta = 99 where region = 'seoul' and date = %s", (END,))
    announced = training_features_events()
    assert announced >= 1  # the successful transforms before this one emitted it
    catalog = get_settings().dbt_target_dir / "catalog.json"
    generated = catalog.stat().st_mtime_ns
    transform = dags["cother_transform"]
    dag_run = transform.test()
    instances = dag_run.get_task_instances()
    models = {ti.rendered_map_index: ti.state for ti in instances if ti.task_id == "dbt_node"}
    states = {ti.task_id: ti.state for ti in instances if ti.task_id != "dbt_node"}
    assert dag_run.state == "failed"
    assert models["stg_kma__weather_daily"] == "failed"
    assert models["int_weather__daily_canonical"] == models["fct_training_features"] == "skipped"
    assert models["stg_coronaboard__cases_daily"] == models["dim_region"] == "success"
    assert states == {"dbt_build": "success", "check_field_accuracy": "skipped"}  # nothing scored on a failed build
    assert catalog.stat().st_mtime_ns == generated  # the docs still describe the last build that passed
    assert training_features_events() == announced  # nothing schedules a retrain on this build
