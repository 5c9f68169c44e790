"""Quantile forecasts scored as the forecast hubs score them: the weighted interval score (WIS) with its
parts, the coverage of central intervals, and the WIS relative to a baseline's.

A forecast is a row of quantiles at symmetric levels around the median (0.5 and pairs τ, 1 - τ): the
pair (τ, 1 - τ) is the central interval of level 1 - α with α = 2τ. Bracher et al. (2021, PLOS Comp.
Biol. 17: e1008618):

    IS_α = (u - l) + (2/α)(l - y)·1(y < l) + (2/α)(y - u)·1(y > u)
    WIS = (1 / (K + 1/2)) · (w0·|y - m| + Σ_k w_k·IS_α_k),  w0 = 1/2, w_k = α_k / 2

with K the number of intervals and m the median. Its parts, as the hubs' evaluations report them, sum to
it: the dispersion (Σ_k w_k (u_k - l_k), the spread), the overprediction (the actual below the lower
bounds, and below the median) and the underprediction (above the upper bounds, and above the median),
each divided by K + 1/2. With these weights w_k·(2/α_k) = 1, so an interval missed by d adds d.

The coverage of counts (`count_coverage`) beside the hubs' (`covered`): a count often equals a bound of
its interval when the counts are small (a 50 % interval of 0 to 1 for a country that reports 0 or 1 a
week), and `covered` counts every such count inside, so integer quantiles of a well-calibrated forecast
of small counts cover more than their width. For count data the calibration is read on the
probability integral transform as Czado, Gneiting and Held define it for counts (2009, Biometrics 65:
1254): the actual y's PIT is uniform between F(y - 1) and F(y), and the share of that range inside the
interval's levels is the probability that the actual is in the interval. F is the forecast's CDF read
off its quantiles (`cdf`). Where no two quantiles tie (large counts) it differs from `covered` only for
a count on the interval's lower bound, whose PIT range ends at that bound's level: outside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pairs(levels: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The median's column, and the columns of each interval's lower and upper bounds (narrowest last)."""
    levels = np.asarray(levels, dtype=float)
    median = np.flatnonzero(np.isclose(levels, 0.5))
    lower = np.flatnonzero(levels < 0.5 - 1e-9)
    partners = [np.flatnonzero(np.isclose(levels, 1 - levels[k])) for k in lower]
    if len(median) != 1 or any(len(p) != 1 for p in partners) or np.sum(levels > 0.5 + 1e-9) != len(lower):
        raise ValueError(f"quantile levels must be the median and symmetric pairs around it: {levels.tolist()}")
    return int(median[0]), lower, np.array([int(p[0]) for p in partners], dtype=int)


def weighted_interval_score(actual, quantiles, levels) -> pd.DataFrame:
    """Per forecast (a row of `quantiles`, one column per level of `levels`), its WIS and the parts that
    sum to it: dispersion, overprediction, underprediction."""
    y = np.asarray(actual, dtype=float)[:, None]
    q = np.asarray(quantiles, dtype=float)
    median, lower, upper = _pairs(levels)
    alpha = 2 * np.asarray(levels, dtype=float)[lower]
    middle, low, high = q[:, median], q[:, lower], q[:, upper]
    norm = len(lower) + 0.5
    dispersion = (alpha / 2 * (high - low)).sum(axis=1)
    over = np.clip(low - y, 0, None).sum(axis=1) + 0.5 * np.clip(middle - y[:, 0], 0, None)
    under = np.clip(y - high, 0, None).sum(axis=1) + 0.5 * np.clip(y[:, 0] - middle, 0, None)
    parts = {"dispersion": dispersion / norm, "overprediction": over / norm, "underprediction": under / norm}
    return pd.DataFrame({"wis": sum(parts.values()), **parts})


def covered(actual, quantiles, levels, width: float) -> np.ndarray:
    """Whether each actual lies in its forecast's central interval of this width (0.5: between the 0.25
    and 0.75 quantiles, bounds included; 0.95: between 0.025 and 0.975)."""
    levels = np.asarray(levels, dtype=float)
    q = np.asarray(quantiles, dtype=float)
    y = np.asarray(actual, dtype=float)
    low, high = (np.flatnonzero(np.isclose(levels, level)) for level in ((1 - width) / 2, (1 + width) / 2))
    if not (len(low) and len(high)):
        raise ValueError(f"no central {width:.0%} interval among the levels {levels.tolist()}")
    return (q[:, low[0]] <= y) & (y <= q[:, high[0]])


def cdf(quantiles, values, levels) -> np.ndarray:
    """Per forecast (a row of quantiles at `levels`, in order), its CDF at its value: interpolated linearly
    between the quantiles, jumping to the highest level of a value several levels share, flat at the
    outer levels beyond them (the CDF is known only between the lowest and highest level). NaN where the
    quantiles or the value are."""
    q = np.asarray(quantiles, dtype=float)
    x = np.asarray(values, dtype=float)
    tau = np.asarray(levels, dtype=float)
    below = (q <= x[:, None]).sum(axis=1)  # the quantiles at or below the value
    upper = np.clip(below, 1, len(tau) - 1)
    rows = np.arange(len(q))
    low_q, high_q = q[rows, upper - 1], q[rows, upper]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = tau[upper - 1] + (tau[upper] - tau[upper - 1]) * (x - low_q) / (high_q - low_q)
    value = np.where(below == 0, tau[0], np.where(below == len(tau), tau[-1], inside))
    return np.where(np.isnan(q).any(axis=1) | np.isnan(x), np.nan, value)


def count_coverage(actual, quantiles, levels, width: float) -> np.ndarray:
    """Per count forecast, the probability that its actual (a count) is in its central interval of this
    width by its PIT: the share of F(y - 1)..F(y) within the interval's levels ((1 - width) / 2 to
    (1 + width) / 2). F(-1) is 0: no count is below 0. F(y - 1) = F(y) only beyond the outer quantiles,
    where F stays at the outer level: outside, unless the interval's levels are wider than those."""
    y = np.asarray(actual, dtype=float)
    low, high = np.round([(1 - width) / 2, (1 + width) / 2], 9)  # 0.1, not 0.09999999999999998
    before = np.where(y < 1, 0.0, cdf(quantiles, y - 1, levels))
    at = cdf(quantiles, y, levels)
    inside = np.clip(np.minimum(at, high) - np.maximum(before, low), 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(at > before, inside / (at - before), ((low < at) & (at < high)).astype(float))


def relative_wis(model_wis, baseline_wis) -> float:
    """The model's mean WIS over the baseline's, on the same forecasts (pooled: each forecast weighs as
    its WIS does, so the big regions weigh most). The hubs' relative WIS is the geometric mean of a
    model's pairwise ratios of mean WIS against every other model on their common forecasts, scaled by
    the baseline's; with the model and the baseline alone it is this ratio."""
    model, baseline = np.asarray(model_wis, dtype=float), np.asarray(baseline_wis, dtype=float)
    if model.shape != baseline.shape:
        raise ValueError("relative WIS compares the same forecasts: the two arrays differ in length")
    return float(model.mean() / baseline.mean())
