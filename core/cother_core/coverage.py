"""The day-coverage check columns a suite judges row by row: the ingest gate's batches
(cother.quality.batch_checks) and the retrain's training slice (cother_ml.slice_gate) carry them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

SUNDAY = 7  # isoweekday: the day a week of a weekly source ends on


def reporting_days(first_day: date, last_day: date, step_days: int = 1) -> list[date]:
    """The days of first_day..last_day a source has a row for: every day, or every Sunday (step_days 7)."""
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    return days if step_days == 1 else [day for day in days if day.isoweekday() == SUNDAY]


def with_days(
    frame: pd.DataFrame,
    first_day: date,
    last_day: date,
    date_column: str = "date",
    step_days: int = 1,
    gaps: Sequence[date] = (),
) -> pd.DataFrame:
    """The day-coverage check columns, against the range first_day..last_day but for the source's gaps
    (days its payload has for no place at all)."""
    days = pd.to_datetime(frame[date_column])
    expected = [day for day in reporting_days(first_day, last_day, step_days) if day not in gaps]
    checked = frame.assign(
        check_days_of_region=frame.groupby("region")["region"].transform("size").astype("int64"),
        check_days_expected=len(expected),
        check_in_requested_range=(days.dt.date >= first_day) & (days.dt.date <= last_day),
    )
    if step_days > 1:
        checked["check_on_reporting_day"] = days.dt.dayofweek + 1 == SUNDAY  # pandas counts Monday 0, isoweekday 1
    return checked
