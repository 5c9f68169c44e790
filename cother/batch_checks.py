"""Checks of a cases batch against what is already published: the columns and parameters its suite needs.

A cumulative count may not fall below the last value published before the batch (a revision across
batches), and a day's increase far above the region's recent maximum is flagged (severity warn).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from psycopg2 import sql

from cother.database import connect
from cother.landing import LandedBatch
from cother.loading import table_identifier
from cother.sources import Source

RECENT_DAYS = 28
SPIKE_FACTOR = 3.0  # flagged when the day's increase exceeds 3x the largest of the previous 28 days
SPIKE_FLOOR = 100  # ... and exceeds 100 cases: small counts jump by large factors
CHECK_COLUMNS = ["check_daily_increase", "check_within_recent_range"]


def _published_before(source: Source, batch: LandedBatch) -> pd.Series:
    start = batch.first_day
    column = sql.Identifier(source.cumulative_column)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (source.raw_table,))
        if not cur.fetchone()[0]:
            return pd.Series(dtype="float64")
        cur.execute(
            sql.SQL(
                "select date, {} from {} where source = %s and region = %s and date between %s and %s order by date"
            ).format(column, table_identifier(source.raw_table)),
            (batch.source, batch.region, start - timedelta(days=RECENT_DAYS + 1), start - timedelta(days=1)),
        )
        rows = cur.fetchall()
    return pd.Series([value for _, value in rows], index=[day for day, _ in rows], dtype="float64")


def with_checks(source: Source, batch: LandedBatch, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The batch with its check columns, and the suite parameters; unchanged for sources without a cumulative count."""
    if not source.cumulative_column:
        return frame, {}
    published = _published_before(source, batch)
    batch_values = pd.Series(frame[source.cumulative_column].astype("float64").to_numpy(), index=list(frame["date"]))
    series = pd.concat([published, batch_values])
    daily = series.diff()
    recent_max = daily.shift(1).rolling(RECENT_DAYS, min_periods=7).max()
    increase = daily.iloc[len(published) :].to_numpy()
    limit = (recent_max.iloc[len(published) :] * SPIKE_FACTOR).clip(lower=SPIKE_FLOOR).to_numpy()
    checked = frame.assign(
        check_daily_increase=increase,
        check_within_recent_range=[not (inc > lim) for inc, lim in zip(increase, limit, strict=True)],
    )
    return checked, {"published_cumulative": None if published.empty else float(published.iloc[-1])}
