"""The model's rules on plain frames, without a database: the backtest's folds and the promotion gate
(MAE, and WIS where the champion has quantiles)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import card_of

from cother_ml import promotion
from cother_ml.backtest import folds
from cother_ml.forecaster import Forecaster, ForecasterConfig
from cother_ml.grain import DAILY
from cother_ml.target import ANCHORING, WEEKLY_ANCHORING, Anchoring

pytestmark = pytest.mark.unit


def test_too_short_a_history_is_refused_by_name():
    days = pd.Series(pd.date_range("2021-01-01", periods=100))
    with pytest.raises(ValueError, match="too few for 8 folds"):
        folds(days)


def test_a_worse_challenger_is_refused_by_the_gate():
    days = pd.date_range("2021-09-01", periods=28)
    latest = pd.DataFrame(
        {
            "target_date": days,
            "actual": 100.0,
            "model": 90.0,
            "persistence": 80.0,
            "seasonal_naive": 70.0,
            "mean_7d": 75.0,
        }
    )
    champion = pd.Series(95.0, index=latest.index)
    decision = promotion.decide(latest, champion, "3", margin=0.01)
    assert not decision.promote and "does not beat champion v3 5.0" in decision.reason
    assert promotion.decide(latest.assign(model=99.0), champion, "3", margin=0.01).promote


def test_a_version_that_wins_on_mae_but_loses_on_wis_beyond_the_margin_is_refused():
    days = pd.date_range("2021-09-01", periods=28)
    latest = pd.DataFrame({"target_date": days, "actual": 100.0, "model": 99.0, "persistence": 80.0})
    latest = latest.assign(seasonal_naive=70.0, mean_7d=75.0, model_wis=10.2)
    champion = pd.Series(95.0, index=latest.index)
    on_backtest_days = pd.Series(10.0, index=latest.index).where(latest["target_date"] < "2021-09-15")
    decision = promotion.decide(latest, champion, "3", margin=0.01, champion_wis=on_backtest_days)
    assert not decision.promote and decision.metrics["gate_wis_common_days"] == 14
    assert decision.reason.endswith(
        "but its WIS 10.2 against champion v3's 10.0 on 14 common days is worse by more than 1%"
    )
    within = promotion.decide(latest.assign(model_wis=10.1), champion, "3", margin=0.01, champion_wis=on_backtest_days)
    assert within.promote and within.reason.endswith(
        "WIS 10.1 against champion v3's 10.0 on 14 common days, not worse by more than 1%"
    )
    assert within.metrics["gate_wis_model_common"] == pytest.approx(10.1)
    for no_quantiles in (None, pd.Series(float("nan"), index=latest.index)):  # an old champion: MAE alone
        decision = promotion.decide(latest, champion, "3", margin=0.01, champion_wis=no_quantiles)
        assert decision.promote and "gate_wis_champion" not in decision.metrics
        assert decision.reason.endswith("champion v3 has no quantile forecasts of these days: compared on MAE alone")


def test_a_champion_that_cannot_forecast_the_current_rows_is_compared_on_its_backtest_days_or_gives_way():
    days = pd.date_range("2021-09-01", periods=28)
    latest = pd.DataFrame({"target_date": days, "actual": 100.0, "model": 90.0, "persistence": 80.0})
    latest = latest.assign(seasonal_naive=70.0, mean_7d=75.0)
    failure = "champion v3 cannot forecast the current rows (MlflowException: Model is missing inputs)"
    backtest_days_only = pd.Series(95.0, index=latest.index).where(latest["target_date"] < "2021-09-10")
    decision = promotion.decide(latest, backtest_days_only, "3", margin=0.01, cannot_run=failure)
    assert not decision.promote and decision.metrics["gate_common_days"] == 9
    assert f"does not beat champion v3 5.0 by 1% ({failure}: compared on its backtest days alone)" in decision.reason
    none_of_these = pd.Series(float("nan"), index=latest.index)
    decision = promotion.decide(latest, none_of_these, "3", margin=0.01, cannot_run=failure)
    assert decision.promote and decision.reason.endswith(f"beats persistence 20.0; {failure}")
    assert not promotion.decide(latest, none_of_these, "3", margin=0.01).promote  # no reason: no day to compare


def test_a_horizon_publishes_the_model_only_where_it_beats_the_best_naive_forecaster():
    latest = pd.DataFrame({"actual": [100.0, 110.0], "model": [90.0, 100.0], "persistence": [95.0, 105.0]})
    latest = latest.assign(seasonal_naive=80.0, mean_7d=70.0)
    assert promotion.published(latest) == {
        "forecaster": "persistence",
        "mae_model": 10.0,
        "best_naive": "persistence",
        "mae_best_naive": 5.0,
    }
    assert promotion.published(latest.assign(model=latest["actual"] - 1))["forecaster"] == "model"


def test_the_next_day_anchor_is_the_weekly_mean_and_seven_days_ahead_a_damped_same_weekday_count():
    """A week ahead: the origin's count (the target's weekday) grown by 40 % of the weekly log growth,
    moved by 30 % of the model's predicted change; the next day: the weekly mean, the whole change."""
    rows = pd.DataFrame({"day_of_week": [3], "cases_mean_7d": [50.0], "cases_lag_1": [99.0], "cases_lag_7": [40.0]})
    rows = rows.assign(cases_growth_7d=2 * math.log(2))  # the weekly mean grew 4-fold: 40 % of it is 2 ** 0.8
    assert ANCHORING.for_horizon(rows, 1)["anchor"].item() == 50.0
    seven_days = ANCHORING.for_horizon(rows, 7)
    assert seven_days["anchor"].item() == pytest.approx(100 * 2**0.8 - 1)
    assert seven_days["same_weekday"].item() == 99.0
    doubled = ANCHORING.from_target(seven_days["anchor"], [math.log(2) / 0.3], horizon=7)  # 30 % of it: a doubling
    assert doubled.item() == pytest.approx(2 * 100 * 2**0.8 - 1)
    assert ANCHORING.from_target([50.0], [math.log(2)], horizon=1).item() == pytest.approx(101.0)


