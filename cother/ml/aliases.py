"""Moving the registered model's aliases, by a retrain or by hand (`cother model promote | rollback |
history`): each move is made in the MLflow registry and recorded as a row of ml.model_promotions."""

from __future__ import annotations

import getpass

from cother.ml import registry, storage
from cother.ml.promotion import CHAMPION


def move(alias: str, version: str, moved_by: str, reason: str, metrics: dict | None = None) -> str | None:
    """Point `alias` at `version` in the registry and record the move; returns the version it left."""
    holder = registry.alias_version(alias)
    previous = None if holder is None else str(holder.version)
    registry.set_alias(version, alias)
    storage.record_move(registry.model_name(), alias, version, previous, moved_by, reason, metrics)
    return previous


def by_hand() -> str:
    return f"cli:{getpass.getuser()}"


def promote(version: str, reason: str = "promoted by hand") -> str | None:
    """`cother model promote VERSION`: make VERSION the champion; returns the previous champion."""
    registry.client().get_model_version(registry.model_name(), version)  # raises if there is no such version
    return move(CHAMPION, version, by_hand(), reason)


def rollback() -> str:
    """`cother model rollback`: give `champion` back to the version that held it before the last move."""
    last = storage.last_move(registry.model_name(), CHAMPION)
    if last is None or last[1] is None:
        raise ValueError(f"model {registry.model_name()}: no earlier champion to roll back to")
    current, previous = last
    move(CHAMPION, previous, by_hand(), f"rollback from v{current}")
    return previous


def history(limit: int = 20) -> list[dict]:
    return storage.moves(registry.model_name(), limit)
