"""What every forecaster is scored beside, on the same examples: the naive forecasters, and the 2021
project's model (LightGBM on 7 weather variables, predicting the count itself)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from cother_ml.features import WEATHER_FEATURES
from cother_ml.target import same_weekday_column

# Every naive forecaster, by name; a grain (cother_ml.grain) scores and publishes some of them.
NAIVE = {
    "persistence": lambda examples: examples["cases_lag_1"],  # the count of the origin's day (or week)
    "seasonal_naive": lambda examples: examples["same_weekday"],  # the latest count of the target's weekday
    "mean_7d": lambda examples: examples["cases_mean_7d"],  # the mean of the 7 days up to the origin
    "mean_4w": lambda examples: examples["cases_mean_4w"],  # the mean of the 4 weeks up to the origin
}
# per naive forecaster, the mart column it reads for a horizon (in days)
NAIVE_INPUTS = {
    "persistence": lambda horizon: "cases_lag_1",
    "seasonal_naive": same_weekday_column,
    "mean_7d": lambda horizon: "cases_mean_7d",
    "mean_4w": lambda horizon: "cases_mean_4w",
}
# the 2021 project's 7 weather variables: all the mart's but pressure and sunshine
PROJECT_2021_FEATURES = [column for column in WEATHER_FEATURES if not column.startswith(("pressure", "sunshine"))]
PROJECT_2021_INPUTS = [*PROJECT_2021_FEATURES, "actual"]  # what it reads of its training rows


def project_2021(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """The 2021 student project's model, refitted on `train`: the count from the weather alone. Null
    where a test day has no weather, and everywhere if the training days have none."""
    train = train.dropna(subset=PROJECT_2021_FEATURES)
    forecast = np.full(len(test), np.nan)
    has_weather = test[PROJECT_2021_FEATURES].notna().all(axis=1).to_numpy()
    if len(train) >= 30 and has_weather.any():
        model = lgb.LGBMRegressor(n_estimators=200, random_state=0, deterministic=True, n_jobs=1, verbose=-1)
        model.fit(train[PROJECT_2021_FEATURES], train["actual"])
        forecast[has_weather] = model.predict(test.loc[has_weather, PROJECT_2021_FEATURES])
    return forecast
