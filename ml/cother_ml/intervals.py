"""Quantile forecasts at the forecast hubs' 23 levels, from point forecasts and the backtest's
out-of-sample errors (the frame of cother_ml.backtest: region, origin_date, target_date, horizon, actual,
fold, model and the naive forecasters).

The quantiles of a forecast are calibrated per horizon on the backtest rows known at the forecasts'
first origin (`known_at`: those whose target day had passed by then; all but `log_baseline` only those
of the last RECENT_DAYS), so a fold's intervals read only the folds before it, as a live forecast's read
the end of the backtest. They are counts: never below zero, rounded, sorted so that no two levels cross.

- `by_level` (the model's, kept): the point forecast moved on the log scale by the quantiles of the
  errors log1p(actual) - log1p(model) of the forecasts of its level (its decade: below 9, 9 to 98, ...,
  from 99,999; all the errors for a decade with fewer than MIN_BIN_ERRORS), centred on their median, so
  the median is the point itself. Conformal prediction by groups (Mondrian) on the log scale.
- `pooled` (compared): the point moved by the quantiles of every recent error as they are, split-conformal
  on the log scale.
- `baseline`: the hubs' baseline, for the naive forecaster persistence: the last count plus the quantiles
  of the region's past changes over the horizon (actual - persistence), symmetrised (each change and its
  negative), so its median is the last count.
- `log_baseline`: the same with the region's log changes over the horizon, every one known, moving the
  last count on the log scale.

Why these, measured on bench/retrain.py's quarters (the model's mean WIS over the baseline's: the 17
provinces at 1 and 7 days, the weekly world set at 1 and 4 weeks):

- `pooled` carries the bias of the recent errors into the next quarter, and the bias turns with the
  epidemic: calibrated on the rise of Omicron (the model under-forecasts a rise), its 7-day 50 % interval
  held 16 % of 2022Q2's falling counts in the provinces (`by_level`'s 46 %), and its 4-week WIS on the
  weekly set was above the baseline's. Centring the quantiles on the point removes that. It also pools
  every level, while a count's relative noise falls as it grows: the wide log errors of the weekly set's
  small countries widen the intervals of the large ones, which weigh most in the WIS. `by_level`
  separates them. It loses to `pooled` at 1 and 2 weeks on the weekly set and wins at every other
  horizon. Symmetrising the errors as well (dropping their skew) was worse on the weekly set; scaling
  each region's errors by its spread of log changes was unstable there (a region that rarely moves makes
  outliers that a region that often does multiplies).
- the baseline's changes are over the horizon, not one step summed over it as the hubs' baseline draws
  them: the changes over the horizon are what that sum estimates without taking the steps as
  independent, and on a daily set they compare the same weekdays, where a sum of 7 day-to-day changes
  would add the weekly reporting cycle 7 times over. Differences of counts, as the hubs' baseline takes
  them, fail on a series whose level moves a hundredfold (the provinces' from 2021 to 2022) unless they
  are recent: over every change known, its 50 % interval held 18 % of the provinces' counts, over the
  last RECENT_DAYS 45 %. Log changes fail on a series with weeks of no count (a weekly reporter's 0 then
  5,000 is a log change of 8.5, and its negative makes an upper quantile of millions): the model's
  relative WIS on the weekly set is 0.26 to 0.42 against `log_baseline`, 0.80 to 0.89 against `baseline`.
- the errors are the recent ones: with every error known (back to 2021's lower counts and wider relative
  errors), the provinces' 50 % intervals held 59 % and 57 % of the counts at 1 and 7 days, and the WIS
  was 5 % higher.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

RECENT_DAYS = 91  # the backtest errors and changes that calibrate the intervals: those of the last 13 weeks known
LEVEL_BINS = 6  # the decades of a point forecast that `by_level` tells apart, the last open-ended
MIN_BIN_ERRORS = 50  # a decade with fewer known errors takes the quantiles of all of them
# the forecast hubs' levels: 0.01, 0.025, 0.05 to 0.95 by 0.05, 0.975, 0.99
QUANTILE_LEVELS = np.round(np.concatenate([[0.01, 0.025], np.arange(1, 20) * 0.05, [0.975, 0.99]]), 3)

# (the known backtest rows of one horizon, the rows to forecast, their point forecasts) -> their quantiles
# before rounding, one column per level
Method = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], np.ndarray]


def log_change(actual: pd.Series, forecast: pd.Series) -> pd.Series:
    return np.log1p(actual.astype(float)) - np.log1p(forecast.astype(float))


def moved(point: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each row's point moved by its offsets (one per level) on the log scale."""
    return np.expm1(np.log1p(point)[:, None] + offsets)


