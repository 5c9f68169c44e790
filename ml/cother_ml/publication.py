"""Which forecaster answers for a region and horizon, in one place for the retrain's forecasts, the
registered model and `cother predict`: a version's `Publication`, which the retrain builds from its
backtest (cother_ml.fitting.Fitted.publication), writes its forecasts with and registers in the model's
model_config, where the registered model reads it back (cother_ml.pyfunc_model).

A horizon publishes the forecaster that won its latest backtest folds (the model, or the naive
forecaster that beat it: cother_ml.promotion.published). A region the version did not train on (fewer
than MIN_TRAINING_DAYS labelled days in its training slice: quarantined over its window, or added since)
is forecast by the horizon's best naive forecaster instead, and marked so: the model never saw its
level or its habits. Each forecast's quantiles at the hubs' levels follow its forecaster (`quantiles`).
Pure pandas, so the registered model can carry it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cother_ml import intervals
from cother_ml.baselines import NAIVE

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


@dataclass(frozen=True)
class Publication:
    """A version's forecaster per horizon and region: per horizon, `published` (the winner of its latest
    backtest folds) for a region it trained on, `best_naive` for another; `trained`: the regions it
    trained on (None: a version registered before they were recorded, trained on every region)."""

    published: dict[int, str]
    best_naive: dict[int, str]
    trained: list[str] | None

    @classmethod
    def of_backtest(cls, choices: dict[int, dict], trained: list[str]) -> Publication:
        """From each horizon's choice on the backtest (cother_ml.promotion.published) and the trained regions."""
        published = {horizon: choice["forecaster"] for horizon, choice in choices.items()}
        return cls(published, {horizon: choice["best_naive"] for horizon, choice in choices.items()}, trained)

    @classmethod
    def of_config(cls, model_config: dict) -> Publication:
        """As a registered version recorded it (config()). A version registered before the naive forecasters
        were published recorded none: the model answers every horizon."""
        published = {int(horizon): name for horizon, name in model_config.get("published", {}).items()}
        best_naive = {int(horizon): name for horizon, name in model_config.get("best_naive", {}).items()}
        return cls(published, best_naive, model_config.get("trained_regions"))

    def config(self) -> dict:
        """What a registered version records of it in its model_config (JSON: the horizons as text)."""
        return {
            "published": {str(horizon): name for horizon, name in self.published.items()},
            "best_naive": {str(horizon): name for horizon, name in self.best_naive.items()},
            "trained_regions": self.trained,
        }

    def names(self, regions: pd.Series, horizon: int) -> pd.Series:
        """Per row, the name of the horizon's forecaster for the row's region."""
        published = self.published.get(horizon, "model")
        return forecaster_names(regions, published, self.best_naive.get(horizon, published), self.trained)

    def in_training(self, regions: pd.Series) -> pd.Series:
        return in_training(regions, self.trained)

    def forecast(
        self, rows: pd.DataFrame, horizon: int, model: Callable[[pd.DataFrame], np.ndarray]
    ) -> tuple[pd.Series, np.ndarray]:
        """Each row's forecaster of the horizon (names()) and its forecast (`model`: the horizon's model)."""
        names = self.names(rows["region"], horizon)
        return names, forecast(rows, names, model)


# the intervals of a forecast by who made it: the model's by the level of its point (the method
# bench/retrain.py intervals kept); a naive forecaster's as the hubs' baseline (the region's recent changes
# over the horizon, symmetrised)
INTERVALS = {"model": intervals.by_level, "naive": intervals.baseline}


def intervals_of(forecaster: str) -> intervals.Method:
    """The intervals of a forecaster's forecasts (INTERVALS): the model's, or any naive forecaster's."""
    return INTERVALS["model" if forecaster == "model" else "naive"]


def quantiles(backtest: pd.DataFrame, rows: pd.DataFrame, names: pd.Series) -> np.ndarray:
    """Each row's quantiles at the hubs' levels (cother_ml.intervals.QUANTILE_LEVELS, one column each)
    around its forecast (rows: region, origin_date, horizon, forecast; `names`: each row's forecaster),
    calibrated on the backtest rows known at its origin: INTERVALS["model"] where the model made it,
    INTERVALS["naive"] where a naive forecaster did, so that a naive forecaster's forecast has intervals
    the way the hubs' baseline has (its median is the forecast itself). NaN where nothing is known: a
    region with no backtest row and a naive forecaster, or no backtest row known at the origin."""
    values = np.full((len(rows), len(intervals.QUANTILE_LEVELS)), np.nan)
    groups = pd.DataFrame(
        {"horizon": rows["horizon"].to_numpy(), "origin": rows["origin_date"].to_numpy(), "name": names.to_numpy()}
    )
    for (_, _, name), positions in groups.groupby(["horizon", "origin", "name"]).indices.items():
        values[positions] = intervals.quantiles(backtest, rows.iloc[positions], "forecast", intervals_of(name))
    return values
