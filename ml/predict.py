"""Forecasts from the champion model, for a region and day, read from the same mart training reads."""

from __future__ import annotations

from datetime import date

from ml import registry
from ml.features import load_mart
from ml.target import ANCHOR


def predict(region: str, day: date) -> dict:
    frame = load_mart(region)
    row = frame[frame["date_day"].dt.date == day]
    if row.empty:
        first, last = frame["date_day"].min(), frame["date_day"].max()
        raise ValueError(
            f"predict: region {region}, date {day}: no features in marts.fct_training_features (it covers {first:%Y-%m-%d}..{last:%Y-%m-%d})"
        )
    model = registry.load_champion()
    columns = model.metadata.get_input_schema().input_names()
    if row[ANCHOR].isna().any():
        raise ValueError(
            f"predict: region {region}, date {day}: the anchor {ANCHOR} is missing (gap or revision in the case counts)"
        )
    forecast = float(model.predict(row[columns])["forecast_new_cases"].iloc[0])
    actual = row["new_cases"].iloc[0]
    return {
        "region": region,
        "date": day.isoformat(),
        "forecast_new_cases": round(forecast, 1),
        "actual_new_cases": None if actual != actual else int(actual),
        "model_version": registry.champion_version(),
    }
