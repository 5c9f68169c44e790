"""Retraining a region set's model, in named steps: load and gate the training slice, fit (backtest and
refit, the surge warning's level chosen on the backtest), judge it against the champion, register it,
write its forecasts with their quantiles and surge warnings, and only then move its alias: an alias never
points at a version without forecasts.

Every retrain registers a new version. `champion` moves to it only if it passes the promotion gate
(ml/cother_ml/promotion.py); otherwise it becomes the `challenger`, tagged with the reason.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cother_core.regions import get_set, select, set_of
from cother_core.settings import get_settings
from cother_ml import aliases, backtest_intervals, drift, lineage, promotion, registry, report, slice_gate, storage
from cother_ml.features import examples_by_horizon, labelled
from cother_ml.fitting import Fitted, TrainingConfig, fit
from cother_ml.grain import Grain, grain_of
from cother_ml.intervals import QUANTILE_LEVELS
from cother_ml.pyfunc_model import output_column, quantile_column
from cother_ml.quantile_scores import weighted_interval_score

# the weather test's keys (cother_ml.weather_effect.compare) and their MLflow metric names, h{horizon}_{name}
WEATHER_METRICS = {
    "mae_without": "weather_mae_without",
    "difference": "weather_mae_difference",
    "dm_statistic": "weather_dm_statistic",
    "p_value": "weather_dm_p_value",
}
# the backtest's quantile scores (cother_ml.backtest_intervals.by_horizon) and their MLflow metric names
INTERVAL_METRICS = {
    "wis": "wis",
    "dispersion": "wis_dispersion",
    "overprediction": "wis_overprediction",
    "underprediction": "wis_underprediction",
    "relative_wis": "relative_wis",
    "coverage_50": "coverage_50",
    "coverage_95": "coverage_95",
    "baseline_wis": "baseline_wis",
    "baseline_coverage_50": "baseline_coverage_50",
    "baseline_coverage_95": "baseline_coverage_95",
}

# the surge warning's level per horizon (cother_ml.surge.Level) and their MLflow metric names
SURGE_METRICS = {
    "level": "surge_level",
    "episodes": "surge_episodes",
    "recall": "surge_recall",
    "warned_share": "surge_warned_share",
    "kept": "surge_level_kept",
}


class NoTrainingRows(ValueError):
    """No region of the set has the history a labelled row reads yet."""


def sets_to_train(params: dict, events: list[dict]) -> dict[str, list[str]]:
    """The regions to train per region set: those the triggering builds' ingestions published, grouped
    by set; without such events, the run's params (a set, and optionally some of its regions)."""
    published = sorted({region for extra in events for region in extra.get("regions", [])})
    if not published:
        return {params["region_set"]: [region.id for region in select(params["region_set"], params.get("regions"))]}
    by_set: dict[str, list[str]] = {}
    for region in published:
        by_set.setdefault(set_of(region), []).append(region)
    return by_set


def load_and_gate(grain: Grain, regions: list[str]) -> tuple[dict[int, pd.DataFrame], list[dict], dict]:
    """Step 1: the mart rows of these regions, their training slice through its gate (QualityGateError
    names every failing region); the examples of every horizon of the regions that passed, the gate's
    validations, and the drift of each feature in the slice's newest weeks (cother_ml.drift: a warning,
    never a stop). The examples are made from the very rows the gate passed."""
    settings = get_settings()
    mart = storage.load_mart(regions, grain.mart)
    validations = slice_gate.validate(mart, regions, grain)
    if not validations:
        raise NoTrainingRows(f"retrain: no labelled rows of {regions} in {grain.mart}")
    passed = mart[mart["region"].isin([v["region"] for v in validations])]
    examples = examples_by_horizon(passed, grain)
    features = grain.feature_columns(settings.weather_features)
    drifted = drift.compare(
        labelled(examples[grain.first_horizon], grain),
        features,
        settings.drift_newest_days,
        settings.drift_kl_threshold,
    )  # the first horizon's slice, the rows the gate checked
    return examples, validations, drifted


