"""The target transform: the log change of new cases against the anchor, the mean count of the 7 days
up to the forecast origin (the column cases_mean_7d of the row after the origin, for every horizon).

Trees cannot extrapolate beyond the levels they saw; a change relative to the recent mean holds when
counts leave the range of the training window. Pure numpy/pandas, so the registered model can carry it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

ANCHOR = "cases_mean_7d"


def same_weekday_column(horizon: int) -> str:
    """The mart column (of the row after the origin) with the latest count of the target's weekday
    known at the origin: lag 7 for the next day, lag 1 (the origin itself) seven days ahead."""
    return f"cases_lag_{7 * math.ceil(horizon / 7) - horizon + 1}"


def to_target(actual: pd.Series, anchor: pd.Series) -> pd.Series:
    return np.log1p(actual) - np.log1p(anchor)


def from_target(anchor, log_change) -> np.ndarray:
    return np.expm1(np.log1p(np.asarray(anchor, dtype=float)) + np.asarray(log_change, dtype=float)).clip(min=0)


DERIVED = ["anchor", "target_day_of_week", "same_weekday"]  # what for_horizon adds to a mart row


def for_horizon(rows: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Mart rows (each the day after a forecast origin) as the horizon's model and the naive forecasters
    read them: with the anchor, the weekday of the target day (h - 1 days after the row's own day) and
    the latest count of that weekday."""
    return rows.assign(
        anchor=rows[ANCHOR],
        target_day_of_week=(rows["day_of_week"] - 1 + horizon - 1) % 7 + 1,
        same_weekday=rows[same_weekday_column(horizon)],
    )
