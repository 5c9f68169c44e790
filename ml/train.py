"""Retraining: score on a time-based holdout against the naive forecasters, refit, register, promote.

The alias `champion` moves to the new version only if it beats the better of persistence and
seasonal naive on the holdout; otherwise the version is registered and tagged with the reason.
"""

from __future__ import annotations

from dataclasses import asdict

from cother.settings import get_settings
from ml import forecasts, registry
from ml.evaluation import holdout_score
from ml.features import feature_columns, labelled, load_mart
from ml.forecaster import NextDayForecaster
from ml.target import ANCHOR


def retrain(region: str, lineage: dict | None = None) -> dict:
    mart = load_mart(region)
    rows = labelled(mart)
    if rows.empty:
        raise ValueError(f"retrain: region {region}: no labelled rows in marts.fct_training_features")
    features = feature_columns(get_settings().weather_features)
    score = holdout_score(rows, features)
    forecaster = NextDayForecaster(features).fit(rows)
    window = f"{rows['date_day'].min():%Y-%m-%d}..{rows['date_day'].max():%Y-%m-%d}"
    tags = {
        "region": region,
        "training_window": window,
        "holdout_window": f"{score.holdout_start}..{score.holdout_end}",
        **{key: str(value) for key, value in (lineage or {}).items()},
    }
    metrics = {f"holdout_mae_{name}": mae for name, mae in score.mae.items()}
    version = registry.log_and_register(forecaster, rows.tail(30), forecaster.params, metrics, tags)
    baseline, baseline_mae = score.best_baseline
    if score.beats_baselines:
        registry.set_alias(version)
        decision = f"champion: holdout MAE {score.mae['model']:.1f} beats {baseline} {baseline_mae:.1f}"
    else:
        decision = f"not promoted: holdout MAE {score.mae['model']:.1f} does not beat {baseline} {baseline_mae:.1f}"
    registry.tag_version(version, {"promotion": decision})
    upcoming = mart[mart["is_forecast_row"]].dropna(subset=[ANCHOR])
    alias = registry.CHAMPION if score.beats_baselines else None
    written = forecasts.write(
        get_settings().model_name, version, alias, forecasts.next_day(upcoming, forecaster.predict(upcoming))
    )
    return {
        "region": region,
        "version": version,
        "promoted": score.beats_baselines,
        "decision": decision,
        "training_window": window,
        "score": asdict(score),
        "model_uri": registry.model_uri(),
        "forecasts_written": written,
    }
