"""The forecast table: at each retrain, the new version's forecast for the day after each region's
last report, written to ml.forecasts (dbt exposes it as marts.fct_forecasts)."""

from __future__ import annotations

import pandas as pd

from cother.database import connect
from cother.loading import ensure_warehouse

REPLACE = "delete from ml.forecasts where model_name = %s and model_version = %s and region = %s"
INSERT = """
insert into ml.forecasts
    (model_name, model_version, region, origin_date, target_date, horizon_days, forecast_new_cases, model_alias)
values (%s, %s, %s, %s, %s, 1, %s, %s)
"""


def next_day(rows: pd.DataFrame, values) -> list[tuple]:
    """(region, origin date, target date, forecast) for forecast rows of the mart and their forecasts."""
    return [
        (row.region, (row.date_day - pd.Timedelta(days=1)).date(), row.date_day.date(), float(value))
        for row, value in zip(rows.itertuples(), values, strict=True)
    ]


def write(model_name: str, version: str, alias: str, forecasts: list[tuple]) -> int:
    """Replace this version's forecasts for these regions in one transaction; returns the rows written."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        for region in sorted({forecast[0] for forecast in forecasts}):
            cur.execute(REPLACE, (model_name, version, region))
        cur.executemany(INSERT, [(model_name, version, *forecast, alias) for forecast in forecasts])
    return len(forecasts)
