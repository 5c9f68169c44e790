"""The backtest's quantile forecasts scored as the forecast hubs score them: per row, the weighted interval
score (WIS) with its parts and whether the actual fell in the 50 % and 95 % intervals, for the model
(`intervals.by_level` around its point) and the hubs' baseline (`intervals.baseline` around persistence);
per horizon, their means and the model's WIS relative to the baseline's.

Each fold's quantiles are calibrated on the folds before it (cother_ml.intervals.backtest_quantiles), so
the first fold has none and is not scored. The per-row columns travel with the version's backtest
artifact: the next retrain's promotion gate compares a champion's WIS on the days it shares with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cother_ml.intervals import QUANTILE_LEVELS, backtest_quantiles
from cother_ml.publication import INTERVALS
from cother_ml.quantile_scores import covered, relative_wis, weighted_interval_score

WIDTHS = {"50": 0.5, "95": 0.95}  # the central intervals whose coverage is reported, by name
PARTS = ("wis", "dispersion", "overprediction", "underprediction")
# what is scored, from which backtest column, with which intervals: the model's as its forecasts get them,
# persistence's as a naive forecaster's (the hubs' baseline)
SCORED = {"model": ("model", INTERVALS["model"]), "baseline": ("persistence", INTERVALS["naive"])}


def wis_column(name: str) -> str:
    return f"{name}_wis"


def scored(backtest: pd.DataFrame) -> pd.DataFrame:
    """The backtest with, per row and for the model and the baseline, the WIS and its parts
    (`model_wis`, `model_dispersion`, ...) and whether the actual fell in each central interval
    (`model_covered_50`, `model_covered_95`: 1.0 or 0.0); NaN where the row has no quantiles (the first
    fold) or no actual."""
    actual = backtest["actual"].to_numpy(dtype=float)
    columns = {}
    for name, (point, method) in SCORED.items():
        quantiles = backtest_quantiles(backtest, point, method)
        known = np.isfinite(quantiles).all(axis=1) & np.isfinite(actual)
        scores = weighted_interval_score(actual, quantiles, QUANTILE_LEVELS)
        for part in PARTS:
            columns[f"{name}_{part}"] = scores[part].where(known).to_numpy()
        for label, width in WIDTHS.items():
            inside = covered(actual, quantiles, QUANTILE_LEVELS, width).astype(float)
            columns[f"{name}_covered_{label}"] = np.where(known, inside, np.nan)
    return backtest.assign(**columns)


def by_horizon(backtest: pd.DataFrame) -> list[dict]:
    """Per horizon, over the rows both the model and the baseline scored: the model's mean WIS and its
    parts, its coverage of the 50 % and 95 % intervals, the baseline's WIS and coverage, and the model's
    relative WIS (its mean WIS over the baseline's); horizons with no scored row are left out."""
    rows = backtest.dropna(subset=[wis_column(name) for name in SCORED])
    summary = []
    for horizon, group in rows.groupby("horizon", sort=True):
        figures = {part: float(group[f"model_{part}"].mean()) for part in PARTS}
        coverage = {
            f"{prefix}coverage_{label}": float(group[f"{name}_covered_{label}"].mean())
            for name, prefix in (("model", ""), ("baseline", "baseline_"))
            for label in WIDTHS
        }
        summary.append(
            {
                "horizon": int(horizon),
                "forecasts": len(group),
                **figures,
                **coverage,
                "baseline_wis": float(group["baseline_wis"].mean()),
                "relative_wis": relative_wis(group["model_wis"], group["baseline_wis"]),
            }
        )
    return summary
