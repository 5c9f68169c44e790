"""The target transform: the log change of new cases against an anchor, per horizon.

- Next day: the anchor is the mean count of the 7 days up to the forecast origin (cases_mean_7d of
  the row after the origin), and the forecast is the anchor moved by the model's predicted change.
- Seven days ahead: the anchor is the latest count of the target's weekday (the origin's own count)
  grown by 40 % of the last week's log growth (a damped trend), and the forecast keeps 30 % of the
  model's predicted change (a shrinkage toward that anchor). A week ahead most of the model's change
  is noise: on bench/retrain.py's quarters, the full change against the 7-day mean lost to the
  same-weekday count in 7 of 10 (docs/model.md).

Trees cannot extrapolate beyond the levels they saw; a change relative to a recent level holds when
counts leave the range of the training window. Pure numpy/pandas, so the registered model can carry it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

ANCHOR = "cases_mean_7d"  # the next-day anchor
TREND = "cases_growth_7d"  # the weekly growth the 7-day anchor is grown by
ANCHOR_INPUTS = [ANCHOR, TREND]  # the mart columns the anchors read besides the same-weekday count
TREND_SHARE = {7: 0.4}  # per horizon after the next day: the share of the weekly growth in the anchor
CHANGE_KEPT = {7: 0.3}  # per horizon after the next day: the share of the model's predicted change kept


def same_weekday_column(horizon: int) -> str:
    """The mart column (of the row after the origin) with the latest count of the target's weekday
    known at the origin: lag 7 for the next day, lag 1 (the origin itself) seven days ahead."""
    return f"cases_lag_{7 * math.ceil(horizon / 7) - horizon + 1}"


def to_target(actual: pd.Series, anchor: pd.Series) -> pd.Series:
    return np.log1p(actual) - np.log1p(anchor)


def from_target(anchor, log_change, horizon: int) -> np.ndarray:
    """The forecast count: the anchor moved by the horizon's kept share of the predicted log change."""
    kept = CHANGE_KEPT.get(horizon, 1.0) * np.asarray(log_change, dtype=float)
    return np.expm1(np.log1p(np.asarray(anchor, dtype=float)) + kept).clip(min=0)


def anchor(rows: pd.DataFrame, horizon: int) -> pd.Series:
    """The horizon's anchor of mart rows: the 7-day mean for the next day; later, the same-weekday count
    grown by TREND_SHARE of the last week's log growth."""
    if horizon not in TREND_SHARE:
        return rows[ANCHOR]
    same_weekday = np.log1p(rows[same_weekday_column(horizon)].astype("float64"))
    return np.expm1(same_weekday + TREND_SHARE[horizon] * rows[TREND].astype("float64"))


DERIVED = ["anchor", "target_day_of_week", "same_weekday"]  # what for_horizon adds to a mart row


def for_horizon(rows: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Mart rows (each the day after a forecast origin) as the horizon's model and the naive forecasters
    read them: with the anchor, the weekday of the target day (h - 1 days after the row's own day) and
    the latest count of that weekday."""
    return rows.assign(
        anchor=anchor(rows, horizon),
        target_day_of_week=(rows["day_of_week"] - 1 + horizon - 1) % 7 + 1,
        same_weekday=rows[same_weekday_column(horizon)],
    )