def test_a_version_forecasts_with_the_anchoring_it_recorded_and_one_that_recorded_none_with_the_weekly_mean():
    """The registry may run a version registered by older code: its recorded shares, not the current ones;
    a version from before the 7-day anchor records none and has no lags in its input."""
    recorded = json.loads(json.dumps({"features": [], "anchoring": ANCHORING.config()}))  # as MLflow keeps it
    assert Anchoring.of_version(recorded) == ANCHORING
    older = Anchoring.of_version({"features": []})
    rows = pd.DataFrame({"day_of_week": [3], "cases_mean_7d": [50.0], "cases_growth_7d": [1.0]})
    seven_days = older.for_horizon(rows, 7)
    assert seven_days["anchor"].item() == 50.0 and "same_weekday" not in seven_days
    assert older.from_target(seven_days["anchor"], [math.log(2)], horizon=7).item() == pytest.approx(101.0)


def test_a_weekly_forecast_one_week_ahead_is_held_near_the_last_week_after_extreme_growth():
    """One week ahead (7 days) a weekly set's forecast after a week grown more than e-fold is the median of
    the model's, last week's count and the anchor; its log change over last week is at most 70 % of last
    week's own; a row without last week's growth, and the other horizons, keep the model's forecast."""
    rows = pd.DataFrame(
        {
            "cases_lag_1": [1000.0, 1000.0, 1000.0, 1000.0],
            "anchor": [400.0, 900.0, 900.0, 900.0],
            "cases_growth_1w": [2.0, 0.5, -0.1, float("nan")],  # e**2, e**0.5, e**-0.1 fold, unknown
        }
    )
    forecast = np.array([5000.0, 5000.0, 1500.0, 5000.0])
    held = WEEKLY_ANCHORING.held(rows, forecast, 7)
    assert held[0] == pytest.approx(1000.0)  # the median of 5,000, 1,000 and 400
    assert math.log1p(held[1]) - math.log1p(1000) == pytest.approx(0.7 * 0.5)  # grown at most e**0.35 fold
    assert math.log1p(held[2]) - math.log1p(1000) == pytest.approx(0.7 * 0.1)
    assert held[3] == 5000.0
    assert (WEEKLY_ANCHORING.held(rows, forecast, 14) == forecast).all()
    recorded = json.loads(json.dumps({"features": [], "anchoring": WEEKLY_ANCHORING.config()}))
    assert Anchoring.of_version(recorded) == WEEKLY_ANCHORING


def test_a_horizon_with_a_level_weight_weighs_a_large_region_more():
    """A large region doubling (30 weeks of 10,000 cases) against a small one halving (60 weeks of 100):
    alike, the small region's many weeks decide the change; weighed by the square root of the anchor
    (100 against 10 a week), the large one's."""
    weeks = pd.date_range("2022-01-02", periods=60, freq="W-SUN")
    large = pd.DataFrame({"region": "large", "target_date": weeks[:30], "anchor": 10_000.0, "actual": 20_001.0})
    small = pd.DataFrame({"region": "small", "target_date": weeks, "anchor": 100.0, "actual": 49.5})
    rows = pd.concat([large, small], ignore_index=True).assign(cases_growth_1w=0.0)
    config = ForecasterConfig(level_weight={14: 0.5})

    def change(horizon: int) -> float:
        forecaster = Forecaster(horizon, ["cases_growth_1w"], ["large", "small"], config).fit(rows)
        return forecaster.model.predict(rows[["cases_growth_1w"]].head(1)).item()

    assert change(7) == pytest.approx(-math.log(2), abs=0.01)
    assert change(14) == pytest.approx(math.log(2), abs=0.01)


