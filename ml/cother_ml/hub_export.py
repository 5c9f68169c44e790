"""A forecast hub submission: one origin's quantile forecasts of a region set's champion as a hubverse
model-output file (docs.hubverse.io, "Model output"): a CSV named `<round_id>-<model_id>.csv`, one row per
modelling task and quantile level, the task ID columns first, then the output representation:

- reference_date: the forecast origin (the last day with a reported count; the round), ISO date
- target: `day inc case` (daily new cases) or `wk inc case` (a weekly set's week of new cases)
- horizon: the periods ahead of the origin, in the set's unit: days, or weeks for a weekly set
- location: the CO-THER region id
- target_end_date: the day forecast, or the Sunday that ends the week forecast
- output_type: `quantile`; output_type_id: the level (the hubs' 23, 0.01 .. 0.99); value: a count
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from cother_ml.intervals import QUANTILE_LEVELS

TASK_COLUMNS = ["reference_date", "target", "horizon", "location", "target_end_date"]
COLUMNS = [*TASK_COLUMNS, "output_type", "output_type_id", "value"]
TARGETS = {1: "day inc case", 7: "wk inc case"}  # by the days between two rows of the set (cother_ml.grain)


def model_id(model_name: str) -> str:
    """The hubs' team_abbr-model_abbr: the team `cother`, the model its registered name."""
    return f"cother-{model_name}"


def file_name(origin: date, model_name: str) -> str:
    return f"{origin:%Y-%m-%d}-{model_id(model_name)}.csv"


def submission(quantiles: pd.DataFrame, step_days: int) -> pd.DataFrame:
    """Quantile forecasts (region, origin_date, date_day, horizon_days, quantile_level, quantile_value) as
    the rows of a hub submission, in COLUMNS."""
    frame = pd.DataFrame(
        {
            "reference_date": pd.to_datetime(quantiles["origin_date"]).dt.strftime("%Y-%m-%d"),
            "target": TARGETS[step_days],
            "horizon": (quantiles["horizon_days"] // step_days).astype(int),
            "location": quantiles["region"],
            "target_end_date": pd.to_datetime(quantiles["date_day"]).dt.strftime("%Y-%m-%d"),
            "output_type": "quantile",
            "output_type_id": quantiles["quantile_level"].astype(float).round(3),
            "value": quantiles["quantile_value"].astype(float).round().astype(int),
        }
    )
    validate(frame)
    return frame


def validate(frame: pd.DataFrame) -> None:
    """Refuse a submission that is not in COLUMNS, has a task without the hubs' 23 levels, or values that
    fall as the level rises within a task."""
    if list(frame.columns) != COLUMNS:
        raise ValueError(f"hub submission: columns {list(frame.columns)}, expected {COLUMNS}")
    for task, rows in frame.groupby(TASK_COLUMNS, sort=False):
        ordered = rows.sort_values("output_type_id")
        levels = ordered["output_type_id"].to_numpy()
        if len(levels) != len(QUANTILE_LEVELS) or not np.allclose(levels, QUANTILE_LEVELS):
            raise ValueError(f"hub submission: task {task} has levels {ordered['output_type_id'].tolist()}")
        if (np.diff(ordered["value"].to_numpy()) < 0).any():
            raise ValueError(f"hub submission: task {task} has quantiles that fall as the level rises")


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def export(region_set: str, origin: date, out: Path | None = None) -> dict:
    """Write the submission of the set's champion for this origin (the version last promoted to champion
    among those that forecast from it: cother_ml.storage.submission_quantiles, after the alias's current
    holder is recorded there if it was moved outside the project) to `out`, by default file_name() in the
    working folder; the path, the version and the rows written."""
    from cother_ml import aliases, registry, storage
    from cother_ml.grain import grain_of
    from cother_ml.promotion import CHAMPION

    name = registry.model_name_of(region_set)
    aliases.holder_of(name, CHAMPION)
    quantiles = storage.submission_quantiles(name, origin)
    if quantiles.empty:
        raise ValueError(f"export hub: no version of {name} promoted to champion made forecasts from {origin}")
    frame = submission(quantiles, grain_of(region_set).step_days)
    path = write(frame, out or Path(file_name(origin, name)))
    return {"path": str(path), "model_version": str(quantiles["model_version"].iloc[0]), "rows": len(frame)}
