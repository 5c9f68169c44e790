"""The promotion gate and the aliases of the registered model.

`champion` moves to a new version only if, on the same latest backtest days, it beats the current
champion by the configured margin (COTHER_PROMOTION_MARGIN) and beats the best baseline; otherwise the
version becomes the `challenger`. The champion is scored on those days out of sample: with its own
backtest forecasts for days it trained on, and with its live forecasts after its training window.
Every move of an alias, by a retrain or by hand, is a row of ml.model_promotions.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass

import pandas as pd

from cother.database import connect
from cother.loading import ensure_warehouse
from ml import registry
from ml.backtest import mean_absolute_error as mae
from ml.baselines import NAIVE

CHAMPION, CHALLENGER = registry.CHAMPION, "challenger"
LATEST_FOLDS = 4
GATE_HORIZON = 1


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str
    metrics: dict[str, float]


def decide(latest: pd.DataFrame, champion: pd.Series | None, champion_version: str | None, margin: float) -> Decision:
    """`latest`: the new version's backtest forecasts (column `model`) and the baselines' on the latest
    folds; `champion`: the champion's out-of-sample forecasts of the same rows (null where it has none)."""
    model = mae(latest["actual"], latest["model"])
    baseline, baseline_mae = min(((name, mae(latest["actual"], latest[name])) for name in NAIVE), key=lambda x: x[1])
    metrics = {"gate_mae_model": model, f"gate_mae_{baseline}": baseline_mae}
    days = f"{latest['target_date'].min():%Y-%m-%d}..{latest['target_date'].max():%Y-%m-%d}"
    if model >= baseline_mae:
        return Decision(
            False, f"next-day MAE {model:.1f} on {days} does not beat {baseline} {baseline_mae:.1f}", metrics
        )
    if champion is None:
        why = (
            "no champion yet"
            if champion_version is None
            else f"champion v{champion_version} has no backtest to compare"
        )
        return Decision(True, f"next-day MAE {model:.1f} on {days} beats {baseline} {baseline_mae:.1f}; {why}", metrics)
    common = champion.notna()
    if not common.any():
        return Decision(
            False, f"no day of {days} has an out-of-sample forecast of champion v{champion_version}", metrics
        )
    new, old = mae(latest["actual"][common], latest["model"][common]), mae(latest["actual"][common], champion[common])
    metrics.update(gate_mae_model_common=new, gate_mae_champion=old, gate_common_days=int(common.sum()))
    if new <= (1 - margin) * old:
        verdict = (
            f"beats champion v{champion_version} {old:.1f} by at least {margin:.0%} and {baseline} {baseline_mae:.1f}"
        )
        return Decision(True, f"next-day MAE {new:.1f} on {int(common.sum())} common days {days} {verdict}", metrics)
    reason = f"next-day MAE {new:.1f} on {int(common.sum())} common days {days} does not beat champion v{champion_version} {old:.1f} by {margin:.0%}"
    return Decision(False, reason, metrics)


def move(alias: str, version: str, moved_by: str, reason: str, metrics: dict | None = None) -> str | None:
    """Point `alias` at `version` in the registry and record the move; returns the version it left."""
    ensure_warehouse()
    holder = registry.alias_version(alias)
    previous = None if holder is None else str(holder.version)
    registry.set_alias(version, alias)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ml.model_promotions (model_name, alias_name, model_version, previous_model_version,"
            " moved_by, reason, metrics) values (%s, %s, %s, %s, %s, %s, %s)",
            (registry.model_name(), alias, version, previous, moved_by, reason, json.dumps(metrics or {})),
        )
    return previous


def by_hand() -> str:
    return f"cli:{getpass.getuser()}"


def promote(version: str, reason: str = "promoted by hand") -> str | None:
    """`cother model promote VERSION`: make VERSION the champion; returns the previous champion."""
    registry.client().get_model_version(registry.model_name(), version)  # raises if there is no such version
    return move(CHAMPION, version, by_hand(), reason)


def rollback() -> str:
    """`cother model rollback`: give `champion` back to the version that held it before the last move."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select model_version, previous_model_version from ml.model_promotions"
            " where model_name = %s and alias_name = %s order by id desc limit 1",
            (registry.model_name(), CHAMPION),
        )
        last = cur.fetchone()
    if last is None or last[1] is None:
        raise ValueError(f"model {registry.model_name()}: no earlier champion to roll back to")
    current, previous = last
    move(CHAMPION, previous, by_hand(), f"rollback from v{current}")
    return previous


def history(limit: int = 20) -> list[dict]:
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select moved_at, alias_name, model_version, previous_model_version, moved_by, reason"
            " from ml.model_promotions where model_name = %s order by id desc limit %s",
            (registry.model_name(), limit),
        )
        keys = ["moved_at", "alias", "version", "previous", "moved_by", "reason"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