CORE = ["target", "features", "forecaster", "baselines", "backtest", "promotion", "fitting", "report", "lineage"]
EDGE = ["cother_core.database", "psycopg2", "sqlalchemy", "airflow", "mlflow", "great_expectations"]


def test_the_model_core_imports_no_database_registry_or_airflow():
    """cother_ml's core takes frames and configuration objects: importing it loads none of the edge's
    libraries (cother_ml.storage, registry, slice_gate and retrain are the edge)."""
    probe = f"import sys; import {', '.join('cother_ml.' + name for name in CORE)}; print(' '.join(sys.modules))"
    loaded = set(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    )
    assert {module for module in loaded if module.split(".")[0] in EDGE or module in EDGE} == set()


def test_the_model_card_says_which_forecaster_could_not_be_scored_and_carries_no_nan():
    from cother_ml import report
    from cother_ml.fitting import NO_WEATHER

    scores = {"mae": 10.0, "rmse": 12.0, "mase": 0.8, "r2": 0.5}
    unscored = dict.fromkeys(scores, float("nan"))
    summary = pd.DataFrame(
        [{"horizon": 1, "forecaster": "model", **scores}, {"horizon": 1, "forecaster": "project_2021", **unscored}]
    )
    published = {
        1: {"forecaster": "persistence", "mae_model": 12.0, "best_naive": "persistence", "mae_best_naive": 9.5}
    }
    card = report.model_card(
        "cother_cases_forecaster",
        DAILY,
        version_tags={"training_end": "2021-10-05"},
        summary=summary,
        decision="why",
        importance={"h1": {"x": 3}},
        published=published,
        weather=NO_WEATHER,
        drift={"measured": False, "reason": "the slice has 20 days, none before its newest 28", "drifted": []},
        intervals=[
            {
                "horizon": 1,
                "forecasts": 196,
                "wis": 12.34,
                "dispersion": 5.0,
                "overprediction": 3.0,
                "underprediction": 4.34,
                "coverage_50": 0.52,
                "coverage_95": 0.931,
                "baseline_coverage_50": 0.4,
                "baseline_coverage_95": 0.8,
                "baseline_wis": 20.0,
                "relative_wis": 0.617,
            }
        ],
        surge=[
            {"horizon": 1, "level": 0.6, "episodes": 12, "recall": 0.8333, "warned_share": 0.141, "kept": False},
            {"horizon": 7, "level": None, "episodes": 9, "recall": None, "warned_share": None, "kept": False},
        ],
    )
    assert "| 1 | project_2021 | not scored: no day with its inputs |" in card
    assert "| next-day | 196 | 12.3 | 5.0 | 3.0 | 4.3 | 52.0% | 93.1% | 20.0 | 40.0%, 80.0% | 0.617 |" in card
    assert "Not scored: no backtest forecast" in card_of(summary, NO_WEATHER, {"measured": False, "reason": "x"})
    assert "## Drift\n\nNot measured: the slice has 20 days, none before its newest 28." in card
    assert "- next-day forecasts: **persistence** (the model's MAE 12.0 does not beat persistence 9.5)" in card
    assert "| next-day | 0.60 | 12 | 83.3% | 14.1% |" in card
    assert "| 7-day | none: too few surges, no warning | 9 | | |" in card
    kept = {"horizon": 7, "level": 0.35, "episodes": 0, "recall": None, "warned_share": 0.05, "kept": True}
    kept_section = report.surge_section([kept, {**kept, "horizon": 1, "warned_share": None}], DAILY)
    assert "| 7-day | 0.35, the champion's: too few surges to choose on | 0 |  | 5.0% |" in kept_section
    assert "| next-day | 0.35, the champion's: too few surges to choose on | 0 |  |  |" in kept_section
    assert "nan" not in card.lower() and "cases_mean_7d" in card


def test_a_champion_worse_than_persistence_in_the_field_gives_way_without_the_margin():
    days = pd.date_range("2021-09-01", periods=28)
    latest = pd.DataFrame(
        {"target_date": days, "actual": 100.0, "model": 90.0, "persistence": 80.0, "seasonal_naive": 70.0}
    ).assign(mean_7d=75.0)
    champion = pd.Series(95.0, index=latest.index)
    field = [
        {
            "region": "seoul",
            "horizon_days": 7,
            "days": "2021-08-18..2021-08-31",
            "scored_days": 14,
            "mae": 120.0,
            "persistence_mae": 40.0,
        }
    ]
    decision = promotion.decide(latest, champion, "3", margin=0.01, field=field)
    assert decision.promote and decision.metrics["gate_field_flags"] == 1
    assert "champion v3 is worse than persistence in the field" in decision.reason
    assert "seoul h7 MAE 120.0 vs persistence 40.0 on 2021-08-18..2021-08-31" in decision.reason
    assert not promotion.decide(latest.assign(model=100.0 - 35.0), champion, "3", margin=0.01, field=field).promote


