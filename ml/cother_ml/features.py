"""The examples each forecast horizon learns from, out of the training-features mart's rows.

The features are computed once, in dbt (marts.fct_training_features, a row per day of a daily set;
marts.fct_training_features_weekly, a row per Sunday of a weekly set): each row holds what is known at
the end of the period before it. A forecast made at an origin reads the row of the period after it;
for a horizon of h days its target is the count h - step days after that row (step: the days between
two rows, cother_ml.grain). This module only pairs those rows (cother_ml.storage.load_mart reads them)
with their targets; the model uses the level-free features (log ratios of lags, growth, the growth of
the region's whole set, calendar, weather) and the region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from cother_ml.grain import Grain

# marts.fct_training_features (daily sets)
CASE_FEATURES = [
    *(f"cases_log_ratio_lag_{lag}" for lag in range(1, 15) if lag != 7),
    "cases_growth_7d",
    "cases_growth_7d_previous",
    "cases_log_ratio_lag_1_to_mean_7d",
    "cases_weekly_cycle_1",
    "cases_weekly_cycle_2",
    "cases_weekly_cycle_3",
    "cases_weekly_cycle_mean",
    "cases_day_change_lag_7",
    "cases_day_change_lag_14",
    "cases_volatility_7d",
    # the growth of the region's whole set on the same day: the regions lead and lag each other
    "region_set_growth_7d",
    "region_set_growth_7d_previous",
    "region_set_growth_3d",
    "region_set_log_ratio_lag_1_to_mean_7d",
]
CALENDAR_FEATURES = [
    "day_of_week",
    "target_day_of_week",
    "day_type",
    *(f"day_type_lag_{lag}" for lag in (1, 2, 7, 8)),
    "is_holiday_lag_1",
    "is_holiday_lag_8",
    "holidays_last_7d",
    "holidays_previous_7d",
]
# The canonical weather (int_weather__daily_canonical) the model reads, each as the previous day's value
WEATHER_COLUMNS = [
    "temperature_mean_c",
    "temperature_min_c",
    "temperature_max_c",
    "precipitation_mm",
    "wind_speed_mean_ms",
    "relative_humidity_mean_pct",
    "pressure_msl_hpa",
    "sunshine_hours",
    "cloud_cover_mean_pct",
]
WEATHER_FEATURES = [f"{column}_lag_1" for column in WEATHER_COLUMNS]
# marts.fct_training_features_weekly (weekly sets): lags in weeks, against the last week
WEEKLY_CASE_FEATURES = [
    *(f"cases_log_ratio_lag_{lag}" for lag in range(2, 9)),
    "cases_growth_1w",
    "cases_growth_4w",
    "cases_log_ratio_lag_1_to_mean_4w",
    "cases_volatility_4w",
    "region_set_growth_1w",
    "region_set_growth_4w",
    "region_set_log_ratio_lag_1_to_mean_4w",
]


def examples(mart: pd.DataFrame, horizon: int, grain: Grain) -> pd.DataFrame:
    """One row per forecast origin and region: the mart row of the period after the origin, with the
    horizon's target day, the actual count there (null if not reported yet), and the anchor."""
    by_region = mart.groupby("region", sort=False)
    rows_ahead = horizon // grain.step_days - 1
    target_day = by_region["date_day"].shift(-rows_ahead)
    ahead = pd.Timedelta(days=horizon - grain.step_days)
    if not (target_day.isna() | (target_day - mart["date_day"] == ahead)).all():
        raise ValueError(f"{grain.mart}: the rows of a region are not {grain.step_days} day(s) apart")
    return grain.anchoring.for_horizon(mart, horizon).assign(
        horizon=horizon,
        origin_date=mart["date_day"] - pd.Timedelta(days=grain.step_days),
        target_date=mart["date_day"] + ahead,
        actual=by_region["new_cases"].shift(-rows_ahead),
    )


def examples_by_horizon(mart: pd.DataFrame, grain: Grain) -> dict[int, pd.DataFrame]:
    """The examples of every horizon of the grain; the mart itself is not kept."""
    return {horizon: examples(mart, horizon, grain) for horizon in grain.horizons}


def has_label(frame: pd.DataFrame, grain: Grain) -> pd.Series:
    """Which examples have a target, an anchor and a full lag history: what training and evaluation may use."""
    return frame[["actual", "anchor", *grain.case_features]].notna().all(axis=1)


def labelled(frame: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """The examples that have a label (has_label), as a frame of their own."""
    return frame[has_label(frame, grain)].reset_index(drop=True)


def upcoming(frame: pd.DataFrame) -> pd.DataFrame:
    """Per region, the example of the latest origin (the day of the last report) that has an anchor and
    a count on the origin day itself: a region whose last day has none (a fall, a glitch, a weekly or
    irregular reporter's day: int_cases__daily_from_cumulative) is not forecast from it."""
    rows = frame[frame["is_forecast_row"]].dropna(subset=["anchor", "cases_lag_1"])
    return rows.reset_index(drop=True)
