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


def relative_wis(model_wis, baseline_wis) -> float:
    """The model's mean WIS over the baseline's, on the same forecasts (pooled: each forecast weighs as
    its WIS does, so the big regions weigh most). The hubs' relative WIS is the geometric mean of a
    model's pairwise ratios of mean WIS against every other model on their common forecasts, scaled by
    the baseline's; with the model and the baseline alone it is this ratio."""
    model, baseline = np.asarray(model_wis, dtype=float), np.asarray(baseline_wis, dtype=float)
    if model.shape != baseline.shape:
        raise ValueError("relative WIS compares the same forecasts: the two arrays differ in length")
    return float(model.mean() / baseline.mean())
