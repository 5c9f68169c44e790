"""The per-row check columns a batch of many regions carries into its suite, so that one Great
Expectations run gives a verdict per region: every rule is judged row by row, and a failing row
names its region.

- check_days_of_region / check_days_expected: the rows of the row's region, and how many days it must
  have (every day of the range, once; a weekly source: every Sunday of the range, once, but for a Sunday
  the file has for no country at all: a gap of the source, Source.gaps);
- check_in_requested_range: the row's day lies in the range asked for; check_on_reporting_day (weekly
  sources): the row's day is a Sunday, the day a week of WHO's weekly file ends on;
- weather: for each raw column a weather feature of the model comes from, check_days_with_<column> and
  check_share_with_<column>: the days of the row's region that have it, and their share of the range's
  days (the suites warn, naming the column, when it is empty for the whole batch or present on too few
  days; the batch still publishes: a region without wind is trained with its wind missing);
- cases, for each cumulative count: check_<count>_before, the count of the day before (in the batch,
  or the last one already published), which a count below it is a correction of (severity warn: the
  day publishes and the fall is recorded by dbt in fct_case_revisions); check_<count>_floor, half of
  the highest count reported before (from FLOOR_FROM on), below which a count has lost most of itself
  and cannot be true (severity error, held back alone: the day, or the cell of a count the model does
  not read); check_daily_increase and check_within_recent_range (a day's increase far above the
  region's recent maximum is flagged, severity warn).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from psycopg2 import sql

from cother_core.coverage import with_days
from cother_core.database import connect
from cother_core.warehouse import table_identifier

if TYPE_CHECKING:  # the gate reads a source's description; it never calls a source
    from cother.ingest.sources import Source

RECENT_ROWS = 28  # the rows a spike is judged against: 28 days, or 28 weeks of a weekly source
SPIKE_FACTOR = 3.0  # flagged when a row's increase exceeds 3x the largest of the RECENT_ROWS before it
SPIKE_FLOOR = 100  # ... and exceeds 100 cases: small counts jump by large factors
# A cumulative count that falls below half of its highest earlier value has lost most of itself: not a
# correction (the largest real one in the bundled Johns Hopkins series takes Benin's 339 to 130, 62 %;
# the next largest, France's 64,452 to 47,376, 26 %), but a count gone to zero or a broken row. Counts
# below FLOOR_FROM are too small for a share to mean much (Guyana's 20 went to 5 in March 2020).
KEPT_SHARE = 0.5
FLOOR_FROM = 100


def with_weather_days(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The weather completeness columns of a batch with the day-coverage ones (with_days)."""
    by_region = frame.groupby("region", sort=False)
    checks = {}
    for column in columns:
        days = by_region[column].transform("count").astype("int64")
        checks[f"check_days_with_{column}"] = days
        checks[f"check_share_with_{column}"] = (days / frame["check_days_expected"]).round(3)
    return frame.assign(**checks)


def _cumulative_counts(source: Source) -> list[str]:
    """The cumulative count columns the checks read: the one checked for spikes and every increasing one."""
    return list(dict.fromkeys([source.cumulative_column, *source.increasing_columns]))


def _published_before(source: Source, regions: list[str], first_day: date) -> pd.DataFrame:
    """The cumulative counts already published in the RECENT_ROWS + 1 rows (days, or weeks) before the batch."""
    columns = _cumulative_counts(source)
    selected = sql.SQL(", ").join(sql.SQL("{}::double precision").format(sql.Identifier(c)) for c in columns)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (source.raw_table,))
        if not cur.fetchone()[0]:
            return pd.DataFrame(columns=["region", "date", *columns])
        cur.execute(
            sql.SQL(
                "select region, date, {} from {} where source = %s and region = any(%s)"
                " and date between %s and %s order by region, date"
            ).format(selected, table_identifier(source.raw_table)),
            (
                source.name,
                regions,
                first_day - timedelta(days=(RECENT_ROWS + 1) * source.step_days),
                first_day - timedelta(days=1),
            ),
        )
        return pd.DataFrame(cur.fetchall(), columns=["region", "date", *columns])


def with_checks(
    source: Source, frame: pd.DataFrame, first_day: date, last_day: date, gaps: Sequence[date] = ()
) -> pd.DataFrame:
    """The batch (sorted by region and date) with every check column its suite reads."""
    checked = with_days(frame, first_day, last_day, step_days=source.step_days, gaps=gaps)
    if source.weather_columns:
        checked = with_weather_days(checked, list(source.weather_columns.values()))
    if not source.cumulative_column:
        return checked
    published = _published_before(source, sorted(checked["region"].unique()), first_day)
    counts = _cumulative_counts(source)
    series = pd.concat(
        [
            published.assign(in_batch=False),
            checked[["region", "date", *counts]].astype({c: "float64" for c in counts}).assign(in_batch=True),
        ],
        ignore_index=True,
    )
    in_batch = series["in_batch"].to_numpy()
    by_region = series.groupby("region", sort=False)
    for column in source.increasing_columns:
        highest = by_region[column].transform(lambda values: values.cummax().shift(1))
        checked[f"check_{column}_before"] = by_region[column].shift(1)[in_batch].to_numpy()
        checked[f"check_{column}_floor"] = (highest * KEPT_SHARE).where(highest >= FLOOR_FROM)[in_batch].to_numpy()
    daily = by_region[source.cumulative_column].diff()
    recent_max = daily.groupby(series["region"], sort=False).transform(
        lambda increases: increases.shift(1).rolling(RECENT_ROWS, min_periods=7).max()
    )
    limit = (recent_max * SPIKE_FACTOR).clip(lower=SPIKE_FLOOR)
    checked["check_daily_increase"] = daily[in_batch].to_numpy()
    checked["check_within_recent_range"] = ~(daily > limit)[in_batch].to_numpy()
    return checked
