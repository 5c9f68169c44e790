"""Moving the registered model's aliases, by a retrain or by hand (`cother model promote | rollback |
history`): each move is made in the MLflow registry and recorded as a row of ml.model_promotions.

An alias can also be moved outside the project (through the MLflow UI's server, with its admin login,
or with MLflow's own client on the registry database), which records nothing and keeps no history of
aliases. So whenever the project reads an alias to act on it (the retrain's gate, a move, `cother model
history`), an alias found where its last recorded move did not leave it is recorded first, as a move
made outside the project: who made it and when are unknown, and its row says so."""

from __future__ import annotations

import getpass

from cother_ml import registry, storage
from cother_ml.promotion import CHALLENGER, CHAMPION

OUTSIDE = "outside the project (unknown)"


def move(name: str, alias: str, version: str, moved_by: str, reason: str, metrics: dict | None = None) -> str | None:
    """Point model `name`'s `alias` at `version` in the registry and record the move; returns the version
    it left."""
    holder = holder_of(name, alias)
    previous = None if holder is None else str(holder.version)
    registry.set_alias(name, version, alias)
    storage.record_move(name, alias, version, previous, moved_by, reason, metrics)
    return previous


def holder_of(name: str, alias: str):
    """The version of model `name` that holds `alias` in the registry (an MLflow ModelVersion, or None),
    its move recorded first if it was made outside the project."""
    holder = registry.alias_version(name, alias)
    last = storage.last_move(name, alias)
    recorded = None if last is None else last[0]
    if holder is not None and str(holder.version) != recorded:
        reason = f"found on v{holder.version} where the log left it on {'v' + recorded if recorded else 'no version'}"
        storage.record_move(
            name, alias, str(holder.version), recorded, OUTSIDE, f"{reason}; who and when unknown", None
        )
    return holder


def by_hand() -> str:
    return f"cli:{getpass.getuser()}"


def promote(name: str, version: str, reason: str = "promoted by hand") -> str | None:
    """`cother model promote VERSION`: make VERSION the champion; returns the previous champion."""
    registry.client().get_model_version(name, version)  # raises if there is no such version
    return move(name, CHAMPION, version, by_hand(), reason)


def rollback(name: str) -> str:
    """`cother model rollback`: give `champion` back to the version that held it before the last move."""
    last = storage.last_move(name, CHAMPION)
    if last is None or last[1] is None:
        raise ValueError(f"model {name}: no earlier champion to roll back to")
    current, previous = last
    move(name, CHAMPION, previous, by_hand(), f"rollback from v{current}")
    return previous


def history(name: str, limit: int = 20) -> list[dict]:
    for alias in (CHAMPION, CHALLENGER):
        holder_of(name, alias)
    return storage.moves(name, limit)
