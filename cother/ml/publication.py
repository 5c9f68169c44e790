"""Which forecaster answers for a region and horizon, in one place for the retrain's forecasts, the
registered model and `cother predict`.

A horizon publishes the forecaster that won its latest backtest folds (the model, or the naive
forecaster that beat it: cother.ml.promotion.published). A region the version did not train on (fewer
than MIN_TRAINING_DAYS labelled days in its training slice: quarantined over its window, or added since)
is forecast by the horizon's best naive forecaster instead, and marked so: the model never saw its
level or its habits. Pure pandas, so the registered model can carry it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cother.ml.baselines import NAIVE

MIN_TRAINING_DAYS = 28  # a region with fewer labelled days in the slice is not one the model learnt


def trained_regions(rows: pd.DataFrame) -> list[str]:
    """The regions of a training slice (labelled rows) with at least MIN_TRAINING_DAYS days."""
    days = rows.groupby("region").size()
    return sorted(days[days >= MIN_TRAINING_DAYS].index)


def in_training(regions: pd.Series, trained: list[str] | None) -> pd.Series:
    """Per row, whether the version trained on the row's region (trained None: a version that recorded
    no trained regions, registered before this rule, answers for every region as trained)."""
    return pd.Series(True, index=regions.index) if trained is None else regions.isin(trained)


def forecaster_names(regions: pd.Series, published: str, best_naive: str, trained: list[str] | None) -> pd.Series:
    """Per row, the name of the forecaster of one horizon: the published one for a region the version
    trained on, the best naive forecaster for another."""
    return pd.Series(published, index=regions.index).where(in_training(regions, trained), best_naive)


def forecast(rows: pd.DataFrame, names: pd.Series, model: Callable[[pd.DataFrame], np.ndarray]) -> np.ndarray:
    """Each row's forecast by its forecaster: `model` for the rows named "model", the naive forecaster
    of that name for the others."""
    values = np.full(len(rows), np.nan)
    for name in names.unique():
        at = (names == name).to_numpy()
        values[at] = model(rows[at]) if name == "model" else NAIVE[name](rows[at]).to_numpy(dtype=float)
    return values
