"""The weather question, answered at every retrain: does the model forecast better with the weather
features than without them, on the same backtest origins?

Per horizon, the MAE with and without the weather and the Diebold-Mariano test of equal accuracy
(Diebold and Mariano 1995) on the absolute-error loss differential, with the small-sample correction
of Harvey, Leybourne and Newbold (1997) and a Student t with n - 1 degrees of freedom. With several
regions, the loss differential of a day is the mean over the regions forecast that day, so the test
runs on one series of consecutive target days (the folds are consecutive blocks of days).

A test that cannot be computed (too few days, the two forecasts' errors equally large every day, a
long-run variance that is not positive) gives a named reason, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

SIGNIFICANCE = 0.05
KEYS = ["horizon", "region", "target_date"]


@dataclass(frozen=True)
class DieboldMariano:
    statistic: float | None  # the corrected statistic; negative: the first forecast's errors are smaller
    p_value: float | None  # two-sided
    days: int
    reason: str | None = None  # why there is no statistic


def min_days(horizon: int) -> int:
    """The fewest days the test is run on: the autocovariances up to lag h - 1 and a positive
    correction factor need n >= 2h - 1; a t with n - 1 degrees of freedom needs n >= 2; ask for 2h, and 3."""
    return max(3, 2 * horizon)


def dm_from_differential(differential, horizon: int) -> DieboldMariano:
    """The Diebold-Mariano test on a loss differential d_t (in time order): d̄ / sqrt(V / n) with
    V = γ0 + 2 Σ_{k=1}^{h-1} γk, γk = (1/n) Σ_{t>k} (d_t - d̄)(d_{t-k} - d̄), times the
    Harvey-Leybourne-Newbold factor sqrt((n + 1 - 2h + h(h - 1)/n) / n); p from t(n - 1), two-sided."""
    d = np.asarray(differential, dtype=float)
    n = len(d)
    if n < min_days(horizon):
        return DieboldMariano(None, None, n, f"too few days: {n} (at least {min_days(horizon)} for horizon {horizon})")
    if not np.isfinite(d).all():
        return DieboldMariano(None, None, n, "a missing or infinite error")
    if np.allclose(d, 0.0):
        return DieboldMariano(None, None, n, "equal absolute errors on every day")
    mean = d.mean()
    centred = d - mean
    autocovariances = [float(centred[k:] @ centred[: n - k]) / n for k in range(horizon)]
    variance = autocovariances[0] + 2 * sum(autocovariances[1:])
    if variance <= 1e-12 * max(1.0, mean**2):
        return DieboldMariano(None, None, n, f"long-run variance not positive ({variance:.3g})")
    statistic = float(mean) / math.sqrt(variance / n)
    statistic *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    from scipy.stats import t  # scipy: a dependency of lightgbm

    return DieboldMariano(statistic, float(2 * t.sf(abs(statistic), df=n - 1)), n)


def diebold_mariano(errors_a, errors_b, horizon: int) -> DieboldMariano:
    """Whether forecast a is as accurate as forecast b, from their errors on the same days (in time
    order), with the absolute-error loss differential d_t = |e_a,t| - |e_b,t|."""
    return dm_from_differential(
        np.abs(np.asarray(errors_a, dtype=float)) - np.abs(np.asarray(errors_b, dtype=float)), horizon
    )


def compare(with_weather: pd.DataFrame, without_weather: pd.DataFrame) -> list[dict]:
    """Per horizon, the model's backtest forecasts with the weather against those without it on the
    same rows (horizon, region, target_date, actual, model each): the MAE of each, their difference
    (with minus without: negative when the weather helps), the Diebold-Mariano statistic and p-value,
    the days tested, and a reason where there is no statistic."""
    both = with_weather[[*KEYS, "actual", "model"]].merge(
        without_weather[[*KEYS, "model"]], on=KEYS, suffixes=("_with", "_without"), validate="one_to_one"
    )
    both = both.dropna(subset=["actual", "model_with", "model_without"])
    rows = []
    for horizon, group in both.groupby("horizon", sort=True):
        error_with = (group["actual"] - group["model_with"]).abs()
        error_without = (group["actual"] - group["model_without"]).abs()
        daily = (error_with - error_without).groupby(group["target_date"]).mean().sort_index()
        test = dm_from_differential(daily.to_numpy(), int(horizon))
        mae_with, mae_without = float(error_with.mean()), float(error_without.mean())
        rows.append(
            {
                "horizon": int(horizon),
                "mae_with": round(mae_with, 3),
                "mae_without": round(mae_without, 3),
                "difference": round(mae_with - mae_without, 3),
                "dm_statistic": None if test.statistic is None else round(test.statistic, 4),
                "p_value": None if test.p_value is None else round(test.p_value, 4),
                "days": test.days,
                "reason": test.reason,
            }
        )
    return rows


def reading(row: dict) -> str:
    """One line: which way the weather moves the MAE, and whether that is significant at 5 %."""
    if row["p_value"] is None:
        return f"horizon {row['horizon']}: no test: {row['reason']}"
    way = "lowers" if row["difference"] < 0 else "raises"
    significant = "significant" if row["p_value"] < SIGNIFICANCE else "not significant"
    return (
        f"horizon {row['horizon']}: the weather {way} the MAE by {abs(row['difference']):.1f}"
        f" ({row['mae_with']:.1f} with, {row['mae_without']:.1f} without; DM {row['dm_statistic']:.2f},"
        f" p = {row['p_value']:.3f}, {row['days']} days): {significant} at 5 %"
    )
