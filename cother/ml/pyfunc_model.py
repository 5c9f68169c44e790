"""The registered model: one LightGBM booster per horizon plus the target transform, as an MLflow pyfunc.

Input: rows of marts.fct_training_features, each the day after a forecast origin (the model's
features, region, day_of_week, the columns the anchors read and the lags the naive forecasters read). Output:
per row, the forecast of new cases for each horizon h, in `forecast_new_cases_h<h>` (the target day is
the row's date_day + h - 1): the model's, or, for a horizon where the model did not beat the best naive
forecaster on its latest backtest folds, that forecaster's (model_config["published"]). The model's
forecasts use the anchoring the version learnt against (model_config["anchoring"], cother.ml.target),
not the current code's: the registry may run an older version with newer code. Imports
nothing from the platform but cother.ml (forecaster, target, baselines), so `models:/<name>@champion`
loads wherever mlflow, lightgbm and pandas are installed.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from cother.ml import forecaster
from cother.ml.baselines import NAIVE
from cother.ml.target import Anchoring

OUTPUT_PREFIX = "forecast_new_cases_h"


def output_column(horizon: int) -> str:
    return f"{OUTPUT_PREFIX}{horizon}"


class CasesForecastModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.load(context.artifacts, context.model_config)

    def load(self, artifacts: dict[str, str], model_config: dict) -> CasesForecastModel:
        import lightgbm as lgb

        self.features = list(model_config["features"])
        self.regions = list(model_config["regions"])
        horizons = [int(h) for h in model_config["horizons"]]
        self.boosters = {h: lgb.Booster(model_file=artifacts[f"booster_h{h}"]) for h in horizons}
        self.published = {int(h): name for h, name in model_config.get("published", {}).items()}
        self.anchoring = Anchoring.of_version(model_config)
        return self

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        forecasts = {}
        for horizon, booster in self.boosters.items():
            rows = self.anchoring.for_horizon(model_input, horizon)
            name = self.published.get(horizon, "model")
            if name == "model":
                log_change = booster.predict(forecaster.model_input(rows, self.features, self.regions))
                forecasts[output_column(horizon)] = self.anchoring.from_target(rows["anchor"], log_change, horizon)
            else:
                forecasts[output_column(horizon)] = NAIVE[name](rows).to_numpy(dtype=float)
        return pd.DataFrame(forecasts, index=model_input.index)
