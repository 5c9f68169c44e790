"""Evaluation by time only: the last part of the labelled rows is the holdout, never seen in training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.baselines import BASELINES
from ml.forecaster import NextDayForecaster

HOLDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class HoldoutScore:
    train_start: str
    train_end: str
    holdout_start: str
    holdout_end: str
    mae: dict[str, float]  # forecaster name -> MAE on the holdout ("model", "persistence", "seasonal_naive")

    @property
    def best_baseline(self) -> tuple[str, float]:
        return min(((name, mae) for name, mae in self.mae.items() if name != "model"), key=lambda item: item[1])

    @property
    def beats_baselines(self) -> bool:
        return self.mae["model"] < self.best_baseline[1]


def split_by_time(rows: pd.DataFrame, fraction: float = HOLDOUT_FRACTION) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = rows.sort_values("date_day")
    cut = int(len(rows) * (1 - fraction))
    return rows.iloc[:cut], rows.iloc[cut:]


def mean_absolute_error(actual: pd.Series, forecast) -> float:
    return float(np.mean(np.abs(actual.to_numpy() - np.asarray(forecast, dtype=float))))


def holdout_score(rows: pd.DataFrame, features: list[str]) -> HoldoutScore:
    train, holdout = split_by_time(rows)
    model = NextDayForecaster(features).fit(train)
    mae = {"model": mean_absolute_error(holdout["new_cases"], model.predict(holdout))}
    for name, baseline in BASELINES.items():
        mae[name] = mean_absolute_error(holdout["new_cases"], baseline(holdout))
    day = "%Y-%m-%d"
    return HoldoutScore(
        train_start=train["date_day"].min().strftime(day),
        train_end=train["date_day"].max().strftime(day),
        holdout_start=holdout["date_day"].min().strftime(day),
        holdout_end=holdout["date_day"].max().strftime(day),
        mae=mae,
    )
