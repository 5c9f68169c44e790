"""`make demo`: the whole pipeline over the bundled data, one run per DAG, then what it did: a year of
the 17 provinces (cases from Coronaboard, weather from the Open-Meteo reanalysis of a city of each; the
year the bundled Seoul station observations cover, as the tests' Seoul period), and the weekly world set
on WHO's weekly file (its bundled copy, from its first Sunday to its last), which reaches today: its
forecasts are for the weeks after the file's last Sunday. `cother demo --regions seoul` runs one province
(and the weekly set as always)."""

from __future__ import annotations

import time
from datetime import datetime

from psycopg2 import sql

from cother.ingest.sources import get_source
from cother.ingest.sources.sample import bundled_period
from cother.local import postgres
from cother.orchestration.airflow_runner import migrate, test_dag
from cother_core.database import connect, parsed
from cother_core.settings import get_settings
from cother_core.warehouse import table_identifier
from cother_ml import registry
from cother_ml.backtest import BacktestConfig
from cother_ml.grain import DAILY, WEEKLY
from cother_ml.intervals import QUANTILE_LEVELS

REGION_SET = "korea"
START, END = bundled_period()
WEEKLY_SET = "world_weekly"
WEEKLY_SOURCE = get_source("sample_who_weekly")
WEEKLY_INGEST = {
    "start_date": str(WEEKLY_SOURCE.first_day),
    "end_date": str(WEEKLY_SOURCE.last_day()),
    "cases_source": WEEKLY_SOURCE.name,
}
WEEKLY_SHOWN = 12  # the weekly set's countries shown: those with the most cases in their last week
LATEST_FORECASTS = (
    "select region, horizon_days, target_date::text, round(forecast_new_cases) from ml.forecasts"
    " where model_name = %s and model_version = %s order by region, horizon_days"
)
LARGEST_LAST_WEEK = (
    "select region, new_cases from marts.fct_region_daily where region = any(%s) and date_day = %s"
    " and new_cases is not null order by new_cases desc limit %s"
)


def _step(message: str) -> float:
    print(f"==> {message}", flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)


def tables() -> list[str]:
    """What the demo's runs write to: the raw tables of its sources (the daily set's as the ingest DAG's
    params default to them), the quarantine, and the features marts of both sets."""
    settings = get_settings()
    sources = [get_source(settings.weather_source), get_source(settings.cases_source), WEEKLY_SOURCE]
    return [*(source.raw_table for source in sources), "quarantine.batches", DAILY.mart, WEEKLY.mart]


def table_rows() -> dict[str, int]:
    counts = {}
    with connect() as conn, conn.cursor() as cur:
        for table in tables():
            cur.execute("select to_regclass(%s) is not null", (table,))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("select count(*) from {}").format(table_identifier(table)))
                counts[table] = cur.fetchone()[0]
    return counts


def region_table(ingest: dict, retrain: dict) -> list[str]:
    """Per region: the rows published per kind, the gate's verdict, the latest forecasts of each horizon."""
    rows: dict[str, dict] = {}
    for kind in ("weather", "cases"):
        (published,) = ingest.get(f"{kind}.publish") or [{"rows": {}, "failed": []}]
        for region, count in published["rows"].items():
            rows.setdefault(region, {})[kind] = "unchanged" if count == 0 else str(count)
        for region in published["failed"]:
            rows.setdefault(region, {})[kind] = "FAILED"
    for region, forecasts in latest_forecasts(retrain).items():
        rows.setdefault(region, {}).update(forecasts)
    lines = [f"  {'region':<12} {'weather':>9} {'cases':>9}  {'next day':<22} {'7 days ahead':<22}"]
    for region, cells in sorted(rows.items()):
        lines.append(
            f"  {region:<12} {cells.get('weather', '-'):>9} {cells.get('cases', '-'):>9}"
            f"  {cells.get(1, '-'):<22} {cells.get(7, '-'):<22}"
        )
    return lines


def latest_forecasts(retrain: dict) -> dict[str, dict[int, str]]:
    """Per region and horizon (days), the forecast the retrain's version wrote: "count on day"."""
    forecasts: dict[str, dict[int, str]] = {}
    with connect() as conn, conn.cursor() as cur:
        cur.execute(LATEST_FORECASTS, (retrain["model_name"], retrain["version"]))
        for region, horizon, target, forecast in cur.fetchall():
            forecasts.setdefault(region, {})[horizon] = f"{forecast:.0f} on {target}"
    return forecasts


