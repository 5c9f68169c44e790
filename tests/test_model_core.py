"""The model core on small hand-made frames, each figure worked out by hand: the target transform, the
examples each horizon learns from, the backtest's folds (by time only: a fold is fitted on the rows
known at its first origin), its metrics, the naive forecasters, the forecaster each horizon publishes,
the promotion gate's refusals and its margin, and the hubs' baseline intervals. No database, no
registry, no dbt (tests/test_backtest.py runs the same code on the bundled data through dbt).
The WIS, the intervals' ordering and their calibration on earlier folds: tests/test_quantile_forecasts.py;
the gate's champion comparisons and the anchoring's shares: tests/test_model_rules.py."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cother_ml import intervals, promotion
from cother_ml.backtest import BacktestConfig, backtest, folds, metrics, scores, summary
from cother_ml.baselines import NAIVE, NAIVE_INPUTS, PROJECT_2021_FEATURES, project_2021
from cother_ml.features import examples, labelled, upcoming
from cother_ml.fitting import Fitted, TrainingConfig
from cother_ml.forecaster import Forecaster
from cother_ml.grain import DAILY, WEEKLY
from cother_ml.target import ANCHORING, same_weekday_column, to_target

pytestmark = pytest.mark.unit


def days(first: str, count: int, step: int = 1) -> pd.DatetimeIndex:
    return pd.date_range(first, periods=count, freq=f"{step}D")


# the target


def test_the_target_is_the_log_change_against_the_anchor_and_a_forecast_is_never_negative():
    assert to_target(pd.Series([99.0, 0.0]), pd.Series([9.0, 0.0])).tolist() == pytest.approx([math.log(10), 0.0])
    # the next day keeps the whole change: 9 cases moved by log(10) is 99
    assert ANCHORING.from_target([9.0], [math.log(10)], horizon=1).tolist() == pytest.approx([99.0])
    # 1 case moved down by 10 on the log scale is 2e^-10 - 1 < 0: a count of 0
    assert ANCHORING.from_target([1.0], [-10.0], horizon=1).tolist() == [0.0]


@pytest.mark.parametrize(("horizon", "lag"), [(1, 7), (2, 6), (6, 2), (7, 1), (8, 7), (14, 1)])
def test_the_seasonal_naive_reads_the_latest_count_of_the_target_days_weekday(horizon, lag):
    """A mart row is the day after the origin, so lag k is the count k days before the row; the target
    is h - 1 days after the row: the latest same weekday known at the origin is 7 ceil(h / 7) days before
    the target."""
    assert same_weekday_column(horizon) == f"cases_lag_{lag}"
    row, target = pd.Timestamp("2021-03-10"), pd.Timestamp("2021-03-10") + pd.Timedelta(days=horizon - 1)
    read = row - pd.Timedelta(days=lag)
    assert read.day_name() == target.day_name()  # the table above: the same weekday, lag 1 at the latest
    assert NAIVE_INPUTS["seasonal_naive"](horizon) == f"cases_lag_{lag}"


# the examples


def daily_mart() -> pd.DataFrame:
    """Two regions of 10 days, 2021-03-01 (a Monday) to 2021-03-10: Seoul reports 100 + the day's number
    (0 to 9), Busan 200 + it; every anchor input a round number."""
    parts = []
    for region, base in (("seoul", 100), ("busan", 200)):
        day = days("2021-03-01", 10)
        parts.append(
            pd.DataFrame(
                {
                    "region": region,
                    "date_day": day,
                    "new_cases": base + np.arange(10.0),
                    "day_of_week": day.day_of_week + 1,  # Monday 1
                    "cases_mean_7d": float(base),
                    "cases_lag_1": float(base - 1),
                    "cases_lag_7": float(base - 7),
                    "cases_growth_7d": 0.0,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_a_horizons_examples_pair_each_row_with_the_count_h_minus_1_days_later_in_its_own_region():
    mart = daily_mart()
    week = examples(mart, 7, DAILY)
    seoul, busan = week[week["region"] == "seoul"], week[week["region"] == "busan"]
    first = seoul.iloc[0]  # the row of Monday 2021-03-01: the origin is the Sunday before
    assert (first["origin_date"], first["target_date"]) == (pd.Timestamp("2021-02-28"), pd.Timestamp("2021-03-07"))
    assert first["actual"] == 106.0 and first["target_day_of_week"] == 7  # Sunday's count
    assert seoul["actual"].tolist()[:4] == [106.0, 107.0, 108.0, 109.0]
    assert seoul["actual"].iloc[4:].isna().all()  # 7 days ahead of the last 6 days: not reported yet
    assert busan["actual"].tolist()[:4] == [206.0, 207.0, 208.0, 209.0]  # never Seoul's
    # 7 days ahead the anchor is the origin's count grown by 40 % of no growth, the seasonal naive that count
    assert first["anchor"] == pytest.approx(99.0) and first["same_weekday"] == 99.0
    next_day = examples(mart, 1, DAILY).iloc[0]
    assert (next_day["actual"], next_day["anchor"], next_day["same_weekday"]) == (100.0, 100.0, 93.0)
    assert next_day["target_date"] == pd.Timestamp("2021-03-01") and next_day["target_day_of_week"] == 1


def test_a_weekly_horizon_pairs_a_sunday_with_the_sunday_weeks_later():
    sundays = days("2021-03-07", 5, step=7)
    mart = pd.DataFrame(
        {"region": "fr", "date_day": sundays, "new_cases": [10.0, 20.0, 30.0, 40.0, 50.0], "cases_mean_4w": 25.0}
    )
    two_weeks = examples(mart, 14, WEEKLY)
    assert two_weeks["origin_date"].iloc[0] == pd.Timestamp("2021-02-28")  # the Sunday before the row's week
    assert two_weeks["target_date"].iloc[0] == pd.Timestamp("2021-03-14")
    assert two_weeks["actual"].iloc[:4].tolist() == [20.0, 30.0, 40.0, 50.0] and np.isnan(two_weeks["actual"].iloc[4])
    assert (two_weeks["anchor"] == 25.0).all() and "target_day_of_week" not in two_weeks


def test_a_region_with_a_missing_day_is_refused_rather_than_paired_with_the_wrong_day():
    mart = daily_mart().drop(index=3)  # Seoul's 2021-03-04
    with pytest.raises(ValueError, match=r"marts.fct_training_features: the rows of a region are not 1 day\(s\) apart"):
        examples(mart, 7, DAILY)


def test_labelled_rows_have_a_target_an_anchor_and_every_case_feature_and_upcoming_rows_a_count_to_start_from():
    grain = replace(DAILY, case_features=("cases_growth_7d",))
    rows = pd.DataFrame(
        {
            "region": ["a", "b", "c", "d"],
            "actual": [1.0, None, 3.0, 4.0],
            "anchor": [1.0, 2.0, None, 4.0],
            "cases_growth_7d": [0.1, 0.2, 0.3, None],
            "is_forecast_row": [True, True, True, False],
            "cases_lag_1": [5.0, None, 7.0, 8.0],
        }
    )
    assert labelled(rows, grain)["region"].tolist() == ["a"]  # b has no target, c no anchor, d no growth
    # b has no count on its origin day, c no anchor, d is not its region's latest origin
    assert upcoming(rows)["region"].tolist() == ["a"]


# the backtest


def test_the_folds_are_the_last_blocks_of_days_shortened_to_fit_the_history():
    # 100 days, 56 of them training before the first fold: 44 left for 4 folds, 11 days each
    target_days = pd.Series(days("2021-01-01", 100))
    windows = folds(target_days, BacktestConfig(folds=4, fold_days=28, min_train_days=56))
    assert [(w.number, f"{w.start:%m-%d}", f"{w.end:%m-%d}") for w in windows] == [
        (1, "02-26", "03-08"),
        (2, "03-09", "03-19"),
        (3, "03-20", "03-30"),
        (4, "03-31", "04-10"),
    ]
    # with a long history (2021-01-01..2022-02-04), blocks of fold_days ending on its last day
    long = folds(pd.Series(days("2021-01-01", 400)), BacktestConfig(folds=2, fold_days=28, min_train_days=56))
    assert [(w.start, w.end) for w in long] == [
        (pd.Timestamp("2021-12-11"), pd.Timestamp("2022-01-07")),
        (pd.Timestamp("2022-01-08"), pd.Timestamp("2022-02-04")),
    ]


class TrainingMean:
    """A forecaster standing in for the model: it forecasts the mean count of the rows it was fitted on,
    so each forecast says which rows its fold was fitted on."""

    def fit(self, examples: pd.DataFrame, selected: pd.Series) -> TrainingMean:
        self.mean = examples.loc[selected, "actual"].mean()
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return np.full(len(rows), self.mean)


def test_each_fold_is_fitted_only_on_the_days_known_at_its_first_origin():
    """One region, 100 target days whose count is the day's number (0 to 99): a fold starting on day s is
    fitted for horizon h on days 0..s - h (known at its first origin, h days before s), whose mean is
    (s - h) / 2; the folds start on days 56, 67, 78 and 89."""
    grain = replace(DAILY, case_features=(), weather=False)
    frames = {
        horizon: pd.DataFrame(
            {
                "region": "seoul",
                "target_date": days("2021-01-01", 100),
                "origin_date": days("2021-01-01", 100) - pd.Timedelta(days=horizon),
                "horizon": horizon,
                "actual": np.arange(100.0),
                "anchor": 50.0,
                "cases_lag_1": 1.0,
                "same_weekday": 2.0,
                "cases_mean_7d": 3.0,
            }
        )
        for horizon in (1, 7)
    }
    config = BacktestConfig(folds=4, fold_days=28, min_train_days=56)
    forecasts = backtest(frames, lambda horizon: TrainingMean(), grain, config)
    by_fold = forecasts.groupby(["horizon", "fold"])
    assert by_fold["model"].unique().map(list).to_dict() == {
        (1, 1): [27.5],
        (1, 2): [33.0],
        (1, 3): [38.5],
        (1, 4): [44.0],
        (7, 1): [24.5],
        (7, 2): [30.0],
        (7, 3): [35.5],
        (7, 4): [41.0],
    }
    first_day = by_fold["actual"].min().to_dict()  # a fold's test days are its own 11, in order
    assert first_day == {(h, fold): 56.0 + 11 * (fold - 1) for h in (1, 7) for fold in (1, 2, 3, 4)}
    assert by_fold.size().unique().tolist() == [11] and len(forecasts) == 2 * 44
    # the naive forecasters forecast the same rows from their own columns
    assert forecasts[["persistence", "seasonal_naive", "mean_7d"]].drop_duplicates().values.tolist() == [[1, 2, 3]]
    assert "project_2021" not in forecasts  # a grain without weather does not run it


def test_the_metrics_of_a_fold_are_those_worked_by_hand_on_the_days_with_a_forecast():
    actual = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    forecast = pd.Series([2.0, 2.0, 2.0, 2.0, None])  # errors -1 0 1 2, the last day not forecast
    scale = pd.Series([0.0, 0.0, 0.0, 0.0, 0.0])  # the seasonal naive's MAE there: 2.5
    assert metrics(actual, forecast, scale) == pytest.approx(
        # MAE 4 / 4; RMSE sqrt(6 / 4); MASE 1 / 2.5; R² 1 - 6 / 5 (the actuals' squares about 2.5: 5)
        {"mae": 1.0, "rmse": math.sqrt(1.5), "mase": 0.4, "r2": -0.2, "days": 4}
    )


def test_the_summary_is_each_forecasters_mean_over_the_folds():
    rows = pd.DataFrame(
        {
            "horizon": 1,
            "fold": [1, 1, 2, 2],
            "target_date": days("2021-03-01", 4),
            "actual": [10.0, 10.0, 10.0, 10.0],
            "model": [9.0, 9.0, 7.0, 7.0],  # MAE 1 then 3
            "persistence": [8.0, 8.0, 8.0, 8.0],
            "seasonal_naive": [5.0, 5.0, 10.0, 10.0],  # MAE 5 then 0: MASE undefined in fold 2
            "mean_7d": [6.0, 6.0, 6.0, 6.0],
        }
    )
    fold_scores = scores(rows, replace(DAILY, weather=False))
    assert fold_scores.set_index(["fold", "forecaster"])["mae"].to_dict() == {
        (1, "model"): 1.0,
        (1, "persistence"): 2.0,
        (1, "seasonal_naive"): 5.0,
        (1, "mean_7d"): 4.0,
        (2, "model"): 3.0,
        (2, "persistence"): 2.0,
        (2, "seasonal_naive"): 0.0,
        (2, "mean_7d"): 4.0,
    }
    means = summary(fold_scores).set_index("forecaster")
    assert means["mae"].to_dict() == {"model": 2.0, "persistence": 2.0, "seasonal_naive": 2.5, "mean_7d": 4.0}
    assert means.loc["model", "mase"] == pytest.approx(0.2)  # fold 1's 1 / 5 alone: fold 2 has none


# the naive forecasters


def test_each_naive_forecaster_reads_its_count_of_the_example():
    row = pd.DataFrame({"day_of_week": [3], "cases_lag_1": [90.0], "cases_lag_7": [70.0], "cases_mean_7d": [80.0]})
    row = row.assign(cases_growth_7d=0.0, cases_mean_4w=60.0)
    next_day, week = ANCHORING.for_horizon(row, 1), ANCHORING.for_horizon(row, 7)
    assert {name: NAIVE[name](next_day).item() for name in NAIVE} == {
        "persistence": 90.0,
        "seasonal_naive": 70.0,  # a week before the target day
        "mean_7d": 80.0,
        "mean_4w": 60.0,
    }
    assert NAIVE["seasonal_naive"](week).item() == 90.0  # 7 days ahead, the origin's own count


def test_the_2021_project_forecasts_nothing_without_weather_or_without_30_training_days():
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(40, 7)), columns=PROJECT_2021_FEATURES).assign(actual=rng.normal(100, 10, 40))
    test = train.head(3).copy()
    test.loc[1, "wind_speed_mean_ms_lag_1"] = np.nan
    forecast = project_2021(train, test)
    assert np.isfinite(forecast[[0, 2]]).all() and np.isnan(forecast[1])  # the day without wind has none
    assert np.isnan(project_2021(train.head(29), test)).all()


# what a horizon publishes, and the promotion gate


def test_a_horizon_publishes_the_forecaster_that_won_its_latest_four_folds():
    """8 folds, the count 100 every day. The next day, the model is 5 off and persistence 10: the model.
    7 days ahead the model is exact in folds 1-4 and 10 off in 5-8, persistence 20 off then 2 off: over
    every fold the model wins (5 against 11), over the latest 4 persistence does (2 against 10)."""
    fold = np.repeat(np.arange(1, 9), 7)
    late = fold > 4
    parts = [
        pd.DataFrame({"horizon": 1, "fold": fold, "model": 95.0, "persistence": 90.0}),
        pd.DataFrame(
            {
                "horizon": 7,
                "fold": fold,
                "model": np.where(late, 90.0, 100.0),
                "persistence": np.where(late, 98.0, 80.0),
            }
        ),
    ]
    rows = pd.concat(parts, ignore_index=True).assign(actual=100.0, seasonal_naive=70.0, mean_7d=75.0)
    fitted = Fitted(
        config=TrainingConfig(),
        examples={},
        rows=pd.DataFrame(),
        backtest=rows,
        fold_scores=pd.DataFrame(),
        summary=pd.DataFrame(),
        forecasters={h: Forecaster(h, ["cases_growth_7d"], ["seoul"]) for h in (1, 7)},  # read for their horizons
    )
    assert promotion.LATEST_FOLDS == 4 and TrainingConfig().backtest.folds == 8
    assert fitted.published == {
        1: {"forecaster": "model", "mae_model": 5.0, "best_naive": "persistence", "mae_best_naive": 10.0},
        7: {"forecaster": "persistence", "mae_model": 10.0, "best_naive": "persistence", "mae_best_naive": 2.0},
    }


def gate_rows(model: float) -> pd.DataFrame:
    """28 days of a count of 100: the model `model`, persistence 80 (MAE 20), the others further off."""
    return pd.DataFrame(
        {"target_date": days("2021-09-01", 28), "actual": 100.0, "model": model, "persistence": 80.0}
    ).assign(seasonal_naive=70.0, mean_7d=75.0)


def test_without_a_champion_a_version_is_promoted_only_if_it_beats_the_best_naive_forecaster():
    for model in (80.0, 125.0):  # as good as persistence, or worse
        decision = promotion.decide(gate_rows(model), None, None, margin=0.01)
        assert not decision.promote
        assert (
            decision.reason
            == f"next-day MAE {abs(100 - model):.1f} on 2021-09-01..2021-09-28 does not beat persistence 20.0"
        )
    first = promotion.decide(gate_rows(90.0), None, None, margin=0.01, horizon="1-week")
    assert (
        first.promote
        and first.reason == "1-week MAE 10.0 on 2021-09-01..2021-09-28 beats persistence 20.0; no champion yet"
    )
    assert first.metrics == {"gate_mae_model": 10.0, "gate_mae_persistence": 20.0}
    without_backtest = promotion.decide(gate_rows(90.0), None, "4", margin=0.01)
    assert without_backtest.promote and without_backtest.reason.endswith("; champion v4 has no backtest to compare")


def test_the_margin_is_a_share_of_the_champions_mae_on_the_common_days():
    """The champion 10 off on its 14 common days (the other 14 it never forecast): with a margin of 50 %,
    a version 5 off there wins (exactly half), one 5.5 off does not."""
    rows = gate_rows(95.0)
    champion = pd.Series(90.0, index=rows.index).where(rows.index < 14)
    exactly = promotion.decide(rows, champion, "2", margin=0.5)
    assert exactly.promote and exactly.metrics["gate_common_days"] == 14
    assert exactly.metrics["gate_mae_model_common"] == 5.0 and exactly.metrics["gate_mae_champion"] == 10.0
    assert exactly.reason.startswith(
        "next-day MAE 5.0 on 14 common days 2021-09-01..2021-09-28 beats champion v2 10.0 by at least 50%"
        " and persistence 20.0"
    )
    short = promotion.decide(rows.assign(model=94.5), champion, "2", margin=0.5)
    assert not short.promote and short.reason == (
        "next-day MAE 5.5 on 14 common days 2021-09-01..2021-09-28 does not beat champion v2 10.0 by 50%"
    )


# the intervals


def test_a_forecasts_decade_is_its_level_bin():
    """0 below 9, 1 from 9 to 98, 2 from 99 to 998, ..., 5 from 99,999 on."""
    decades = intervals.level([0, 8.9, 9, 98, 99, 998, 999, 99_998, 99_999, 1e9])
    assert decades.tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 5, 5]


def test_the_hubs_baseline_is_the_point_moved_by_the_regions_recent_changes_and_their_negatives():
    """Seoul's one recent change known at the origin is +40 (its changes 100 days back and after the
    origin are not read): its quantiles at level τ are the point - 40 + 80 τ, rounded, never below 0
    (a point of 20 starts at 0). Busan has no change known: no quantiles."""
    origin = pd.Timestamp("2021-06-30")
    known = pd.DataFrame(
        {
            "region": "seoul",
            "horizon": 1,
            "target_date": [origin - pd.Timedelta(days=100), origin, origin + pd.Timedelta(days=1)],
            "persistence": 100.0,
            "actual": [5000.0, 140.0, 9000.0],
        }
    )
    rows = pd.DataFrame({"region": ["seoul", "seoul", "busan"], "origin_date": origin, "horizon": 1})
    quantiles = intervals.quantiles(known, rows.assign(forecast=[100.0, 20.0, 50.0]), "forecast", intervals.baseline)
    levels = intervals.QUANTILE_LEVELS.tolist()
    assert levels[:3] == [0.01, 0.025, 0.05] and levels[11] == 0.5 and levels[-3:] == [0.95, 0.975, 0.99]
    steps = [68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136]  # 0.1 .. 0.95
    assert quantiles[0].tolist() == [61, 62, 64, *steps, 138, 139]
    assert quantiles[1].tolist() == [0, 0, 0, 0, 0, 0, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 58, 59]
    assert np.isnan(quantiles[2]).all()
