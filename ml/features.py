"""Reading the training-features mart: the rows, the columns the model uses, the labelled slice.

The features themselves are computed once, in dbt (marts.fct_training_features); this module only
selects them. The model uses the level-free ones (log ratios of lags, weekly growth, calendar, weather).
"""

from __future__ import annotations

import pandas as pd

from cother.database import connect
from ml.target import ANCHOR

CASE_FEATURES = [f"cases_log_ratio_lag_{lag}" for lag in range(1, 15) if lag != 7] + ["cases_growth_7d", "day_of_week"]
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
    return CASE_FEATURES + (WEATHER_FEATURES if weather else [])


def load_mart(region: str) -> pd.DataFrame:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select * from marts.fct_training_features where region = %s order by date_day", (region,))
        columns = [column.name for column in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    frame["date_day"] = pd.to_datetime(frame["date_day"])
    numeric = [column for column in frame.columns if column not in {"region", "date_day", "is_forecast_row"}]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a target and a full lag history: what training and evaluation may use."""
    required = ["new_cases", ANCHOR, *CASE_FEATURES]
    return frame[~frame["is_forecast_row"]].dropna(subset=required).reset_index(drop=True)


def validate_training_slice(region: str) -> dict:
    """Run the labelled slice of one region through the fct_training_features suite; raises on failure."""
    from cother.quality import gate

    mart = load_mart(region)
    # features from earlier days only: each row's lag 1 is the previous day's count, nothing else
    previous_day = mart["new_cases"].shift(1).where(mart["date_day"].diff() == pd.Timedelta(days=1))
    lag_matches = (mart["cases_lag_1"] == previous_day) | (mart["cases_lag_1"].isna() & previous_day.isna())
    rows = labelled(mart.assign(check_lag_1_is_previous_day=lag_matches))
    if rows.empty:
        raise ValueError(f"marts.fct_training_features: region {region}: no labelled rows to validate")
    first_day, last_day = rows["date_day"].min().date(), rows["date_day"].max().date()
    subject = f"marts.fct_training_features, region {region}, dates {first_day}..{last_day}"
    frame = rows.assign(date_day=rows["date_day"].dt.date)
    report = gate(frame, "fct_training_features", subject, first_day, last_day)
    return {"region": region, "validation_id": report.run_id, "rows": len(rows), "window": f"{first_day}..{last_day}"}
