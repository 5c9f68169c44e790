"""The model's edge to the warehouse: what it reads (the training-features mart, the batches behind it,
a submission's quantiles) and what it writes (its forecasts to ml.forecasts, their quantiles to
ml.forecast_quantiles and their surge warnings to ml.surge_warnings, every move of an alias to
ml.model_promotions).
The rest of cother_ml takes and returns frames."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from psycopg2 import sql
from psycopg2.extras import execute_values

from cother_core.database import connect
from cother_core.settings import get_settings
from cother_core.warehouse import ensure_warehouse, table_identifier
from cother_ml.intervals import QUANTILE_LEVELS


def load_mart(regions: list[str] | None = None, mart: str = "marts.fct_training_features") -> pd.DataFrame:
    """The rows of a features mart (a grain's, cother_ml.grain) of these regions (all when None), ordered
    by region and day. Read with COPY, as CSV parsed by pandas: rows fetched as Python objects took about
    ten times the frame's memory."""
    buffer = io.BytesIO()
    with connect() as conn, conn.cursor() as cur:
        query = sql.SQL("select * from {}").format(table_identifier(mart)).as_string(conn)
        if regions is None:
            selected = cur.mogrify(query + " order by region, date_day")
        else:
            selected = cur.mogrify(query + " where region = any(%s) order by region, date_day", (list(regions),))
        cur.copy_expert(b"copy (" + selected + b") to stdout with (format csv, header)", buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype={"region": str}, true_values=["t"], false_values=["f"])
    frame["date_day"] = pd.to_datetime(frame["date_day"])
    numeric = [column for column in frame.columns if column not in {"region", "date_day", "is_forecast_row"}]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


CURRENT_BATCHES = "select distinct batch_id from {table} where region = any(%s) and date between %s and %s"


def batches_read(regions: list[str], start, end) -> list[dict]:
    """The published batches whose rows the raw tables hold for these regions and days, with the
    validation that let each one through."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select distinct raw_table from raw.batch_log order by raw_table")
        current = set()
        for (raw_table,) in cur.fetchall():
            query = sql.SQL(CURRENT_BATCHES).format(table=table_identifier(raw_table))
            cur.execute(query, (list(regions), start, end))
            current.update(batch_id for (batch_id,) in cur.fetchall())
        cur.execute(
            "select batch_id, source, region, raw_table, start_date::text, end_date::text, validation_id"
            " from raw.batch_log where batch_id = any(%s) order by raw_table, region, start_date",
            (sorted(current),),
        )
        keys = ["batch_id", "source", "region", "raw_table", "start", "end", "validation_id"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


# a version's forecasts, their quantiles and their surge warnings: replaced together
REPLACED = [
    "delete from ml.forecasts where model_name = %s and model_version = %s",
    "delete from ml.forecast_quantiles where model_name = %s and model_version = %s",
    "delete from ml.surge_warnings where model_name = %s and model_version = %s",
]
INSERT_QUANTILES = """
insert into ml.forecast_quantiles
    (model_name, model_version, region, origin_date, target_date, horizon_days, quantile_level, quantile_value)
values %s
"""
INSERT_SURGE_WARNINGS = """
insert into ml.surge_warnings
    (model_name, model_version, region, origin_date, target_date, horizon_days, surge_threshold, surge_probability,
    warning_level, is_warned)
values %s
"""
INSERT_FORECAST = """
insert into ml.forecasts
    (model_name, model_version, region, origin_date, target_date, horizon_days, forecast_new_cases, model_alias,
    forecaster, region_in_training)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def reporting_cadences(regions: list[str]) -> dict[str, int]:
    """How many of these regions report their cases each way now (marts.dim_region: daily, few_cases,
    weekly, irregular; unknown before 28 days of data)."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select coalesce(reporting_cadence, 'unknown'), count(*) from marts.dim_region where region = any(%s)"
            " group by 1 order by 2 desc, 1",
            (list(regions),),
        )
        return dict(cur.fetchall())


def write_forecasts(
    model_name: str, version: str, alias: str, forecasts: pd.DataFrame, quantiles: np.ndarray, warnings: pd.DataFrame
) -> dict:
    """Replace this version's forecasts (region, origin_date, target_date, horizon, forecast, forecaster,
    region_in_training), their quantiles (a row of `quantiles` per forecast, a column per level of
    cother_ml.intervals.QUANTILE_LEVELS; a forecast with none calibrated has none written) and their
    surge warnings (a row of `warnings` per forecast: threshold, probability, level, warned; NaN written
    as null) in one transaction, so a retried task writes each once; returns the rows written of each."""
    ensure_warehouse()
    rows = [
        (model_name, version, row.region, row.origin_date.date(), row.target_date.date(), int(row.horizon))
        + (float(row.forecast), alias, row.forecaster, bool(row.region_in_training))
        for row in forecasts.itertuples()
    ]
    levels = [float(level) for level in QUANTILE_LEVELS]
    quantile_rows = [
        (*key[:6], level, float(value))
        for key, values in zip(rows, quantiles, strict=True)
        if np.isfinite(values).all()
        for level, value in zip(levels, values, strict=True)
    ]
    warning_rows = [
        (*key[:6], *(None if np.isnan(value) else float(value) for value in figures), bool(warned))
        for key, *figures, warned in zip(
            rows, warnings["threshold"], warnings["probability"], warnings["level"], warnings["warned"], strict=True
        )
    ]
    with connect() as conn, conn.cursor() as cur:
        for statement in REPLACED:
            cur.execute(statement, (model_name, version))
        cur.executemany(INSERT_FORECAST, rows)
        execute_values(cur, INSERT_QUANTILES, quantile_rows, page_size=5000)
        execute_values(cur, INSERT_SURGE_WARNINGS, warning_rows, page_size=5000)
    return {"forecasts": len(rows), "quantiles": len(quantile_rows), "surge_warnings": len(warning_rows)}


# One origin's quantiles of the version last promoted to champion among those that forecast from it.
SUBMISSION_QUANTILES = """
with