def champion_out_of_sample(
    name: str, champion, latest: pd.DataFrame, rows: pd.DataFrame, horizon: int
) -> tuple[pd.DataFrame | None, str | None]:
    """The champion's forecasts of the first horizon of `latest`'s (region, target day) rows, each made without
    that day, and their WIS (columns `model` and `model_wis`, on `latest`'s index): from its own backtest up to
    its training end, live after it. None if it has no backtest. Its WIS is null where it has no quantiles: a
    backtest artifact written before them, or a version that answers points only.
    Second, why it could not forecast live, if it could not: a version registered by older code whose
    input the mart no longer has (it then has forecasts of its backtest days only)."""
    stored = None if champion is None else registry.load_backtest(champion.run_id)
    if stored is None or "training_end" not in champion.tags:
        return None, None
    training_end = pd.Timestamp(champion.tags["training_end"])
    keys = latest[["region", "target_date"]]
    known = stored[(stored["horizon"] == horizon) & (stored["target_date"] <= training_end)]
    wis = backtest_intervals.wis_column("model")
    known = known if wis in known else known.assign(**{wis: np.nan})
    forecast = keys.merge(known[["region", "target_date", "model", wis]], how="left")
    live = rows.merge(keys[keys["target_date"] > training_end], on=["region", "target_date"])
    failure = None
    if not live.empty:
        from mlflow.exceptions import MlflowException

        try:
            answered = registry.load(name, str(champion.version)).predict(live)
            predicted = live[["region", "target_date"]].assign(
                live=answered[output_column(horizon)].to_numpy(), live_wis=live_wis(answered, live["actual"], horizon)
            )
            found = keys.merge(predicted, how="left")
            forecast = forecast.assign(
                model=forecast["model"].fillna(found["live"]), **{wis: forecast[wis].fillna(found["live_wis"])}
            )
        except (MlflowException, KeyError) as failed:
            failure = (
                f"champion v{champion.version} cannot forecast the current rows ({type(failed).__name__}: {failed})"
            )
    return forecast[["model", wis]].set_axis(latest.index), failure


def live_wis(answered: pd.DataFrame, actual: pd.Series, horizon: int) -> np.ndarray:
    """The WIS of a registered model's answers of a horizon against the actuals; NaN without its quantiles."""
    columns = [quantile_column(horizon, level) for level in QUANTILE_LEVELS]
    if not set(columns) <= set(answered.columns):
        return np.full(len(answered), np.nan)
    return weighted_interval_score(actual, answered[columns], QUANTILE_LEVELS)["wis"].to_numpy()


def judge(name: str, fitted: Fitted, margin: float) -> promotion.Decision:
    """Step 3: the promotion gate, against the current champion scored out of sample on the same days
    (MAE, and WIS where it has quantiles) and with the field-accuracy alerts of its forecasts
    (ml.field_accuracy_alerts)."""
    grain = fitted.config.grain
    latest = fitted.latest(grain.first_horizon, promotion.LATEST_FOLDS)
    champion = aliases.holder_of(name, promotion.CHAMPION)  # a move made outside the project recorded first
    forecasts, failure = champion_out_of_sample(name, champion, latest, fitted.rows, grain.first_horizon)
    version = None if champion is None else str(champion.version)
    field = [] if version is None else storage.field_flags(name, version)
    points, wis = (None, None) if forecasts is None else (forecasts["model"], forecasts["model_wis"])
    label = grain.label(grain.first_horizon)
    return promotion.decide(latest, points, version, margin, field, failure, label, champion_wis=wis)


def lineage_tags(
    region_set: str, fitted: Fitted, validations: list[dict], provenance: dict | None, drifted: dict
) -> dict:
    """What the version learnt from: window, regions, batches and their validations, the slice's
    validations and the features that drifted in its newest weeks, a hash of the rows, the code's commit."""
    rows = fitted.rows
    start, end = rows["target_date"].min(), rows["target_date"].max()
    first_read = start - pd.Timedelta(days=fitted.config.grain.lookback_days)  # the earliest day their features read
    trained_regions = sorted(rows["region"].unique())
    batches = storage.batches_read(trained_regions, first_read.date(), end.date())
    return {
        "region_set": region_set,
        "cadence": fitted.config.grain.cadence,
        "regions": ",".join(trained_regions),
        "training_start": f"{start:%Y-%m-%d}",
        "training_end": f"{end:%Y-%m-%d}",
        "partitions": f"{len(trained_regions)} regions x {first_read:%Y-%m-%d}..{end:%Y-%m-%d}",
        # the weekly and irregular reporters' recent days have no daily count: not trained on, not scored
        "reporting_cadence": ", ".join(
            f"{habit} {n}" for habit, n in storage.reporting_cadences(trained_regions).items()
        ),
        "batch_ids": ",".join(sorted({batch["batch_id"] for batch in batches})),
        "gx_validation_ids": ",".join(sorted({batch["validation_id"] for batch in batches})),
        "slice_validation_ids": ",".join(sorted({v["validation_id"] for v in validations})),
        "drifted_features": drift.tag(drifted),
        "drift_validation_id": drifted.get("validation_id") or "none",
        "training_data_sha256": lineage.data_hash(rows),
        "git_commit": lineage.git_commit(),
        "weather_features": str(fitted.config.weather),
        **{key: str(value) for key, value in (provenance or {}).items()},
    }


