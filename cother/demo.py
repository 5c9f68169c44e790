"""`make demo`: the whole pipeline over the bundled Seoul period, one run per DAG, then what it did."""

from __future__ import annotations

import time
from datetime import datetime

from psycopg2 import sql

from cother import postgres
from cother.airflow_runner import migrate, test_dag
from cother.database import connect
from cother.loading import table_identifier
from cother.settings import get_settings
from cother.sources.sample import bundled_period
from ml.registry import champion_version

TABLES = ["raw.kma_asos_daily", "raw.coronaboard_cases", "quarantine.batches", "marts.fct_training_features"]
REGION = "seoul"


def _step(message: str) -> float:
    print(f"==> {message}", flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def table_rows() -> dict[str, int]:
    counts = {}
    with connect() as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute("select to_regclass(%s) is not null", (table,))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("select count(*) from {}").format(table_identifier(table)))
                counts[table] = cur.fetchone()[0]
    return counts


def run() -> None:
    settings = get_settings()
    log = settings.runtime_dir / "logs" / f"demo-{datetime.now():%Y%m%d-%H%M%S}.log"
    start, end = bundled_period()

    started = _step("PostgreSQL (embedded unless COTHER_DATABASE_URL is set)")
    print(f"    {postgres.start()}")
    _done(started)
    started = _step("Airflow metadata database (airflow db migrate)")
    migrate(log)
    _done(started)

    started = _step(f"cother_ingest: {REGION} {start}..{end} (sample weather and cases), task logs in {log}")
    ingest = test_dag("cother_ingest", {"start_date": str(start), "end_date": str(end), "regions": [REGION]}, log)
    _done(started)
    started = _step("cother_transform: dbt build and docs, each model's status")
    transform = test_dag("cother_transform", {}, log)
    _done(started)
    started = _step("cother_retrain: quality gate on the training slice, backtest, register, promotion gate")
    retrained = test_dag("cother_retrain", {"regions": [REGION]}, log)
    retrain = retrained["train_and_register"][0]
    _done(started)

    print("\nRows loaded in this run")
    for kind in ("weather", "cases"):
        for published in ingest[f"{kind}.publish"]:
            rows = "unchanged" if published["unchanged"] else published["rows"]
            where = f"{published['source']} {published['region']} {published['start']}..{published['end']}"
            print(f"  {published['table']:<32} {rows:>9}  {where}")
    print("\nRows per table")
    for table, count in table_rows().items():
        print(f"  {table:<32} {count:>7}")
    print("\nValidation (Great Expectations)")
    for kind in ("weather", "cases"):
        for validated in ingest[f"{kind}.validate"]:
            print(
                f"  {validated['suite']:<32} passed  warnings {validated['warnings']}  validation {validated['validation_id']}"
            )
    for validated in retrained["validate_training_slice"][0]:
        print(
            f"  {'fct_training_features':<32} passed  {validated['rows']} rows {validated['window']}  validation {validated['validation_id']}"
        )
    print("\ndbt build, one line per model and tested source")
    for line in transform["dbt_node"]:
        print(f"  {line}")
    print(f"\nModel {settings.model_name} version {retrain['version']}, trained on {retrain['training_window']}")
    print("  rolling-origin backtest, 8 folds (each fitted only on the days before it), mean over the folds:")
    print(f"  {'horizon':<8} {'forecaster':<16} {'MAE':>7} {'MASE':>6}")
    for row in retrain["backtest"]:
        print(f"  {row['horizon']:<8} {row['forecaster']:<16} {row['mae']:>7.1f} {row['mase']:>6.2f}")
    print(f"  {retrain['alias']}: {retrain['decision']}")
    print(f"  its forecasts (1 and 7 days ahead): {retrain['forecasts_written']} rows in marts.fct_forecasts")
    champion = champion_version()
    if champion is None:
        print("\nNo version has beaten the naive forecasters yet: there is no champion to load.")
        return
    print(f'\nChampion: version {champion}. Load it with: mlflow.pyfunc.load_model("{retrain["model_uri"]}")')
    print(
        f"  (MLflow tracking URI: `cother db url --database mlflow`; or `cother predict --region {REGION} --date {end}`)"
    )
