"""The promotion gate: whether a new version becomes `champion` (ml/cother_ml/aliases.py moves the aliases).

`champion` moves to a new version only if, on the same latest backtest days, it beats the current
champion by the configured margin (COTHER_PROMOTION_MARGIN) and beats the best baseline, and its quantile
forecasts' WIS is not worse than the champion's by more than the margin on the days where both have
quantiles (a champion registered before its quantiles is compared on MAE alone, and the reason says so);
otherwise the version becomes the `challenger`. A champion flagged worse than persistence in the field (its forecasts
scored once reported, cother/transform/field_accuracy.py) gives way to a version that beats the best
baseline, without the margin. Per horizon, a version publishes the model's forecasts only where the
model beats the best naive forecaster on those days, and that forecaster's elsewhere (`published`). The champion is scored on those days out of sample: with its own
backtest forecasts for days it trained on, and with its live forecasts after its training window; a
champion that cannot forecast them (registered by older code, its input no longer in the mart) is
compared on its backtest days alone, and gives way to a version that beats the baselines if it has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cother_ml.backtest import mean_absolute_error as mae
from cother_ml.baselines import NAIVE

CHAMPION, CHALLENGER = "champion", "challenger"
LATEST_FOLDS = 4  # judged on the first horizon of the set's grain (cother_ml.grain): the next day, or week


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    metrics: dict[str, float]


def best_naive(latest: pd.DataFrame) -> tuple[str, float]:
    """The naive forecaster with the lowest MAE on these backtest rows (those of their grain), and that MAE."""
    scored = [name for name in NAIVE if name in latest]
    return min(((name, mae(latest["actual"], latest[name])) for name in scored), key=lambda pair: pair[1])


def published(latest: pd.DataFrame) -> dict:
    """The forecaster a horizon's forecasts are published from: the model where its MAE on these latest
    backtest rows beats the best naive forecaster's, else that naive forecaster; with both figures."""
    model = mae(latest["actual"], latest["model"])
    baseline, baseline_mae = best_naive(latest)
    return {
        "forecaster": "model" if model < baseline_mae else baseline,
        "mae_model": round(model, 3),
        "best_naive": baseline,
        "mae_best_naive": round(baseline_mae, 3),
    }


def field_verdict(champion_version: str | None, field: list[dict]) -> str:
    """The field-accuracy alerts of the champion in one sentence: region, horizon, both MAEs, the days."""
    figures = "; ".join(
        f"{flag['region']} h{flag['horizon_days']} MAE {flag['mae']:.1f} vs persistence {flag['persistence_mae']:.1f}"
        f" on {flag['days']}"
        for flag in field
    )
    return f"champion v{champion_version} is worse than persistence in the field ({figures})"


def decide(
    latest: pd.DataFrame,
    champion: pd.Series | None,
    champion_version: str | None,
    margin: float,
    field: list[dict] | None = None,
    cannot_run: str | None = None,
    horizon: str = "next-day",
    champion_wis: pd.Series | None = None,
) -> Decision:
    """`latest`: the new version's backtest forecasts (column `model`) and the baselines' on the latest
    folds; `champion`: the champion's out-of-sample forecasts of the same rows (null where it has none);
    `field`: the champion's field-accuracy alerts (region, horizon_days, days, mae, persistence_mae).
    A champion flagged worse than persistence in the field gives way to any version that beats the
    baselines, whether or not that version beats it on the backtest days. `cannot_run`: why the champion
    could not forecast the days after its training end (an older version whose input the mart no longer
    has); it is then compared on its backtest days alone, and gives way if none of them is among these.
    `horizon`: the first horizon in words, as the reasons name it ("next-day", "1-week"). `champion_wis`:
    the WIS of the champion's forecasts of the same rows (null where it has no quantiles), against the new
    version's (`latest`'s column `model_wis`, cother_ml.backtest_intervals) once it has won on MAE."""
    model = mae(latest["actual"], latest["model"])
    baseline, baseline_mae = best_naive(latest)
    metrics = {"gate_mae_model": model, f"gate_mae_{baseline}": baseline_mae}
    days = f"{latest['target_date'].min():%Y-%m-%d}..{latest['target_date'].max():%Y-%m-%d}"
    if model >= baseline_mae:
        return Decision(
            False, f"{horizon} MAE {model:.1f} on {days} does not beat {baseline} {baseline_mae:.1f}", metrics
        )
    if champion is None:
        why = (
            "no champion yet"
            if champion_version is None
            else f"champion v{champion_version} has no backtest to compare"
        )
        return Decision(
            True, f"{horizon} MAE {model:.1f} on {days} beats {baseline} {baseline_mae:.1f}; {why}", metrics
        )
    if field:
        metrics["gate_field_flags"] = len(field)
        return Decision(
            True,
            f"{horizon} MAE {model:.1f} on {days} beats {baseline} {baseline_mae:.1f}; {field_verdict(champion_version, field)}",
            metrics,
        )
    common = champion.notna()
    if not common.any():
        if cannot_run:
            return Decision(
                True, f"{horizon} MAE {model:.1f} on {days} beats {baseline} {baseline_mae:.1f}; {cannot_run}", metrics
            )
        return Decision(
            False, f"no day of {days} has an out-of-sample forecast of champion v{champion_version}", metrics
        )
    new, old = mae(latest["actual"][common], latest["model"][common]), mae(latest["actual"][common], champion[common])
    metrics.update(gate_mae_model_common=new, gate_mae_champion=old, gate_common_days=int(common.sum()))
    scope = "" if cannot_run is None else f" ({cannot_run}: compared on its backtest days alone)"
    if new > (1 - margin) * old:
        reason = f"{horizon} MAE {new:.1f} on {int(common.sum())} common days {days} does not beat champion v{champion_version} {old:.1f} by {margin:.0%}{scope}"
        return Decision(False, reason, metrics)
    verdict = f"beats champion v{champion_version} {old:.1f} by at least {margin:.0%} and {baseline} {baseline_mae:.1f}"
    mae_reason = f"{horizon} MAE {new:.1f} on {int(common.sum())} common days {days} {verdict}{scope}"
    promote, wis_reason = wis_verdict(latest, champion_wis, champion_version, margin, metrics)
    return Decision(promote, f"{mae_reason}; {wis_reason}", metrics)


def wis_verdict(
    latest: pd.DataFrame, champion_wis: pd.Series | None, champion_version: str, margin: float, metrics: dict
) -> tuple[bool, str]:
    """Whether the new version's mean WIS on the rows where both have quantiles is within `margin` of the
    champion's (not worse by more), and why; True, saying so, where they share none. Adds its figures to
    `metrics`."""
    missing = pd.Series(float("nan"), index=latest.index)
    new_wis = latest.get("model_wis", missing)
    old_wis = missing if champion_wis is None else champion_wis
    both = new_wis.notna() & old_wis.notna()
    if not both.any():
        return True, f"champion v{champion_version} has no quantile forecasts of these days: compared on MAE alone"
    new, old = float(new_wis[both].mean()), float(old_wis[both].mean())
    metrics.update(gate_wis_model_common=new, gate_wis_champion=old, gate_wis_common_days=int(both.sum()))
    figures = f"WIS {new:.1f} against champion v{champion_version}'s {old:.1f} on {int(both.sum())} common days"
    if new > (1 + margin) * old:
        return False, f"but its {figures} is worse by more than {margin:.0%}"
    return True, f"{figures}, not worse by more than {margin:.0%}"
