"""Drift that matters: the training slice's newest weeks (COTHER_DRIFT_NEWEST_DAYS, by default the last
28 days) against the rest of its window, feature by feature, in one Great Expectations run.

Each model feature gets expect_column_kl_divergence_to_be_less_than with the training window's
distribution as its partition: a feature with many values by its deciles (bins whose edges are values
of the window, so none is empty), one with few (calendar, holidays, the region) value by value. A
value outside the training window's bins or values gets a small held-out weight, so the divergence
stays finite. Severity warn: a drifted feature is reported, never stops a retrain. The regions are
pooled: the features are level-free (ratios, growth, calendar, weather), and a region's 4 weeks over
10 bins would be mostly noise. A feature empty in either window is not compared and is named.

Everything here is JSON-ready: no NaN, a divergence GX cannot give is null."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SUITE = "fct_training_features_drift"
BINS = 10  # a continuous feature's partition: the training window's deciles
FEW_VALUES = 10  # a numeric feature with at most this many distinct values is compared value by value
HOLDOUT = 0.01  # the weight of values outside the training window's bins or values
SUBJECT = "training slice"


def windows(rows: pd.DataFrame, newest_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slice's rows before its newest days (the training window compared against) and the newest."""
    newest = rows["date_day"] > rows["date_day"].max() - pd.Timedelta(days=newest_days)
    return rows[~newest], rows[newest]


def _plain(value):
    """A numpy or pandas scalar as the Python value JSON and GX's suite take."""
    return value.item() if hasattr(value, "item") else value


def _few_values(values: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return not numeric or values.nunique() <= FEW_VALUES


def partition(values: pd.Series) -> dict:
    """The GX partition object of a feature's non-null values in the training window."""
    values = values.dropna()
    if _few_values(values):
        shares = values.value_counts(normalize=True, sort=False)
        return {"values": [_plain(v) for v in shares.index], "weights": [float(w) for w in shares]}
    numbers = values.astype(float).to_numpy()
    edges = np.unique(np.quantile(numbers, np.linspace(0, 1, BINS + 1), method="inverted_cdf"))
    counts, _ = np.histogram(numbers, bins=edges)
    return {"bins": [float(e) for e in edges], "weights": [float(c) / counts.sum() for c in counts]}


def figures(values: pd.Series) -> str:
    """A window's values of a feature in a few words: median and 10th..90th percentile, or the shares
    of its most common values."""
    values = values.dropna()
    if _few_values(values):
        shares = values.value_counts(normalize=True).head(3)
        return ", ".join(f"{_plain(value)} {share:.0%}" for value, share in shares.items())
    low, median, high = np.quantile(values.astype(float), [0.1, 0.5, 0.9])
    return f"median {median:.3g} (10%..90%: {low:.3g}..{high:.3g})"


def expectation(feature: str, training: pd.Series, threshold: float) -> dict:
    """The feature's KL-divergence expectation, its partition taken from the training window."""
    shape = partition(training)
    kwargs = {"column": feature, "partition_object": shape, "threshold": threshold, "tail_weight_holdout": HOLDOUT}
    return {
        "type": "expect_column_kl_divergence_to_be_less_than",
        "kwargs": kwargs,
        "meta": {
            "severity": "warn",
            "notes": f"{feature}: the newest weeks' distribution against the training window's"
            f" ({'values' if 'values' in shape else 'deciles'})",
        },
    }


def _span(rows: pd.DataFrame) -> str:
    return f"{rows['date_day'].min():%Y-%m-%d}..{rows['date_day'].max():%Y-%m-%d}"


def compare(rows: pd.DataFrame, features: list[str], newest_days: int, threshold: float) -> dict:
    """Each feature of the slice's newest days against the rest of the window: the GX run's validation,
    each feature's divergence, figures of both windows and whether it drifted; `drifted` names those
    over the threshold. Not measured (with the reason) when the slice has no day before its newest."""
    from cother_core.gate import build_suite, validate

    training, newest = windows(rows, newest_days)
    if training.empty or newest.empty:
        reason = f"the slice has {rows['date_day'].nunique()} days, none before its newest {newest_days}"
        return {"measured": False, "reason": reason, "newest_days": newest_days, "threshold": threshold, "drifted": []}
    result = {
        "measured": True,
        "training_window": _span(training),
        "newest_window": _span(newest),
        "newest_days": newest_days,
        "threshold": threshold,
        "drifted": [],
        "features": [],
    }
    compared, empty = [], {}
    for feature in features:
        if training[feature].notna().sum() == 0:
            empty[feature] = "empty in the training window"
        elif newest[feature].notna().sum() == 0:
            empty[feature] = "empty in the newest weeks"
        else:
            compared.append(feature)
    outcomes, validation_id = {}, None
    if compared:
        spec = {"name": SUITE, "expectations": [expectation(f, training[f], threshold) for f in compared]}
        subject = f"marts.fct_training_features, newest weeks {_span(newest)} against {_span(training)}"
        reports = validate(
            newest[list(dict.fromkeys(["region", *compared]))], SUITE, {SUBJECT: subject}, build_suite(spec, SUITE)
        )
        validation_id = reports[SUBJECT].run_id
        outcomes = {outcome.column: outcome for outcome in reports[SUBJECT].outcomes}
    for feature in features:
        row = {"feature": feature, "kl_divergence": None, "drifted": False, "note": empty.get(feature)}
        if feature in outcomes:  # compared
            outcome = outcomes[feature]
            value = outcome.value if isinstance(outcome.value, int | float) else None
            divergence = None if value is None or not math.isfinite(value) else round(float(value), 4)
            row |= {
                "kl_divergence": divergence,
                "drifted": not outcome.success,
                "training": figures(training[feature]),
                "newest": figures(newest[feature]),
            }
            if divergence is None:
                row["note"] = f"no finite divergence: {outcome.observed}"
        result["features"].append(row)
    result["drifted"] = [row["feature"] for row in result["features"] if row["drifted"]]
    return {**result, "validation_id": validation_id}


def tag(drift: dict) -> str:
    """The version tag drifted_features: the drifted features, comma-separated; none; or not measured."""
    if not drift["measured"]:
        return f"not measured: {drift['reason']}"
    return ",".join(drift["drifted"]) or "none"