def as_counts(values: np.ndarray) -> np.ndarray:
    """Quantiles as non-negative counts, sorted (this module's methods give them in order already; the
    sort holds the contract for any method whose levels may cross, as separately fitted quantile models')."""
    return np.sort(np.round(np.clip(values, 0, None)), axis=1)


def known_at(backtest: pd.DataFrame, horizon: int, origin: pd.Timestamp) -> pd.DataFrame:
    """The backtest rows of a horizon whose actual was known at a forecast origin, with an actual."""
    rows = backtest[(backtest["horizon"] == horizon) & (backtest["target_date"] <= origin)]
    return rows.dropna(subset=["actual"])


def recent(known: pd.DataFrame) -> pd.DataFrame:
    """The known rows of the last RECENT_DAYS target days."""
    return known[known["target_date"] > known["target_date"].max() - pd.Timedelta(days=RECENT_DAYS)]


def pooled(known: pd.DataFrame, rows: pd.DataFrame, point: np.ndarray) -> np.ndarray:
    known = recent(known)
    errors = log_change(known["actual"], known["model"])
    return moved(point, np.quantile(errors, QUANTILE_LEVELS)[None, :])


def level(point) -> np.ndarray:
    """The decade of each point forecast: 0 below 9, 1 from 9 to 98, ..., LEVEL_BINS - 1 from there on."""
    return np.clip(np.floor(np.log10(np.asarray(point, dtype=float) + 1)), 0, LEVEL_BINS - 1).astype(int)


def centred(errors: np.ndarray) -> np.ndarray:
    """The errors' quantiles at every level, less their median."""
    return np.quantile(errors, QUANTILE_LEVELS) - np.median(errors)


def by_level(known: pd.DataFrame, rows: pd.DataFrame, point: np.ndarray) -> np.ndarray:
    known = recent(known)
    errors = log_change(known["actual"], known["model"]).to_numpy()
    known_level, row_level = level(known["model"]), level(point)
    offsets = np.empty((len(point), len(QUANTILE_LEVELS)))
    for decade in np.unique(row_level):
        in_decade = errors[known_level == decade]
        offsets[row_level == decade] = centred(in_decade if len(in_decade) >= MIN_BIN_ERRORS else errors)
    return moved(point, offsets)


def symmetrised(changes: pd.Series, known: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Per row, the quantiles of its region's known changes and their negatives; NaN for a region with none."""
    by_region = {
        region: np.quantile(np.concatenate([change, -change]), QUANTILE_LEVELS)
        for region, change in changes.groupby(known["region"])
    }
    missing = np.full(len(QUANTILE_LEVELS), np.nan)
    return np.array([by_region.get(region, missing) for region in rows["region"]]).reshape(len(rows), -1)


def baseline(known: pd.DataFrame, rows: pd.DataFrame, point: np.ndarray) -> np.ndarray:
    known = recent(known)
    changes = (known["actual"] - known["persistence"]).astype(float)
    return point[:, None] + symmetrised(changes, known, rows)


def log_baseline(known: pd.DataFrame, rows: pd.DataFrame, point: np.ndarray) -> np.ndarray:
    changes = log_change(known["actual"], known["persistence"])
    return moved(point, symmetrised(changes, known, rows))


def quantiles(backtest: pd.DataFrame, rows: pd.DataFrame, point: str, method: Method) -> np.ndarray:
    """The quantiles of `rows` (one horizon; their `point` column is the point forecast), calibrated on the
    backtest rows known at their first origin; NaN where none is known."""
    known = known_at(backtest, int(rows["horizon"].iloc[0]), rows["origin_date"].min())
    if known.empty:
        return np.full((len(rows), len(QUANTILE_LEVELS)), np.nan)
    return as_counts(method(known, rows, rows[point].to_numpy(dtype=float)))


def backtest_quantiles(backtest: pd.DataFrame, point: str, method: Method) -> np.ndarray:
    """The quantiles of every backtest forecast of `point` (the model, or persistence with `baseline`),
    each fold's calibrated on the folds before it: one row per backtest row, NaN in the first fold."""
    result = np.full((len(backtest), len(QUANTILE_LEVELS)), np.nan)
    for positions in backtest.groupby(["horizon", "fold"]).indices.values():
        result[positions] = quantiles(backtest, backtest.iloc[positions], point, method)
    return result


METHODS: dict[str, Method] = {"by_level": by_level, "pooled": pooled}  # the model's, the kept one first