def weekly_table(retrain: dict) -> list[str]:
    """The weekly set's countries with the most cases in the file's last week: that week's count and the
    forecasts of the 4 weeks after it."""
    last = WEEKLY_INGEST["end_date"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute(LARGEST_LAST_WEEK, (retrain["regions"], last, WEEKLY_SHOWN))
        largest = cur.fetchall()
    forecasts = latest_forecasts(retrain)
    labels = [WEEKLY.label(horizon) for horizon in WEEKLY.horizons]
    lines = [f"  {'region':<12} {'week to ' + last:>18}  " + " ".join(f"{label:<21}" for label in labels)]
    for region, count in largest:
        cells = " ".join(f"{forecasts.get(region, {}).get(horizon, '-'):<21}" for horizon in WEEKLY.horizons)
        lines.append(f"  {region:<12} {count:>18,}  {cells}")
    return lines


def run(regions: list[str] | None = None) -> None:
    settings = get_settings()
    log = settings.runtime_dir / "logs" / f"demo-{datetime.now():%Y%m%d-%H%M%S}.log"
    chosen = regions or []
    conf = {"start_date": str(START), "end_date": str(END), "region_set": REGION_SET, "regions": chosen}
    shown = ",".join(chosen) or f"the {REGION_SET} set"

    started = _step("PostgreSQL (embedded unless COTHER_DATABASE_URL is set)")
    print(f"    {parsed(postgres.start()).render_as_string()}")  # the password hidden
    _done(started)
    started = _step("Airflow metadata database (airflow db migrate)")
    migrate(log)
    _done(started)

    started = _step(f"cother_ingest: {shown} {START}..{END} (bundled cases and weather), task logs in {log}")
    ingest = test_dag("cother_ingest", conf, log)
    _done(started)
    weeks = f"{WEEKLY_INGEST['start_date']}..{WEEKLY_INGEST['end_date']}"
    started = _step(f"cother_ingest_weekly: the {WEEKLY_SET} set {weeks} (WHO's weekly file, bundled)")
    weekly_ingest = test_dag("cother_ingest_weekly", WEEKLY_INGEST, log)
    _done(started)
    started = _step("cother_transform: dbt build and docs, each model's status")
    transform = test_dag("cother_transform", {}, log)
    _done(started)
    started = _step("cother_retrain: quality gate on the training slice, backtest, register, promotion gate")
    retrained = test_dag("cother_retrain", {"region_set": REGION_SET, "regions": chosen}, log)
    (retrain,) = retrained["train_and_register"]
    _done(started)
    started = _step(f"cother_retrain: the {WEEKLY_SET} set, 1 to 4 weeks ahead")
    (weekly,) = test_dag("cother_retrain", {"region_set": WEEKLY_SET, "regions": []}, log)["train_and_register"]
    _done(started)

    print("\nPer region: rows published in this run, and the latest forecasts")
    print("\n".join(region_table(ingest, retrain)))
    print("\nRows per table")
    for table, count in table_rows().items():
        print(f"  {table:<32} {count:>7}")
    (weekly_validated,) = weekly_ingest["cases.validate"]
    print(
        f"\nThe {WEEKLY_SET} set: {len(weekly_validated['passed'])} countries and areas published; model"
        f" {weekly['model_name']} version {weekly['version']} ({weekly['alias']}: {weekly['decision']})."
    )
    print(
        f"Its forecasts of the {len(WEEKLY.horizons)} weeks after {WEEKLY_INGEST['end_date']},"
        f" for the {WEEKLY_SHOWN} largest last weeks:"
    )
    print("\n".join(weekly_table(weekly)))
    print("\nValidation (Great Expectations), one run per batch, a verdict per region")
    for kind in ("weather", "cases"):
        (validated,) = ingest[f"{kind}.validate"]
        failed = ", ".join(sorted(validated["failed"])) or "none"
        print(
            f"  {validated['suite']:<32} {len(validated['passed'])} regions passed, failed: {failed}"
            f"  validation {validated['validation_id']}"
        )
    validations = retrain["validations"]
    windows = sorted({v["window"] for v in validations})
    rows = sum(v["rows"] for v in validations)
    print(f"  {'fct_training_features':<32} {len(validations)} regions passed, {rows} rows {', '.join(windows)}")
    print("\ndbt build, one line per model and tested source")
    for line in transform["dbt_node"]:
        print(f"  {line}")
    print(f"\nModel {retrain['model_name']} version {retrain['version']}, trained on {retrain['training_window']}")
    folds = BacktestConfig().folds
    print(f"  rolling-origin backtest, {folds} folds (each fitted only on the days before it), mean over the folds:")
    print(f"  {'horizon':<8} {'forecaster':<16} {'MAE':>7} {'MASE':>6}")
    for row in retrain["backtest"]:
        if row["mae"] is None:
            print(f"  {row['horizon']:<8} {row['forecaster']:<16} not scored: its weather variables are missing")
        else:
            print(f"  {row['horizon']:<8} {row['forecaster']:<16} {row['mae']:>7.1f} {row['mase']:>6.2f}")
    print(f"  {retrain['alias']}: {retrain['decision']}")
    horizons = " and ".join(DAILY.label(horizon) for horizon in DAILY.horizons)
    print(f"  its forecasts ({horizons}): {retrain['forecasts_written']} rows in marts.fct_forecasts,")
    print(
        f"  their {len(QUANTILE_LEVELS)} quantiles each: {retrain['quantiles_written']} rows in marts.fct_forecast_quantiles"
    )
    champion = registry.champion_version(retrain["model_name"])
    if champion is None:
        print("\nNo version has beaten the naive forecasters yet: there is no champion to load.")
        return
    print(f'\nChampion: version {champion}. Load it with: mlflow.pyfunc.load_model("{retrain["model_uri"]}")')
    print(
        f"  (MLflow tracking URI: `cother db url --database mlflow`; or `cother predict --region seoul --date {END}`)"
    )
