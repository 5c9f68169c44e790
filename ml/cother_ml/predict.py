"""Forecasts from the champion model for a region and day, read from the same mart training reads."""

from __future__ import annotations

from datetime import date, timedelta

from cother_core.regions import set_of
from cother_ml import registry
from cother_ml.grain import grain_of
from cother_ml.intervals import QUANTILE_LEVELS
from cother_ml.pyfunc_model import output_column, quantile_column
from cother_ml.storage import load_mart


def predict(region: str, day: date) -> dict:
    """The champion's forecast for `day` made the evening before (a weekly set: for the week ending on
    `day`, a Sunday, made at the end of the week before), and from that same origin its forecast for
    the horizon's other days, beside the counts reported since; each names its forecaster (the model,
    or the naive forecaster published where the model lost its backtest, or the best naive forecaster
    for a region the version did not train on) and, from a version that answers them, carries its
    quantiles at the hubs' 23 levels (`quantiles`: level -> count; null where none was calibrated)."""
    region_set = set_of(region)
    name, grain = registry.model_name_of(region_set), grain_of(region_set)  # the champion of the region's set
    frame = load_mart([region], grain.mart)
    if frame.empty:
        raise ValueError(f"predict: no data for {region} in {grain.mart}")
    row = frame[frame["date_day"].dt.date == day]
    if row.empty:
        first, last = frame["date_day"].min(), frame["date_day"].max()
        raise ValueError(
            f"predict: region {region}, date {day}: no features in {grain.mart} (it covers {first:%Y-%m-%d}..{last:%Y-%m-%d})"
        )
    champion = registry.alias_version(name)
    if champion is None:
        raise ValueError(f"predict: model {registry.model_uri(name)} has no champion yet")
    model = registry.load(name)
    forecast = model.predict(row[model.metadata.get_input_schema().input_names()]).iloc[0]
    served = model.unwrap_python_model()  # the CasesForecastModel that answered: its forecaster per horizon
    actual = frame.set_index(frame["date_day"].dt.date)["new_cases"]
    forecasts = []
    for horizon in served.boosters:
        target = day + timedelta(days=horizon - grain.step_days)
        reported = actual.get(target)
        [name] = served.publication.names(row["region"], horizon)
        answer = {
            "horizon_days": horizon,
            "forecaster": name,
            "date": target.isoformat(),
            "forecast_new_cases": round(float(forecast[output_column(horizon)]), 1),
            "actual_new_cases": None if reported is None or reported != reported else int(reported),
        }
        if served.calibration is not None:  # a version registered before its quantiles answers points only
            values = {f"{level:g}": forecast[quantile_column(horizon, level)] for level in QUANTILE_LEVELS}
            answer["quantiles"] = {level: None if value != value else int(value) for level, value in values.items()}
        forecasts.append(answer)
    return {
        "region": region,
        "origin": (day - timedelta(days=grain.step_days)).isoformat(),
        "model_version": str(champion.version),
        # False: the version did not train on the region, so the best naive forecaster answers for it
        "region_in_training": bool(served.publication.in_training(row["region"]).iloc[0]),
        "forecasts": forecasts,
    }