def drift_slice(days: int = 120):
    """A training slice of two regions: `steady` the same noise throughout, `shifted` moved up 3 standard
    deviations in the last 28 days, the calendar as it is, the wind never measured."""
    import numpy as np

    rng = np.random.default_rng(7)
    parts = []
    for region in ("seoul", "busan"):
        day = pd.date_range("2021-01-01", periods=days)
        newest = day > day[-1] - pd.Timedelta(days=28)
        parts.append(
            pd.DataFrame(
                {
                    "region": region,
                    "date_day": day,
                    "steady": rng.normal(0, 1, days),
                    "shifted": rng.normal(0, 1, days) + 3 * newest,
                    "day_of_week": day.day_of_week + 1,
                    "wind_speed_mean_ms_lag_1": np.nan,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_the_drift_of_the_newest_weeks_names_the_shifted_feature_only():
    """The training slice's newest 28 days against the rest of its window, through GX's KL-divergence
    expectation: the shifted feature drifted, with figures of both windows; the steady one and the
    calendar did not; a feature empty in a window is named, never NaN; the card lists what drifted."""
    import json

    from cother_ml import drift, report
    from cother_ml.fitting import NO_WEATHER

    features = ["region", "steady", "shifted", "day_of_week", "wind_speed_mean_ms_lag_1"]
    result = drift.compare(drift_slice(), features, newest_days=28, threshold=0.5)
    json.dumps(result, allow_nan=False)
    assert result["measured"] and result["drifted"] == ["shifted"]
    assert result["training_window"] == "2021-01-01..2021-04-02" and result["newest_window"] == "2021-04-03..2021-04-30"
    rows = {row["feature"]: row for row in result["features"]}
    assert rows["shifted"]["kl_divergence"] > 2 and rows["shifted"]["newest"].startswith("median 2.")
    assert rows["steady"]["kl_divergence"] < 0.5 and not rows["steady"]["drifted"]
    assert rows["day_of_week"]["kl_divergence"] < 0.05 and rows["region"]["kl_divergence"] == 0
    assert rows["wind_speed_mean_ms_lag_1"] == {
        "feature": "wind_speed_mean_ms_lag_1",
        "kl_divergence": None,
        "drifted": False,
        "note": "empty in the training window",
    }
    assert len(result["validation_id"]) == 32 and drift.tag(result) == "shifted"
    summary = pd.DataFrame([{"horizon": 1, "forecaster": "model", "mae": 1.5, "rmse": 2.0, "mase": 0.5, "r2": 0.9}])
    card = card_of(summary, weather=NO_WEATHER, drift=result)
    shifted = rows["shifted"]
    assert "## Drift" in card and "The newest 28 days of the training slice (2021-04-03..2021-04-30)" in card
    assert f"| shifted | {shifted['kl_divergence']:.3f} | {shifted['training']} | {shifted['newest']} |" in card
    assert "| steady |" not in card and "Not compared: wind_speed_mean_ms_lag_1 (empty in the training window)." in card
    assert "nan" not in card.lower()
    unshifted = drift.compare(drift_slice().assign(shifted=0.0), ["shifted"], newest_days=28, threshold=0.5)
    assert unshifted["drifted"] == [] and drift.tag(unshifted) == "none"
    assert "No feature drifted." in report.drift_section(unshifted)
    short = drift.compare(drift_slice(days=20), features, newest_days=28, threshold=0.5)
    assert drift.tag(short) == "not measured: the slice has 20 days, none before its newest 28"


def test_a_region_the_version_did_not_train_on_is_answered_by_the_best_naive_forecaster():
    """45 countries quarantined over the world model's training window were forecast by it anyway and
    gave most of its worst 7-day errors; such a region now gets the horizon's best naive forecaster."""
    from cother_ml import publication

    slice_days = pd.DataFrame({"region": ["seoul"] * 28 + ["busan"] * 27})
    assert publication.trained_regions(slice_days) == ["seoul"]
    rows = pd.DataFrame({"region": ["seoul", "busan", "jeju"], "cases_lag_1": [10.0, 20.0, 30.0]})
    names = publication.forecaster_names(rows["region"], "model", "persistence", ["seoul"])
    assert names.tolist() == ["model", "persistence", "persistence"]
    assert publication.forecaster_names(rows["region"], "model", "persistence", None).tolist() == ["model"] * 3
    model = lambda chosen: chosen["cases_lag_1"].to_numpy() * 100  # noqa: E731 -- stands for a fitted model
    assert publication.forecast(rows, names, model).tolist() == [1000.0, 20.0, 30.0]
