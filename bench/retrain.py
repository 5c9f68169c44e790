"""Retraining benchmarks, in the benchmarks' own runtime (.runtime/bench, port 55434):

1. Training plus backtest (8 folds, both horizons, every baseline refitted, and the model without the
   weather features on the same folds) for Seoul over the bundled period, with weather (target: under
   20 s), the weather test per horizon (MAE with and without, Diebold-Mariano), and the whole retrain
   with registration.
2. The same for 17 regions x 3 years of bundled case counts (2020-02-17..2023-02-16, weather off:
   the bundle has Seoul's weather for one year only), one global model.
3. Model quality for Seoul: for each quarter 2021Q1..2023Q2, the forecaster (one model over all
   regions, weather off) fitted once on the days before the quarter, its next-day MAE on Seoul beside
   persistence and seasonal naive (targets: below the better of the two in every quarter; on average
   at most 0.8 of it). The counts go through the ingestion gate in yearly batches. A batch the gate
   refuses (the real series have revisions: Seoul's 2023 deaths fall to 0 on 10 days) is quarantined
   and, here only, published past the gate, since the forecaster reads confirmed counts; the table
   marks the quarters that needed it.

Run: .venv/bin/python bench/retrain.py
"""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
from bench_runtime import empty_warehouse, load  # sets the runtime before anything imports cother

from cother.core.regions import get_set
from cother.ingest.sources.sample import bundled_period
from cother.local import postgres
from cother.ml.backtest import Fold, backtest, scores
from cother.ml.features import examples, examples_by_horizon, feature_columns, labelled
from cother.ml.fitting import Fitted, TrainingConfig, fit
from cother.ml.forecaster import Forecaster
from cother.ml.retrain import retrain
from cother.ml.storage import load_mart
from cother.ml.weather_effect import reading
from cother.transform import dbt

QUARTERS = pd.period_range("2021Q1", "2023Q2", freq="Q")


def train_and_backtest(mart: pd.DataFrame, weather: bool) -> tuple[float, Fitted]:
    """Seconds to backtest and refit both horizons (with weather, the model without it backtested too),
    and what the fit returned."""
    started = time.perf_counter()
    fitted = fit(examples_by_horizon(mart), get_set("korea").ids, TrainingConfig(weather=weather))
    return time.perf_counter() - started, fitted


def print_weather_test(fitted: Fitted) -> None:
    """Per horizon, the model with the weather against the model without it on the same backtest days."""
    print("  does the weather help? the model without the weather features on the same folds:")
    for row in fitted.weather_effect:
        print(f"    {reading(row)}")


def seoul_bundled_period() -> None:
    empty_warehouse()
    start, end = bundled_period()
    for source in ("sample_weather", "sample_cases"):
        load(source, ["seoul"], start, end)
    dbt.build()
    seconds, fitted = train_and_backtest(load_mart(["seoul"]), weather=True)
    print(
        f"Seoul {start}..{end}, with weather: training plus backtest, and the backtest without weather,"
        f" {seconds:.1f} s (target: under 20 s)"
    )
    print_weather_test(fitted)
    started = time.perf_counter()
    retrain("korea", ["seoul"], moved_by="bench")
    print(
        f"  the whole retrain (backtest, refit, plots, card, register, gate, forecasts): {time.perf_counter() - started:.1f} s"
    )


def seventeen_regions_three_years() -> None:
    empty_warehouse()
    regions = get_set("korea").ids
    years = [(date(2020, 2, 17), date(2021, 2, 16)), (date(2021, 2, 17), date(2022, 2, 16))]
    years.append((date(2022, 2, 17), date(2023, 2, 16)))
    for start, end in years:  # one batch of every province per year: a revision quarantines one year of one
        load("sample_cases", regions, start, end)
    dbt.build()
    mart = load_mart(regions)
    rows = labelled(examples(mart, 1))
    seconds, _ = train_and_backtest(mart, weather=False)
    print(
        f"{rows['region'].nunique()} regions, {len(rows):,} labelled region-days: training plus backtest {seconds:.1f} s"
    )


def seoul_by_quarter() -> None:
    empty_warehouse()
    regions = get_set("korea").ids
    years = [(date(year, 1, 1), date(year, 12, 31)) for year in (2020, 2021, 2022)]
    years = [(date(2020, 2, 17), date(2020, 12, 31)), *years[1:], (date(2023, 1, 1), date(2023, 6, 30))]
    refused = set()
    for start, end in years:  # yearly batches: a revision quarantines one year of one region, not all
        if "seoul" in load("sample_cases", regions, start, end, past_the_gate=True)["failed"]:
            refused |= set(pd.period_range(start, end, freq="Q"))
    dbt.build()
    frames = {1: examples(load_mart(regions), 1)}
    windows = [Fold(n, quarter.start_time, quarter.end_time.normalize()) for n, quarter in enumerate(QUARTERS, 1)]
    features = feature_columns(weather=False)
    forecasts = backtest(frames, lambda horizon: Forecaster(horizon, features, get_set("korea").ids), windows=windows)
    mae = scores(forecasts.query("region == 'seoul'")).pivot(index="fold", columns="forecaster", values="mae")
    print("Seoul, next-day MAE per quarter; one model over all regions, fitted once on the days before the quarter:")
    print(f"  {'quarter':<8} {'model':>8} {'persistence':>12} {'seasonal':>9} {'ratio':>6}")
    ratios = []
    for n, quarter in enumerate(QUARTERS, 1):
        row = mae.loc[n]
        ratios.append(row["model"] / min(row["persistence"], row["seasonal_naive"]))
        mark = "  * its batch was published past the gate" if quarter in refused else ""
        print(
            f"  {quarter!s:<8} {row['model']:>8.1f} {row['persistence']:>12.1f} {row['seasonal_naive']:>9.1f}"
            f" {ratios[-1]:>6.2f}{mark}"
        )
    beaten = sum(ratio < 1 for ratio in ratios)
    print(
        f"  below the better naive forecaster in {beaten} of {len(ratios)} quarters (target: all);"
        f" mean ratio {sum(ratios) / len(ratios):.2f} (target: at most 0.8)"
    )


if __name__ == "__main__":
    postgres.start()
    try:
        seoul_bundled_period()
        seventeen_regions_three_years()
        seoul_by_quarter()
    finally:
        postgres.stop()
