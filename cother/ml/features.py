"""The examples each forecast horizon learns from, out of the training-features mart's rows.

The features are computed once, in dbt (marts.fct_training_features): each row holds what is known
on the evening before its date_day. A forecast made at an origin day reads the row of the day after
the origin; for a horizon of h days its target is the count h - 1 days after that row. This module
only pairs those rows (cother.ml.storage.load_mart reads them) with their targets; the model uses
the level-free features (log ratios of lags, weekly growth, the growth of the region's whole set,
calendar, weather) and the region.
"""

from __future__ import annotations

import pandas as pd

from cother.ml.target import ANCHORING

HORIZONS = (1, 7)
HISTORY_DAYS = 21  # a day's features read this many days before it (cases_lag_21, the oldest weekly mean)
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


def feature_columns(weather: bool) -> list[str]:
    return ["region", *CASE_FEATURES, *CALENDAR_FEATURES, *(WEATHER_FEATURES if weather else [])]


def examples(mart: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One row per forecast origin and region: the mart row of the day after the origin, with the
    horizon's target day, the actual count there (null if not reported yet), and the anchor."""
    by_region = mart.groupby("region", sort=False)
    target_day = by_region["date_day"].shift(-(horizon - 1))
    ahead = pd.Timedelta(days=horizon - 1)
    if not (target_day.isna() | (target_day - mart["date_day"] == ahead)).all():
        raise ValueError("marts.fct_training_features: the days of a region are not consecutive")
    frame = ANCHORING.for_horizon(mart, horizon).assign(
        horizon=horizon,
        origin_date=mart["date_day"] - pd.Timedelta(days=1),
        target_date=mart["date_day"] + ahead,
        actual=by_region["new_cases"].shift(-(horizon - 1)),
    )
    return frame


def examples_by_horizon(mart: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The examples of every horizon; the mart itself is not kept."""
    return {horizon: examples(mart, horizon) for horizon in HORIZONS}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Examples with a target, an anchor and a full lag history: what training and evaluation may use."""
    return frame.dropna(subset=["actual", "anchor", *CASE_FEATURES]).reset_index(drop=True)


def upcoming(frame: pd.DataFrame) -> pd.DataFrame:
    """Per region, the example of the latest origin (the day of the last report) that has an anchor and
    a count on the origin day itself: a region whose last day has none (a fall, a glitch, a weekly or
    irregular reporter's day: int_cases__daily_from_cumulative) is not forecast from it."""
    rows = frame[frame["is_forecast_row"]].dropna(subset=["anchor", "cases_lag_1"])
    return rows.reset_index(drop=True)
