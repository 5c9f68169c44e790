"""What each registered version carries besides the model: its backtest forecasts and scores, a
feature-importance plot, a backtest plot (actual against forecast per fold) and a model card."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cother_ml import surge as surges
from cother_ml.grain import Grain
from cother_ml.weather_effect import reading

BACKTEST_ARTIFACT = "backtest/forecasts.csv"  # a version's backtest forecasts, read back by the next retrain's gate
DRIFT_ARTIFACT = "drift.json"  # the training slice's drift (cother_ml.drift.compare)


def write(
    folder: Path,
    forecasts: pd.DataFrame,
    fold_scores: pd.DataFrame,
    importance: dict,
    card: str,
    drift: dict,
    grain: Grain,
) -> None:
    (folder / BACKTEST_ARTIFACT).parent.mkdir(parents=True, exist_ok=True)
    (folder / DRIFT_ARTIFACT).write_text(json.dumps(drift, indent=2, allow_nan=False), encoding="utf-8")
    forecasts.to_csv(folder / BACKTEST_ARTIFACT, index=False)
    fold_scores.to_csv(folder / "backtest" / "scores.csv", index=False)
    plot_importance(importance, folder / "feature_importance.png")
    plot_backtest(forecasts, folder / "backtest" / "actual_vs_forecast.png", grain)
    (folder / "model_card.md").write_text(card, encoding="utf-8")


def plot_importance(importance: dict[str, dict[str, int]], path: Path) -> None:
    """Split counts of each feature, one panel per horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(importance), figsize=(6 * len(importance), 7), squeeze=False)
    for axis, (horizon, counts) in zip(axes[0], importance.items(), strict=True):
        ordered = sorted(counts.items(), key=lambda item: item[1])
        axis.barh([name for name, _ in ordered], [count for _, count in ordered])
        axis.set_title(f"{horizon}: splits per feature")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_backtest(forecasts: pd.DataFrame, path: Path, grain: Grain) -> None:
    """Per horizon, the actual count (summed over regions) and the model's and the grain's reference naive
    forecaster's (seasonal naive, or persistence for a weekly set) out-of-sample forecasts, with the
    folds shaded in turn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    horizons = sorted(forecasts["horizon"].unique())
    fig, axes = plt.subplots(len(horizons), 1, figsize=(12, 3.5 * len(horizons)), squeeze=False)
    for axis, horizon in zip(axes[:, 0], horizons, strict=True):
        rows = forecasts[forecasts["horizon"] == horizon]
        totals = rows.groupby("target_date")[["actual", "model", grain.scale]].sum()
        axis.plot(totals.index, totals["actual"], color="black", label="actual")
        axis.plot(totals.index, totals["model"], label="model")
        axis.plot(totals.index, totals[grain.scale], alpha=0.6, label=grain.scale.replace("_", " "))
        for fold, days in rows.groupby("fold")["target_date"]:
            if fold % 2:
                axis.axvspan(days.min(), days.max(), color="grey", alpha=0.1)
        axis.set_title(f"{grain.label(horizon)}-ahead forecasts by fold (out of sample)")
        axis.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def model_card(
    name: str,
    grain: Grain,
    *,
    version_tags: dict,
    summary: pd.DataFrame,
    decision: str,
    importance: dict,
    published: dict[int, dict],
    weather: list[dict] | str,
    drift: dict,
    intervals: list[dict],
    surge: list[dict],
) -> str:
    """The Markdown card: what the model is, what it learnt from, how it scored (its points, and its
    quantiles: `intervals`, cother_ml.fitting.Fitted.interval_scores), the surge warning's level per
    horizon (`surge`: cother_ml.retrain.surge_levels), which forecaster each horizon publishes
    (`published`: cother_ml.fitting.Fitted.published), whether the weather helps (`weather`:
    cother_ml.fitting.Fitted.weather_effect), which features drifted in the training slice's newest weeks
    (`drift`: cother_ml.drift.compare), why it was promoted or not."""
    lines = [
        f"# {name}",
        "",
        grain.description,
        "",
        "## Lineage",
        "",
        *(f"- **{key}**: {value}" for key, value in version_tags.items()),
        "",
        "## Rolling-origin backtest (expanding window), mean over the folds",
        "",
        "| horizon | forecaster | MAE | RMSE | MASE | R² |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in summary.itertuples():
        if pd.isna(row.mae):  # the 2021 project's baseline, where its weather variables are missing
            lines.append(f"| {row.horizon} | {row.forecaster} | not scored: no day with its inputs | | | |")
            continue
        lines.append(
            f"| {row.horizon} | {row.forecaster} | {row.mae:.1f} | {row.rmse:.1f} | {row.mase:.3f} | {row.r2:.3f} |"
        )
    lines += [
        "",
        f"Forecasters: {', '.join(grain.forecasters)}. MASE is against {grain.scale} on the same days.",
        *(
            [
                "project_2021 is the 2021 student project's model (LightGBM on 7 weather variables, the count",
                "itself), scored only on days with weather.",
            ]
            if grain.weather
            else []
        ),
        "",
        *intervals_section(intervals, grain),
        *surge_section(surge, grain),
        "## Published forecasts per horizon",
        "",
        "A horizon publishes the model's forecasts only where the model beats the best naive forecaster on",
        "the latest backtest folds (the promotion gate's days); elsewhere it publishes that forecaster's,",
        "and says so (ml.forecasts.forecaster, `cother predict`, the registered model's answers).",
        "",
        *(
            f"- {grain.label(horizon)} forecasts: **{choice['forecaster']}** (the model's MAE {choice['mae_model']:.1f}"
            f" {'beats' if choice['forecaster'] == 'model' else 'does not beat'} {choice['best_naive']}"
            f" {choice['mae_best_naive']:.1f})"
            for horizon, choice in published.items()
        ),
        "",
        *weather_section(weather),
        *drift_section(drift),
        "## Promotion",
        "",
        decision,
        "",
        "## Most used features",
        "",
    ]
    for horizon, counts in importance.items():
        top = sorted(counts.items(), key=lambda item: -item[1])[:8]
        lines.append(f"- {horizon}: " + ", ".join(f"{feature} ({count})" for feature, count in top))
    lines += ["", "Plots: feature_importance.png, backtest/actual_vs_forecast.png.", ""]
    return "\n".join(lines)


def intervals_section(scores: list[dict], grain: Grain) -> list[str]:
    """The card's quantile forecasts: per horizon the backtest's WIS with its parts, the coverage of the 50 %
    and 95 % intervals, the baseline's, and the relative WIS (cother_ml.backtest_intervals.by_horizon)."""
    lines = [
        "## Quantile forecasts, scored as the forecast hubs score them",
        "",
        "Each backtest forecast's quantiles at the hubs' 23 levels (0.01 .. 0.99), each fold's calibrated on the",
        "folds before it (the first fold is not scored): the model's from the recent log errors of forecasts of",
        "its level (cother_ml.intervals.by_level), the baseline's persistence with the region's recent changes",
        "over the horizon, symmetrised (the hubs' baseline; a horizon or region published from a naive",
        "forecaster gets these intervals around that forecaster's point). WIS = spread + overprediction +",
        "underprediction; relative WIS = the model's mean WIS over the baseline's on the same forecasts.",
        "",
    ]
    if not scores:
        return [*lines, "Not scored: no backtest forecast after the first fold has an actual.", ""]
    lines += [
        "| horizon | forecasts | WIS | spread | over | under | 50 % | 95 % | baseline WIS | baseline 50 %, 95 % | relative WIS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in scores:
        lines.append(
            f"| {grain.label(row['horizon'])} | {row['forecasts']} | {row['wis']:.1f} | {row['dispersion']:.1f}"
            f" | {row['overprediction']:.1f} | {row['underprediction']:.1f} | {row['coverage_50']:.1%}"
            f" | {row['coverage_95']:.1%} | {row['baseline_wis']:.1f} | {row['baseline_coverage_50']:.1%},"
            f" {row['baseline_coverage_95']:.1%} | {row['relative_wis']:.3f} |"
        )
    return [*lines, ""]


def surge_section(levels: list[dict], grain: Grain) -> list[str]:
    """The card's surge warning: what it asks of each forecast, and per horizon the level chosen on the
    backtest with the surges it was chosen on, the recall there and the share of forecasts warned
    (cother_ml.surge.backtest_level); or that no level was chosen."""
    definition = surges.DEFINITIONS[grain.cadence]
    level_at = "the 7-day mean put on the target weekday" if definition.step_days == 1 else "last week's count"
    lines = [
        "## Surge warning",
        "",
        "Each forecast's probability that its target day's count is above the level at its origin",
        f"({level_at}, at least {definition.min_level:g}) grown at a surge's pace, up {definition.rise:.0%} a week,",
        "read off its quantiles (cother_ml.surge). It warns when the probability reaches its horizon's level,",
        "chosen on this backtest's surges for recall first: the highest at which at least",
        f"{surges.RECALL_TARGET:.0%} of them had a warning in the {definition.window_days} days before their onset, on",
        "the backtest forecasts of the forecaster the horizon publishes (each fold's quantiles calibrated on",
        f"the folds before it). On fewer than {surges.MIN_EPISODES} surges it keeps the champion's level (none",
        "without one). The recall is in sample: the level was chosen on those surges. The forecasts' warnings:",
        "ml.surge_warnings, marts.fct_surge_warnings.",
        "",
        "| horizon | level | surges in the backtest | recall at the level | forecasts warned |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in levels:
        label = grain.label(row["horizon"])
        if row["level"] is None:
            lines.append(f"| {label} | none: too few surges, no warning | {row['episodes']} | | |")
            continue
        level = f"{row['level']:.2f}" + (", the champion's: too few surges to choose on" if row["kept"] else "")
        recall, warned = ("" if row[key] is None else f"{row[key]:.1%}" for key in ("recall", "warned_share"))
        lines.append(f"| {label} | {level} | {row['episodes']} | {recall} | {warned} |")
    return [*lines, ""]


def weather_section(weather: list[dict] | str) -> list[str]:
    """The card's "Does the weather help?": per horizon the model with the weather features against the
    model without them on the same backtest days, the Diebold-Mariano test, and a one-line reading."""
    lines = ["## Does the weather help?", ""]
    if isinstance(weather, str):
        return [*lines, weather[0].upper() + weather[1:] + ".", ""]
    lines += [
        "The model refitted without the weather features on the same folds; MAE over the backtest days,",
        "difference with minus without; Diebold-Mariano test on the absolute errors (Harvey-Leybourne-Newbold",
        "correction, t with days - 1 degrees of freedom).",
        "",
        "| horizon | MAE with | MAE without | difference | DM statistic | p-value | days |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in weather:
        test = (
            f"{row['dm_statistic']:.2f} | {row['p_value']:.3f}"
            if row["p_value"] is not None
            else f"no test: {row['reason']} |"
        )
        lines.append(
            f"| {row['horizon']} | {row['mae_with']:.1f} | {row['mae_without']:.1f} | {row['difference']:+.1f}"
            f" | {test} | {row['days']} |"
        )
    return [*lines, "", *(f"- {reading(row)}" for row in weather), ""]


def drift_section(drift: dict) -> list[str]:
    """The card's "Drift": each feature whose distribution in the training slice's newest weeks is
    further from the rest of its window than the threshold, with figures of both windows; or that none
    drifted, or why it was not measured. Features empty in a window are named."""
    lines = ["## Drift", ""]
    if not drift["measured"]:
        return [*lines, f"Not measured: {drift['reason']}.", ""]
    lines += [
        f"The newest {drift['newest_days']} days of the training slice ({drift['newest_window']}) against the rest",
        f"of its window ({drift['training_window']}), feature by feature: KL divergence from the training",
        "window's distribution (its deciles, or its values for a feature with few), a warning above"
        f" {drift['threshold']:g} (never a stop).",
        "",
    ]
    rows = [row for row in drift["features"] if row["drifted"]]
    if rows:
        lines += ["| feature | KL divergence | training window | newest weeks |", "| --- | --- | --- | --- |"]
        for row in rows:
            divergence = "infinite" if row["kl_divergence"] is None else f"{row['kl_divergence']:.3f}"
            lines.append(f"| {row['feature']} | {divergence} | {row['training']} | {row['newest']} |")
    else:
        lines.append("No feature drifted.")
    empty = [f"{row['feature']} ({row['note']})" for row in drift["features"] if "training" not in row]
    if empty:
        lines += ["", f"Not compared: {', '.join(empty)}."]
    return [*lines, ""]
