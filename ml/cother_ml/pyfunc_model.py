"""The registered model: one LightGBM booster per horizon plus the target transform, as an MLflow pyfunc.

Input: rows of the set's features mart (cother_ml.grain), each the day (or week) after a forecast origin
(the model's features, region, the columns the anchors read and the lags the naive forecasters read).
Output: per row, the forecast of new cases for each horizon of h days, in `forecast_new_cases_h<h>` (the
target day is the row's date_day + h - 1, or + h - 7 for a weekly set's row): the model's, or, for a horizon where the model did not beat the best naive
forecaster on its latest backtest folds, that forecaster's (model_config["published"]); for a region
the version did not train on (model_config["trained_regions"]), the horizon's best naive forecaster's
(model_config["best_naive"]): the retrain's forecasts and the pyfunc's answers both ask the version's
cother_ml.publication.Publication, which these keys record. Beside each horizon's forecast, its quantiles at
the forecast hubs' 23 levels in `forecast_new_cases_h<h>_q<level>` (`_q0.01` .. `_q0.99`), by its forecaster
(cother_ml.publication.quantiles) and calibrated as at the version's registration, on the last weeks of
its backtest (the `calibration` artifact); a version registered before it carried one answers points
only. The model's forecasts use the anchoring the
version learnt against (model_config["anchoring"], cother_ml.target), not the current code's: the
registry may run an older version with newer code. Imports nothing from the platform but cother_ml
(forecaster, target, baselines, publication), so `models:/<name>@champion` loads wherever mlflow,
lightgbm and pandas are installed.
"""

from __future__ import annotations

from functools import partial

import mlflow.pyfunc
import numpy as np
import pandas as pd

from cother_ml import forecaster, publication
from cother_ml.intervals import QUANTILE_LEVELS
from cother_ml.target import Anchoring

OUTPUT_PREFIX = "forecast_new_cases_h"
CALIBRATION = "calibration"  # the artifact: the backtest rows its quantiles are calibrated on (Fitted.calibration)


def output_column(horizon: int) -> str:
    return f"{OUTPUT_PREFIX}{horizon}"


def quantile_column(horizon: int, level: float) -> str:
    return f"{output_column(horizon)}_q{level:g}"


class CasesForecastModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.load(context.artifacts, context.model_config)

    def load(self, artifacts: dict[str, str], model_config: dict) -> CasesForecastModel:
        import lightgbm as lgb

        self.features = list(model_config["features"])
        self.regions = list(model_config["regions"])
        horizons = [int(h) for h in model_config["horizons"]]
        self.boosters = {h: lgb.Booster(model_file=artifacts[f"booster_h{h}"]) for h in horizons}
        self.publication = publication.Publication.of_config(model_config)
        self.anchoring = Anchoring.of_version(model_config)
        self.calibration = None  # a version registered before its quantiles answers points only
        if CALIBRATION in artifacts:
            dates = ["origin_date", "target_date"]
            self.calibration = pd.read_csv(artifacts[CALIBRATION], parse_dates=dates, dtype={"region": str})
        return self

    def model_forecast(self, rows: pd.DataFrame, horizon: int) -> np.ndarray:
        """The horizon's booster's forecast of rows with their anchor (Anchoring.for_horizon)."""
        log_change = self.boosters[horizon].predict(forecaster.model_input(rows, self.features, self.regions))
        return self.anchoring.forecast(rows, log_change, horizon)

    def quantiles(self, regions: pd.Series, names: pd.Series, point: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
        """The quantile columns of a horizon's forecasts, calibrated on the whole `calibration` (as a
        forecast made after the backtest's last day is)."""
        as_of = self.calibration["target_date"].max()
        rows = pd.DataFrame({"region": regions.to_numpy(), "origin_date": as_of, "horizon": horizon, "forecast": point})
        values = publication.quantiles(self.calibration, rows, names)
        return {quantile_column(horizon, level): values[:, i] for i, level in enumerate(QUANTILE_LEVELS)}

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        forecasts = {}
        for horizon in self.boosters:
            rows = self.anchoring.for_horizon(model_input, horizon)
            model = partial(self.model_forecast, horizon=horizon)
            names, point = self.publication.forecast(rows, horizon, model)
            forecasts[output_column(horizon)] = point
            if self.calibration is not None:
                forecasts |= self.quantiles(rows["region"], names, point, horizon)
        return pd.DataFrame(forecasts, index=model_input.index)
