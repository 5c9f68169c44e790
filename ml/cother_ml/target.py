"""The target transform: the log change of new cases against an anchor, per horizon.

- Next day: the anchor is the mean count of the 7 days up to the forecast origin (cases_mean_7d of
  the row after the origin), and the forecast is the anchor moved by the model's predicted change.
- Seven days ahead: the anchor is the latest count of the target's weekday (the origin's own count)
  grown by 40 % of the last week's log growth (a damped trend), and the forecast keeps 30 % of the
  model's predicted change (a shrinkage toward that anchor). A week ahead most of the model's change
  is noise: on bench/retrain.py's quarters, the full change against the 7-day mean lost to the
  same-weekday count in 7 of 10 (docs/model.md).

A weekly set's anchor (WEEKLY_ANCHORING) is the mean of the 4 weeks up to the origin (cases_mean_4w) at
every horizon, and its forecast keeps the whole change. One week ahead the forecast is then held near the
last week's count where that week's growth was extreme (`Anchoring.held`): beyond e-fold either way, the
median of the model's forecast, the last week and the anchor; and at any growth, a log change over the
last week of at most 70 % of the last week's own. Chosen on the quarters 2021Q1..2021Q4 (docs/model.md,
"Weekly sets").

Each registered version records the anchoring it learnt against in its model_config (`ANCHORING`,
`Anchoring.config`), and its pyfunc forecasts with that one: a version registered before the 7-day
anchor existed (it records none) keeps the 7-day mean and the whole change at every horizon
(`Anchoring()`), whatever this module's current shares are.

Trees cannot extrapolate beyond the levels they saw; a change relative to a recent level holds when
counts leave the range of the training window. Pure numpy/pandas, so the registered model can carry it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MEAN_7D = "cases_mean_7d"  # the next-day anchor
TREND = "cases_growth_7d"  # the weekly growth the 7-day anchor is grown by
DERIVED = ["anchor", "target_day_of_week", "same_weekday"]  # what for_horizon adds to a mart row


def same_weekday_column(horizon: int) -> str:
    """The mart column (of the row after the origin) with the latest count of the target's weekday
    known at the origin: lag 7 for the next day, lag 1 (the origin itself) seven days ahead."""
    return f"cases_lag_{7 * math.ceil(horizon / 7) - horizon + 1}"


def to_target(actual: pd.Series, anchor: pd.Series) -> pd.Series:
    return np.log1p(actual) - np.log1p(anchor)


@dataclass(frozen=True)
class Anchoring:
    """Per horizon: the share of the last week's log growth in the anchor (`trend_share`; a horizon
    without one is anchored on the mean column, the 7-day mean by default), and the share of the
    model's predicted change the forecast keeps (`change_kept`; all of it where none is given)."""

    trend_share: dict[int, float] = field(default_factory=dict)
    change_kept: dict[int, float] = field(default_factory=dict)
    # per horizon: beyond this absolute log growth of the last step, the median of the forecast, the last
    # count and the anchor (`held`)
    extreme_growth: dict[int, float] = field(default_factory=dict)
    # per horizon: the forecast's log change over the last count at most this share of the last step's own
    growth_bound: dict[int, float] = field(default_factory=dict)
    mean_column: str = MEAN_7D
    trend_column: str = TREND  # the log growth `held` reads (and the 7-day anchor's trend, TREND)

    def config(self) -> dict:
        """As a registered version's model_config records it (JSON: string keys)."""
        shares = {name: {str(h): share for h, share in getattr(self, name).items()} for name in SHARES}
        return {**shares, "mean_column": self.mean_column, "trend_column": self.trend_column}

    @classmethod
    def of_version(cls, model_config: dict) -> Anchoring:
        """The anchoring a registered version recorded; the 7-day mean everywhere if it recorded none."""
        recorded = model_config.get("anchoring", {})
        shares = {name: {int(h): share for h, share in recorded[name].items()} for name in SHARES if name in recorded}
        return cls(
            **shares,
            mean_column=recorded.get("mean_column", MEAN_7D),
            trend_column=recorded.get("trend_column", TREND),
        )

    def forecast(self, rows: pd.DataFrame, log_change, horizon: int) -> np.ndarray:
        """The forecast counts of rows (with their anchor) from the model's predicted log changes."""
        return self.held(rows, self.from_target(rows["anchor"], log_change, horizon), horizon)

    def held(self, rows: pd.DataFrame, forecast: np.ndarray, horizon: int) -> np.ndarray:
        """Forecasts held near the last count (cases_lag_1) after a step of extreme growth, at a horizon
        with an `extreme_growth` and a `growth_bound`: beyond the first, the median of the forecast, the
        last count and the anchor; then the log change over the last count bounded by the second times
        the last step's absolute log growth (`trend_column`). A row without that growth keeps its forecast."""
        if horizon not in self.growth_bound:
            return forecast
        last = rows["cases_lag_1"].to_numpy(dtype=float)
        growth = np.abs(rows[self.trend_column].to_numpy(dtype=float))
        anchor = rows["anchor"].to_numpy(dtype=float)
        middle = np.median(np.vstack([forecast, last, anchor]), axis=0)
        chosen = np.where(growth > self.extreme_growth[horizon], middle, forecast)
        bound = self.growth_bound[horizon] * growth
        log_last = np.log1p(last)
        bounded = np.expm1(np.clip(np.log1p(chosen), log_last - bound, log_last + bound))
        return np.where(np.isnan(growth), forecast, bounded)

    def from_target(self, anchor, log_change, horizon: int) -> np.ndarray:
        """The forecast count: the anchor moved by the horizon's kept share of the predicted log change."""
        kept = self.change_kept.get(horizon, 1.0) * np.asarray(log_change, dtype=float)
        return np.expm1(np.log1p(np.asarray(anchor, dtype=float)) + kept).clip(min=0)

    def anchor(self, rows: pd.DataFrame, horizon: int) -> pd.Series:
        """The horizon's anchor of mart rows: the 7-day mean, or the same-weekday count grown by the
        horizon's share of the last week's log growth."""
        if horizon not in self.trend_share:
            return rows[self.mean_column]
        same_weekday = np.log1p(rows[same_weekday_column(horizon)].astype("float64"))
        return np.expm1(same_weekday + self.trend_share[horizon] * rows[self.trend_column].astype("float64"))

    def for_horizon(self, rows: pd.DataFrame, horizon: int) -> pd.DataFrame:
        """Mart rows (each the period after a forecast origin) as the horizon's model and the naive
        forecasters read them: with the anchor and, for daily rows, the weekday of the target day (h - 1
        days after the row's own day) and, where the rows have it, the latest count of that weekday (a
        version registered before the naive forecasters were published takes no lags in its input)."""
        derived = {"anchor": self.anchor(rows, horizon)}
        if "day_of_week" in rows:  # a daily row
            derived["target_day_of_week"] = (rows["day_of_week"] - 1 + horizon - 1) % 7 + 1
        if "day_of_week" in rows and same_weekday_column(horizon) in rows:
            derived["same_weekday"] = rows[same_weekday_column(horizon)]
        return rows.assign(**derived)


SHARES = ("trend_share", "change_kept", "extreme_growth", "growth_bound")
ANCHORING = Anchoring(trend_share={7: 0.4}, change_kept={7: 0.3})  # what a daily set's retrain registers now
WEEKLY_ANCHORING = Anchoring(  # and a weekly set's: 1 week ahead held after extreme growth
    extreme_growth={7: 1.0}, growth_bound={7: 0.7}, mean_column="cases_mean_4w", trend_column="cases_growth_1w"
)
