"""Reading the training-features mart, and the examples each forecast horizon learns from.

The features are computed once, in dbt (marts.fct_training_features): each row holds what is known
on the evening before its date_day. A forecast made at an origin day reads the row of the day after
the origin; for a horizon of h days its target is the count h - 1 days after that row. This module
only pairs those rows with their targets; the model uses the level-free features (log ratios of lags,
weekly growth, calendar, weather) and the region.
"""

from __future__ import annotations

import io

import pandas as pd

from cother.database import connect
from ml.target import for_horizon, same_weekday_column

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
WEATHER_FEATURES = [
    f"{column}_lag_1"
    for column in (
        "temperature_mean_c",
        "temperature_min_c",
        "temperature_max_c",
        "precipitation_mm",
        "wind_speed_mean_ms",
        "relative_humidity_mean_pct",
        "pressure_msl_hpa",
        "sunshine_hours",
        "cloud_cover_mean_pct",
    )
]


def feature_columns(weather: bool) -> list[str]:
    return ["region", *CASE_FEATURES, *CALENDAR_FEATURES, *(WEATHER_FEATURES if weather else [])]


def load_mart(regions: list[str] | None = None) -> pd.DataFrame:
    """The mart rows of these regions (all when None), ordered by region and day. Read with COPY, as CSV
    parsed by pandas: rows fetched as Python objects took about ten times the frame's memory."""
    query = "select * from marts.fct_training_features"
    buffer = io.BytesIO()
    with connect() as conn, conn.cursor() as cur:
        if regions is None:
            selected = cur.mogrify(query + " order by region, date_day")
        else:
            selected = cur.mogrify(query + " where region = any(%s) order by region, date_day", (list(regions),))
        cur.copy_expert(b"copy (" + selected + b") to stdout with (format csv, header)", buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, dtype={"region": str}, true_values=["t"], false_values=["f"])
    frame["date_day"] = pd.to_datetime(frame["date_day"])
    numeric = [column for column in frame.columns if column not in {"region", "date_day", "is_forecast_row"}]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def examples(mart: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One row per forecast origin and region: the mart row of the day after the origin, with the
    horizon's target day, the actual count there (null if not reported yet), and the anchor."""
    by_region = mart.groupby("region", sort=False)
    target_day = by_region["date_day"].shift(-(horizon - 1))
    ahead = pd.Timedelta(days=horizon - 1)
    if not (target_day.isna() | (target_day - mart["date_day"] == ahead)).all():
        raise ValueError("marts.fct_training_features: the days of a region are not consecutive")
    frame = for_horizon(mart, horizon).assign(
        horizon=horizon,
        origin_date=mart["date_day"] - pd.Timedelta(days=1),
        target_date=mart["date_day"] + ahead,
        actual=by_region["new_cases"].shift(-(horizon - 1)),
        same_weekday=mart[same_weekday_column(horizon)],
    )
    return frame


def examples_by_horizon(mart: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The examples of every horizon; the mart itself is not kept."""
    return {horizon: examples(mart, horizon) for horizon in HORIZONS}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Examples with a target, an anchor and a full lag history: what training and evaluation may use."""
    return frame.dropna(subset=["actual", "anchor", *CASE_FEATURES]).reset_index(drop=True)


def upcoming(frame: pd.DataFrame) -> pd.DataFrame:
    """Per region, the example of the latest origin (the day of the last report) that has an anchor."""
    rows = frame[frame["is_forecast_row"]].dropna(subset=["anchor"])
    return rows.reset_index(drop=True)


def validate_training_slice(regions: list[str]) -> list[dict]:
    """Run the labelled slice of these regions through the fct_training_features suite, in one run with a
    verdict per region; raises QualityGateError naming every failing region. Regions without labelled
    rows yet (less history than the features read) are left out, by name; [] when none has any."""
    from cother.batch_checks import with_days
    from cother.quality import gate

    mart = load_mart(regions)
    by_region = mart.groupby("region", sort=False)
    # features from earlier days only: each row's lag 1 is the previous day's count, nothing else
    consecutive = by_region["date_day"].diff() == pd.Timedelta(days=1)
    previous_day = by_region["new_cases"].shift(1).where(consecutive)
    lag_matches = (mart["cases_lag_1"] == previous_day) | (mart["cases_lag_1"].isna() & previous_day.isna())
    checked = mart.assign(check_lag_1_is_previous_day=lag_matches)
    rows = labelled(examples(checked, horizon=1))[list(checked.columns)]  # the slice next-day training reads
    if rows.empty:
        print(f"marts.fct_training_features: regions {regions}: no labelled rows yet, nothing to validate")
        return []
    short = sorted(set(regions) - set(rows["region"]))
    if short:  # published, but not yet the 3 weeks of history a labelled row reads: not trained yet
        print(f"not enough history yet to train on regions {short}: left out of this retrain")
    windows = rows.groupby("region")["date_day"].agg(["min", "max"])
    frame = rows.assign(date_day=rows["date_day"].dt.date)
    frames = []
    for region, window in windows.iterrows():  # each region is checked against its own window
        part = frame[frame["region"] == region]
        frames.append(with_days(part, window["min"].date(), window["max"].date(), "date_day"))
    checked = pd.concat(frames, ignore_index=True)
    subjects = {
        region: f"marts.fct_training_features, region {region}, dates {w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}"
        for region, w in windows.iterrows()
    }
    reports = gate(checked, "fct_training_features", subjects)
    return [
        {
            "region": region,
            "validation_id": reports[region].run_id,
            "rows": int((checked["region"] == region).sum()),
            "window": f"{w['min']:%Y-%m-%d}..{w['max']:%Y-%m-%d}",
        }
        for region, w in windows.iterrows()
    ]
