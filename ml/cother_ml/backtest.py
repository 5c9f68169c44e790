"""Evaluation by time only: a rolling-origin backtest with an expanding window.

The last `folds` blocks of `fold_days` target days are the folds (BacktestConfig). For each fold the forecaster is fitted
on the examples whose target was known at the fold's first origin, and forecasts every day of the
fold from the mart rows as they were the evening before; the baselines forecast the same examples.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cother_ml.baselines import NAIVE, PROJECT_2021_INPUTS, project_2021
from cother_ml.features import has_label
from cother_ml.forecaster import Forecaster
from cother_ml.grain import Grain


@dataclass(frozen=True)
class BacktestConfig:
    folds: int = 8
    fold_days: int = 28  # fewer when the history is short
    min_train_days: int = 56  # the training days before the first fold
    workers: int = 2  # the folds fitted at once


@dataclass(frozen=True)
class Fold:
    number: int
    start: pd.Timestamp
    end: pd.Timestamp


def folds(target_dates: pd.Series, config: BacktestConfig = BacktestConfig()) -> list[Fold]:
    """The last `config.folds` blocks of consecutive target days, shorter than `config.fold_days` when the
    history is short."""
    first, last = target_dates.min(), target_dates.max()
    count = config.folds
    available = (last - first).days + 1 - config.min_train_days
    days = min(config.fold_days, available // count)
    if days < 7:
        raise ValueError(
            f"backtest: {(last - first).days + 1} days of labelled history ({first:%Y-%m-%d}..{last:%Y-%m-%d}) "
            f"are too few for {count} folds of a week after {config.min_train_days} days of training"
        )
    ends = [last - pd.Timedelta(days=days * k) for k in reversed(range(count))]
    return [Fold(n, end - pd.Timedelta(days=days - 1), end) for n, end in enumerate(ends, start=1)]


def backtest(
    examples: dict[int, pd.DataFrame],
    forecaster: Callable[[int], Forecaster],
    grain: Grain,
    config: BacktestConfig = BacktestConfig(),
    windows: list[Fold] | None = None,
    baselines: bool = True,
) -> pd.DataFrame:
    """Out-of-sample forecasts of every forecaster of the grain, one row per (horizon, region, target
    day) in a fold; the folds are the latest `config.folds` blocks unless `windows` names others.
    Without `baselines`, only the model's forecasts (a second model on the same folds). The folds are
    fitted on `config.workers` threads (LightGBM releases the GIL; each fit is single-threaded and
    deterministic, so the forecasts do not depend on the number of workers). A fold's training rows
    are a mask over the examples, not a copy of them: two folds run at once, and a copy of three years
    of the world set's rows is about 100 MiB."""
    usable = {horizon: has_label(frame, grain) for horizon, frame in examples.items()}
    first = min(examples)
    windows = windows or folds(examples[first].loc[usable[first], "target_date"], config)

    def fold_forecast(horizon: int, fold: Fold) -> pd.DataFrame | None:
        frame, target_date = examples[horizon], examples[horizon]["target_date"]
        known = usable[horizon] & (target_date <= fold.start - pd.Timedelta(days=horizon))
        test = frame[usable[horizon] & target_date.between(fold.start, fold.end)]
        if test.empty:
            return None
        forecasts = test[["region", "origin_date", "target_date", "horizon", "actual"]].assign(
            fold=fold.number, model=forecaster(horizon).fit(frame, known).predict(test)
        )
        if not baselines:
            return forecasts
        naive = {name: NAIVE[name](test).to_numpy() for name in grain.naive}
        weather = {"project_2021": project_2021(frame.loc[known, PROJECT_2021_INPUTS], test)} if grain.weather else {}
        return forecasts.assign(**naive, **weather)

    tasks = [(horizon, fold) for horizon in examples for fold in windows]
    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        forecasts = list(pool.map(lambda task: fold_forecast(*task), tasks))
    return pd.concat([forecast for forecast in forecasts if forecast is not None], ignore_index=True)


def mean_absolute_error(actual: pd.Series, forecast: pd.Series) -> float:
    return float(np.mean(np.abs(actual.to_numpy(dtype=float) - forecast.to_numpy(dtype=float))))


def metrics(actual: pd.Series, forecast: pd.Series, scale: pd.Series) -> dict[str, float]:
    """MAE, RMSE, MASE (against the `scale` forecaster on the same days: seasonal naive for a daily set,
    persistence for a weekly one) and R², over the days with a forecast."""
    known = forecast.notna()
    actual, forecast, scale = actual[known], forecast[known], scale[known]
    error = actual - forecast
    mae = mean_absolute_error(actual, forecast) if len(error) else np.nan
    naive_mae = mean_absolute_error(actual, scale) if len(error) else np.nan
    total = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))) if len(error) else np.nan,
        "mase": mae / naive_mae if naive_mae else np.nan,
        "r2": 1 - float(np.sum(error**2)) / total if total else np.nan,
        "days": int(len(error)),
    }


def scores(forecasts: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """One row per (horizon, fold, forecaster) with its metrics."""
    rows = []
    for (horizon, fold), group in forecasts.groupby(["horizon", "fold"]):
        for name in grain.forecasters:
            rows.append(
                {
                    "horizon": horizon,
                    "fold": fold,
                    "start": group["target_date"].min(),
                    "end": group["target_date"].max(),
                    "forecaster": name,
                    **metrics(group["actual"], group[name], group[grain.scale]),
                }
            )
    return pd.DataFrame(rows)


def summary(fold_scores: pd.DataFrame) -> pd.DataFrame:
    """The mean of each metric over the folds, per horizon and forecaster."""
    columns = ["mae", "rmse", "mase", "r2"]
    return fold_scores.groupby(["horizon", "forecaster"], sort=False)[columns].mean().reset_index()