promoted as (
    select moves.model_version::integer as model_version
    from ml.model_promotions as moves
    where
        moves.model_name = %(model)s
        and moves.alias_name = 'champion'
        and exists (
            select 1 from marts.fct_forecast_quantiles as made
            where
                made.model_name = moves.model_name
                and made.model_version = moves.model_version::integer
                and made.origin_date = %(origin)s
        )
    order by moves.id desc
    limit 1
)

select
    quantiles.model_version,
    quantiles.region,
    quantiles.origin_date,
    quantiles.date_day,
    quantiles.horizon_days,
    quantiles.quantile_level::double precision,
    quantiles.quantile_value
from marts.fct_forecast_quantiles as quantiles
inner join promoted on quantiles.model_version = promoted.model_version
where quantiles.model_name = %(model)s and quantiles.origin_date = %(origin)s
order by quantiles.region, quantiles.horizon_days, quantiles.quantile_level
"""


def submission_quantiles(model_name: str, origin) -> pd.DataFrame:
    """The quantile forecasts from this origin (model_version, region, origin_date, date_day, horizon_days,
    quantile_level, quantile_value) of the version last promoted to champion among those that made
    forecasts from it (ml.model_promotions, marts.fct_forecast_quantiles); empty if none did."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(SUBMISSION_QUANTILES, {"model": model_name, "origin": origin})
        columns = [column.name for column in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def record_move(model_name: str, alias: str, version: str, previous: str | None, moved_by: str, reason: str, metrics):
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ml.model_promotions (model_name, alias_name, model_version, previous_model_version,"
            " moved_by, reason, metrics) values (%s, %s, %s, %s, %s, %s, %s)",
            (model_name, alias, version, previous, moved_by, reason, json.dumps(metrics or {})),
        )


def last_move(model_name: str, alias: str) -> tuple[str, str | None] | None:
    """(version, previous version) of the latest move of `alias`, or None."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select model_version, previous_model_version from ml.model_promotions"
            " where model_name = %s and alias_name = %s order by id desc limit 1",
            (model_name, alias),
        )
        return cur.fetchone()


def moves(model_name: str, limit: int) -> list[dict]:
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select moved_at, alias_name, model_version, previous_model_version, moved_by, reason"
            " from ml.model_promotions where model_name = %s order by id desc limit %s",
            (model_name, limit),
        )
        keys = ["moved_at", "alias", "version", "previous", "moved_by", "reason"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


# Per region and horizon, the version's latest alert, if its stretch ended less than `days` days before
# the last day the version was scored on there: a version still worse alerts again once a whole new
# stretch is scored, so an older alert means it has not been worse since.
FIELD_FLAGS = """
select distinct on (alert.region, alert.horizon_days)
    alert.region,
    alert.horizon_days,
    alert.stretch_start::text || '..' || alert.stretch_end::text,
    alert.scored_days,
    alert.mae,
    alert.persistence_mae
from ml.field_accuracy_alerts as alert
inner join marts.fct_forecast_accuracy as scored
    on alert.model_name = scored.model_name and alert.model_version = scored.model_version::text
        and alert.region = scored.region and alert.horizon_days = scored.horizon_days
where alert.model_name = %(model)s and alert.model_version = %(version)s
group by alert.region, alert.horizon_days, alert.stretch_start, alert.stretch_end, alert.scored_days, alert.mae,
    alert.persistence_mae
having alert.stretch_end > max(scored.date_day) - %(days)s
order by alert.region, alert.horizon_days, alert.stretch_end desc
"""


def field_flags(model_name: str, version: str) -> list[dict]:
    """The field-accuracy alerts of this version that still hold (cother/transform/field_accuracy.py):
    per region and horizon, the latest stretch of scored days where it did worse than persistence, with
    both MAEs, unless COTHER_FIELD_ACCURACY_DAYS days have been scored since without a new alert."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select exists (select 1 from ml.field_accuracy_alerts where model_name = %s)", (model_name,))
        if not cur.fetchone()[0]:  # no alert, and perhaps no accuracy mart built yet
            return []
        cur.execute(FIELD_FLAGS, {"model": model_name, "version": version, "days": get_settings().field_accuracy_days})
        keys = ["region", "horizon_days", "days", "scored_days", "mae", "persistence_mae"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
