"""The registered model: the LightGBM booster plus the target transform, as an MLflow pyfunc.

Input: rows of marts.fct_training_features (the model's features and cases_lag_7, the anchor).
Output: the forecast of new cases for each row's date_day. Imports nothing from the platform but
ml.target, so `models:/<name>@champion` loads wherever mlflow, lightgbm and pandas are installed.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from ml.target import from_target


class CasesForecastModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        import lightgbm as lgb

        self.booster = lgb.Booster(model_file=context.artifacts["booster"])
        self.features = list(context.model_config["features"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = model_input.astype({column: "float64" for column in [*self.features, "cases_lag_7"]})
        log_change = self.booster.predict(frame[self.features])
        return pd.DataFrame({"forecast_new_cases": from_target(frame, log_change)})