@dataclass(frozen=True)
class Registered:
    version: str
    run_id: str
    alias: str
    reason: str  # why the alias went where it went
    moved: bool  # whether an earlier attempt of the same caller already moved the alias to it


def register(
    name: str, fitted: Fitted, decision: promotion.Decision, tags: dict, moved_by: str, drifted: dict
) -> Registered:
    """Step 4: log and register the version with its backtest, plots and model card, and say which alias
    it takes: `champion` if the gate said so, else `challenger` (moved by settle_alias, once its
    forecasts are written).

    A retry by the same caller (`moved_by`: the DAG run, for Airflow) on training data of the same hash
    registers no second version: registry.version_registered finds the one an earlier attempt registered
    (its run carries both from its start, so a version registered and never tagged is found too, and is
    tagged now with this attempt's reason). If that version holds `champion` or `challenger`, the alias
    was moved (by that attempt, or since by hand): that alias and the reason the version was tagged with
    are returned, and settle_alias moves nothing. Otherwise the alias follows this attempt's decision: the
    gate ran again and may decide otherwise than the earlier attempt did (a champion moved in between),
    while the version keeps the reason it was first tagged with. An attempt killed before its version was
    registered leaves a run without a version, and the retry registers one; training data that changed
    between attempts makes a new version."""
    run_tags = {**tags, "registered_by": moved_by}
    found = registry.version_registered(name, tags["training_data_sha256"], moved_by)
    if found is None:
        version, run_id = log_version(name, fitted, decision, run_tags, drifted)
    else:
        version, run_id = str(found.version), found.run_id
    if found is None or "promotion" not in found.tags:
        registry.tag_version(name, version, {**run_tags, "promotion": decision.reason, "run_id": run_id})
    held = [alias for alias in (promotion.CHAMPION, promotion.CHALLENGER) if registry.holds(name, alias, version)]
    if held:  # the earlier attempt moved it (a new version holds no alias): what it decided stands
        return Registered(version, run_id, held[0], found.tags.get("promotion", decision.reason), moved=True)
    alias = promotion.CHAMPION if decision.promote else promotion.CHALLENGER
    return Registered(version, run_id, alias, decision.reason, moved=False)


def settle_alias(name: str, registered: Registered, decision: promotion.Decision, moved_by: str) -> None:
    """Step 5: move the version's alias, after its forecasts are written: an alias never points at a
    version without forecasts. Nothing when an earlier attempt of the same caller moved it."""
    if not registered.moved:
        aliases.move(name, registered.alias, registered.version, moved_by, decision.reason, decision.metrics)


def log_version(name: str, fitted: Fitted, decision: promotion.Decision, tags: dict, drifted: dict) -> tuple[str, str]:
    """A new MLflow run with the model, its metrics, backtest, plots, drift and card, registered; its
    version and run id."""
    metrics = {
        f"h{row.horizon}_{row.forecaster}_{metric}": float(getattr(row, metric))
        for row in fitted.summary.itertuples()
        for metric in ("mae", "rmse", "mase", "r2")
        if pd.notna(getattr(row, metric))
    } | decision.metrics
    weather = fitted.weather_effect
    metrics |= weather_metrics(weather) | horizon_metrics(fitted.interval_scores, INTERVAL_METRICS)
    metrics |= horizon_metrics(surge_levels(fitted), SURGE_METRICS)
    importance = fitted.feature_importance()
    grain = fitted.config.grain
    card = report.model_card(
        name,
        grain,
        version_tags=tags,
        summary=fitted.summary,
        decision=decision.reason,
        importance=importance,
        published=fitted.published,
        weather=weather,
        drift=drifted,
        intervals=fitted.interval_scores,
        surge=surge_levels(fitted),
    )
    with tempfile.TemporaryDirectory() as folder:
        report.write(Path(folder), fitted.backtest, fitted.fold_scores, importance, card, drifted, grain)
        return registry.log_and_register(
            name,
            fitted.forecasters,
            fitted.rows.tail(30),
            fitted.config.grain.forecaster.params,
            metrics,
            tags,
            Path(folder),
            fitted.publication,
            fitted.config.grain,
            fitted.calibration,
        )


