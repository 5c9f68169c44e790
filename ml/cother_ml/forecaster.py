"""The forecaster: per horizon, one LightGBM over all regions (the region is a categorical feature),
predicting the log change of new cases against the horizon's anchor (ml/cother_ml/target.py: the mean of the
last week for the next day; the same-weekday count with a damped trend, and a shrunk change, a week ahead;
the mean of the last 4 weeks for a weekly set).

Fitting leaves out the days whose anchor is below `min_level` (at a handful of cases a log change is
noise) and weighs each day by its age, halving every `half_life_days` (ForecasterConfig): the epidemic
changes, recent weeks say more about the next one. Where a horizon has a `level_weight`, each day also
weighs its anchor to that power: the error of a log change then costs a large region more than a small
one, as it does in a pooled MAE (a weekly set's 2 to 4 weeks ahead, ml/cother_ml/grain.py). The absolute
error is the loss, as MAE is the score."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from cother_ml.target import ANCHORING, Anchoring, to_target

PARAMS = {
    "objective": "l1",
    "n_estimators": 300,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 10,
    "subsample": 1.0,
    "extra_trees": True,  # random split thresholds: on bench/retrain.py's quarters, lower MAE at both horizons
    "random_state": 0,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 1,
    "verbose": -1,
}


@dataclass(frozen=True)
class ForecasterConfig:
    min_level: float = 30
    half_life_days: float = 365
    level_weight: dict[int, float] = field(default_factory=dict)  # per horizon, the anchor's power in a row's weight
    params: dict = field(default_factory=lambda: dict(PARAMS))  # LightGBM's


def model_input(
    frame: pd.DataFrame, features: list[str], regions: list[str], rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The feature columns as the booster reads them: floats, and the region as a category whose
    codes are fixed by the configured regions (so a loaded model reads them the same way). Of the
    `rows` of the frame (a boolean mask) when given, of all when None: the floats are written into one
    block column by column, the only copy made of the frame."""
    taken = slice(None) if rows is None else rows
    numeric = [column for column in features if column != "region"]
    index = frame.index[taken]
    floats = np.empty((len(index), len(numeric)), order="F")
    for position, column in enumerate(numeric):
        floats[:, position] = frame[column].to_numpy(dtype="float64", na_value=np.nan)[taken]
    columns = pd.DataFrame(floats, index=index, columns=numeric, copy=False)
    if "region" in features:
        columns.insert(0, "region", pd.Categorical(frame["region"].to_numpy()[taken], categories=regions))
    return columns[features]


class Forecaster:
    def __init__(
        self,
        horizon: int,
        features: list[str],
        regions: list[str],
        config: ForecasterConfig = ForecasterConfig(),
        anchoring: Anchoring = ANCHORING,
    ) -> None:
        self.horizon = horizon
        self.features = features
        self.regions = sorted(regions)
        self.config = config
        self.anchoring = anchoring
        self.model: lgb.LGBMRegressor | None = None

    def fit(self, examples: pd.DataFrame, selected: pd.Series | None = None) -> Forecaster:
        """Fit on the examples, or on those `selected` (a mask: a backtest fold's training rows); of their
        features the booster's input (model_input) is the only copy made, beside their target day, anchor
        and count."""
        kept = examples["anchor"] >= self.config.min_level
        kept = (kept if selected is None else kept & selected).to_numpy()
        if not kept.any():
            raise ValueError(
                f"forecaster h{self.horizon}: no training row has an anchor of {self.config.min_level:g} cases or more"
            )
        rows = examples.loc[kept, ["target_date", "anchor", "actual"]]
        age_days = (rows["target_date"].max() - rows["target_date"]).dt.days.to_numpy()
        level = rows["anchor"].to_numpy() ** self.config.level_weight.get(self.horizon, 0)
        self.model = lgb.LGBMRegressor(**self.config.params).fit(
            model_input(examples, self.features, self.regions, kept),
            to_target(rows["actual"], rows["anchor"]),
            sample_weight=0.5 ** (age_days / self.config.half_life_days) * level,
        )
        return self

    def predict(self, examples: pd.DataFrame) -> np.ndarray:
        """Forecast counts for examples (their features and anchor)."""
        if self.model is None:
            raise RuntimeError("the forecaster is not fitted")
        log_change = self.model.predict(model_input(examples, self.features, self.regions))
        return self.anchoring.forecast(examples, log_change, self.horizon)

    def feature_importance(self) -> dict[str, int]:
        return dict(zip(self.features, (int(v) for v in self.model.feature_importances_), strict=True))
