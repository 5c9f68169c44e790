"""The next-day forecaster: LightGBM on level-free features, predicting the log change against last week."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.target import from_target, to_target

PARAMS = {
    "n_estimators": 300,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 10,
    "subsample": 1.0,
    "random_state": 0,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 1,
    "verbose": -1,
}


class NextDayForecaster:
    def __init__(self, features: list[str], params: dict | None = None) -> None:
        self.features = features
        self.params = {**PARAMS, **(params or {})}
        self.model: lgb.LGBMRegressor | None = None

    def fit(self, frame: pd.DataFrame) -> NextDayForecaster:
        self.model = lgb.LGBMRegressor(**self.params).fit(frame[self.features], to_target(frame))
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Forecast counts for mart rows (the features and the anchor, cases_lag_7)."""
        if self.model is None:
            raise RuntimeError("the forecaster is not fitted")
        return from_target(frame, self.model.predict(frame[self.features]))

    def feature_importance(self) -> dict[str, int]:
        return dict(zip(self.features, (int(v) for v in self.model.feature_importances_), strict=True))
