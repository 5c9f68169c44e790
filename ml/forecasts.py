"""The forecast table: at each retrain, the new version's forecasts from each region's last reported
day, for every horizon, written to ml.forecasts (dbt exposes it as marts.fct_forecasts)."""

from __future__ import annotations

import pandas as pd

from cother.database import connect
from cother.loading import ensure_warehouse

REPLACE = "delete from ml.forecasts where model_name = %s and model_version = %s"
INSERT = """
insert into ml.forecasts
    (model_name, model_version, region, origin_date, target_date, horizon_days, forecast_new_cases, model_alias)
values (%s, %s, %s, %s, %s, %s, %s, %s)
"""


def rows(examples: pd.DataFrame, values) -> list[tuple]:
    """(region, origin date, target date, horizon, forecast) for examples and their forecasts."""
    return [
        (row.region, row.origin_date.date(), row.target_date.date(), int(row.horizon), float(value))
        for row, value in zip(examples.itertuples(), values, strict=True)
    ]


def write(model_name: str, version: str, alias: str, forecasts: list[tuple]) -> int:
    """Replace this version's forecasts in one transaction; returns the rows written."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(REPLACE, (model_name, version))
        cur.executemany(INSERT, [(model_name, version, *forecast, alias) for forecast in forecasts])
    return len(forecasts)