def horizon_metrics(rows: list[dict], names: dict[str, str]) -> dict[str, float]:
    """Figures per horizon as MLflow metrics, h{horizon}_{name} for each key of `names`; none where there
    is no value."""
    return {
        f"h{row['horizon']}_{name}": float(row[key])
        for row in rows
        for key, name in names.items()
        if row[key] is not None
    }


def champion_surge_levels(name: str, grain: Grain) -> dict[int, float]:
    """Per horizon, the surge warning's level of the set's champion (its MLflow metric), which a horizon
    whose backtest holds too few surges to choose on keeps (cother_ml.surge.backtest_level)."""
    champion = registry.alias_version(name, promotion.CHAMPION)
    if champion is None:
        return {}
    metrics = registry.client().get_run(champion.run_id).data.metrics
    names = {horizon: f"h{horizon}_{SURGE_METRICS['level']}" for horizon in grain.horizons}
    return {horizon: metrics[metric] for horizon, metric in names.items() if metric in metrics}


def surge_levels(fitted: Fitted) -> list[dict]:
    """The surge warning's level of each horizon and what it did on the backtest, as JSON-ready records."""
    return [{"horizon": horizon, **asdict(level)} for horizon, level in fitted.surge_levels.items()]


def weather_metrics(weather: list[dict] | str) -> dict[str, float]:
    """The weather test as MLflow metrics, h{horizon}_weather_{...}; none where there is no value."""
    return {} if isinstance(weather, str) else horizon_metrics(weather, WEATHER_METRICS)


def scored(table: pd.DataFrame) -> list[dict]:
    """The backtest summary as JSON-ready records: a forecaster that could not be scored (the 2021
    project's baseline where its weather variables are missing) has null metrics, never NaN."""
    rounded = table.round(3).astype(object)
    return rounded.where(rounded.notna(), None).to_dict(orient="records")


def retrain(
    region_set: str, regions: list[str] | None = None, provenance: dict | None = None, moved_by: str = "retrain"
) -> dict:
    """Train the set's model on the rows of these regions of the set (all of them when None)."""
    settings = get_settings()
    name = registry.model_name_of(region_set)
    registry.configure()  # an unreachable registry fails the retrain now, before any work, and changes nothing
    grain = grain_of(region_set)
    examples, validations, drifted = load_and_gate(grain, regions or get_set(region_set).ids)
    config = TrainingConfig(
        grain=grain,
        weather=settings.weather_features and grain.weather,
        surge_min_episodes=settings.surge_min_episodes,
        surge_levels_before=champion_surge_levels(name, grain),
    )
    fitted = fit(examples, sorted(get_set(region_set).ids), config)
    decision = judge(name, fitted, settings.promotion_margin)
    tags = lineage_tags(region_set, fitted, validations, provenance, drifted)
    registered = register(name, fitted, decision, tags, moved_by, drifted)
    version = registered.version
    forecasts = fitted.forecasts()
    quantiles = fitted.quantiles(forecasts)
    warnings = fitted.surge_warnings(forecasts, quantiles)
    written = storage.write_forecasts(name, version, registered.alias, forecasts, quantiles, warnings)
    settle_alias(name, registered, decision, moved_by)
    return {
        "region_set": region_set,
        "model_name": name,
        "regions": tags["regions"].split(","),
        "validations": validations,
        "version": version,
        "run_id": registered.run_id,
        "alias": registered.alias,
        "promoted": registered.alias == promotion.CHAMPION,
        "decision": registered.reason,
        "training_window": f"{tags['training_start']}..{tags['training_end']}",
        "backtest": scored(fitted.summary),
        "published": {f"h{horizon}": choice for horizon, choice in fitted.published.items()},
        "intervals": fitted.interval_scores,
        "surge_levels": surge_levels(fitted),
        "weather_effect": fitted.weather_effect,
        "drift": drifted,
        "model_uri": registry.model_uri(name),
        "forecasts_written": written["forecasts"],
        "quantiles_written": written["quantiles"],
        "surge_warnings_written": written["surge_warnings"],
        "surge_warned_regions": sorted(forecasts.loc[warnings["warned"], "region"].unique()),
    }
