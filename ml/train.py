"""Retraining: backtest, refit on every labelled day, register, decide the alias, write the forecasts.

Every retrain registers a new version. `champion` moves to it only if it passes the promotion gate
(ml/promotion.py); otherwise it becomes the `challenger`, tagged with the reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from cother.regions import get_set, select, set_of
from cother.settings import get_settings
from ml import forecasts, lineage, promotion, registry, report
from ml.backtest import FOLDS, backtest, scores, summary
from ml.features import HISTORY_DAYS, examples_by_horizon, feature_columns, labelled, load_mart, upcoming
from ml.forecaster import PARAMS, Forecaster
from ml.pyfunc_model import output_column


def champion_out_of_sample(champion, latest: pd.DataFrame, rows: pd.DataFrame) -> pd.Series | None:
    """The champion's next-day forecasts of `latest`'s (region, target day) rows, each made without
    that day: from its own backtest up to its training end, live after it. None if it has no backtest."""
    stored = None if champion is None else registry.load_backtest(champion)
    if stored is None or "training_end" not in champion.tags:
        return None
    training_end = pd.Timestamp(champion.tags["training_end"])
    keys = latest[["region", "target_date"]]
    known = stored[(stored["horizon"] == promotion.GATE_HORIZON) & (stored["target_date"] <= training_end)]
    forecast = keys.merge(known[["region", "target_date", "model"]], how="left")["model"]
    live = rows.merge(keys[keys["target_date"] > training_end], on=["region", "target_date"])
    if not live.empty:
        model = registry.load(str(champion.version))
        predicted = live[["region", "target_date"]].assign(
            live=model.predict(live)[output_column(promotion.GATE_HORIZON)].to_numpy()
        )
        forecast = forecast.fillna(keys.merge(predicted, how="left")["live"])
    return pd.Series(forecast.to_numpy(), index=latest.index)


def scored(table: pd.DataFrame) -> list[dict]:
    """The backtest summary as JSON-ready records: a forecaster that could not be scored (the 2021
    project's baseline where its weather variables are missing) has null metrics, never NaN."""
    rounded = table.round(3).astype(object)
    return rounded.where(rounded.notna(), None).to_dict(orient="records")


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


def validated_slices(params: dict, events: list[dict]) -> list[dict]:
    """The training slice of each region set to train (sets_to_train), through its gate: per set, the
    validations of its regions; a set none of whose regions has labelled rows yet is left out, and
    ValueError when no set has any."""
    from ml.features import validate_training_slice

    plan = sets_to_train(params, events)
    checked = [{"region_set": name, "validations": validate_training_slice(regions)} for name, regions in plan.items()]
    trainable = [slices for slices in checked if slices["validations"]]
    if not trainable:
        raise ValueError(f"marts.fct_training_features: no labelled rows for any region of {plan}")
    return trainable


def retrain(
    region_set: str, regions: list[str] | None = None, provenance: dict | None = None, moved_by: str = "retrain"
) -> dict:
    """Train the set's model on the rows of these regions of the set (all of them when None)."""
    with registry.for_set(region_set):
        return _retrain(region_set, regions or get_set(region_set).ids, provenance, moved_by)


def _retrain(region_set: str, regions: list[str], provenance: dict | None, moved_by: str) -> dict:
    settings = get_settings()
    registry.configure()  # an unreachable registry fails the retrain now, before any work, and changes nothing
    frames = examples_by_horizon(load_mart(regions))
    rows = labelled(frames[1])
    if rows.empty:
        raise ValueError(f"retrain: set {region_set}: no labelled rows of its regions in marts.fct_training_features")
    features = feature_columns(settings.weather_features)
    configured = sorted(get_set(region_set).ids)

    def forecaster(horizon: int) -> Forecaster:
        return Forecaster(horizon, features, configured)

    backtest_forecasts = backtest(frames, forecaster)
    fold_scores = scores(backtest_forecasts)
    table = summary(fold_scores)
    fitted = {horizon: forecaster(horizon).fit(labelled(frame)) for horizon, frame in frames.items()}

    latest = backtest_forecasts[
        (backtest_forecasts["horizon"] == promotion.GATE_HORIZON)
        & (backtest_forecasts["fold"] > FOLDS - promotion.LATEST_FOLDS)
    ]
    champion = registry.alias_version(promotion.CHAMPION)
    champion_forecasts = champion_out_of_sample(champion, latest, rows)
    decision = promotion.decide(
        latest, champion_forecasts, None if champion is None else str(champion.version), settings.promotion_margin
    )
    start, end = rows["target_date"].min(), rows["target_date"].max()
    first_read = start - pd.Timedelta(days=HISTORY_DAYS)  # the earliest day the training rows' features read
    trained_regions = sorted(rows["region"].unique())
    batches = lineage.batches_read(trained_regions, first_read.date(), end.date())
    tags = {
        "region_set": region_set,
        "regions": ",".join(trained_regions),
        "training_start": f"{start:%Y-%m-%d}",
        "training_end": f"{end:%Y-%m-%d}",
        "partitions": f"{len(trained_regions)} regions x {first_read:%Y-%m-%d}..{end:%Y-%m-%d}",
        "batch_ids": ",".join(sorted({batch["batch_id"] for batch in batches})),
        "gx_validation_ids": ",".join(sorted({batch["validation_id"] for batch in batches})),
        "training_data_sha256": lineage.data_hash(rows),
        "git_commit": lineage.git_commit(),
        "weather_features": str(settings.weather_features),
        **{key: str(value) for key, value in (provenance or {}).items()},
    }
    importance = {f"h{horizon}": model.feature_importance() for horizon, model in fitted.items()}
    metrics = {
        f"h{row.horizon}_{row.forecaster}_{metric}": float(getattr(row, metric))
        for row in table.itertuples()
        for metric in ("mae", "rmse", "mase", "r2")
        if pd.notna(getattr(row, metric))
    } | decision.metrics
    card = report.model_card(registry.model_name(), tags, table, decision.reason, importance)
    with tempfile.TemporaryDirectory() as folder:
        report.write(Path(folder), backtest_forecasts, fold_scores, importance, card)
        version, run_id = registry.log_and_register(fitted, rows.tail(30), PARAMS, metrics, tags, Path(folder))
    alias = promotion.CHAMPION if decision.promote else promotion.CHALLENGER
    promotion.move(alias, version, moved_by, decision.reason, decision.metrics)
    registry.tag_version(version, {**tags, "promotion": decision.reason, "run_id": run_id})

    written = []
    for horizon, model in fitted.items():
        ahead = upcoming(frames[horizon])
        written += forecasts.rows(ahead, model.predict(ahead))
    forecasts.write(registry.model_name(), version, alias, written)
    return {
        "region_set": region_set,
        "model_name": registry.model_name(),
        "regions": trained_regions,
        "version": version,
        "run_id": run_id,
        "alias": alias,
        "promoted": decision.promote,
        "decision": decision.reason,
        "training_window": f"{start:%Y-%m-%d}..{end:%Y-%m-%d}",
        "backtest": scored(table),
        "model_uri": registry.model_uri(),
        "forecasts_written": len(written),
    }
