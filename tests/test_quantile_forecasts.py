"""Quantile forecasts and their scores: the WIS against values worked out by hand and against the
scoringrules package, coverage on a small frame, quantiles that never cross and are counts, and
intervals calibrated only on what was known at a fold's first origin; the backtest scored per row and
per horizon, and each forecast's quantiles by its forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoringrules

from cother_ml import backtest_intervals, hub_export, intervals, publication
from cother_ml.intervals import QUANTILE_LEVELS, as_counts, backtest_quantiles
from cother_ml.quantile_scores import count_coverage, covered, relative_wis, weighted_interval_score

pytestmark = pytest.mark.unit

FIVE_LEVELS = [0.025, 0.25, 0.5, 0.75, 0.975]  # the median, the 50 % and the 95 % intervals: K = 2


def test_wis_and_its_parts_match_the_hand_computed_values():
    # quantiles 1 4 6 8 20: the 50 % interval [4, 8] (α = 0.5, w = 0.25), the 95 % one [1, 20] (α = 0.05,
    # w = 0.025), the median 6 (w0 = 0.5); K + 1/2 = 2.5
    # y = 12: IS_0.5 = 4 + (2/0.5)(12 - 8) = 20; IS_0.05 = 19; WIS = (0.5·6 + 0.25·20 + 0.025·19)/2.5 = 3.39
    #   spread (0.25·4 + 0.025·19)/2.5 = 0.59; under (4 + 0.5·6)/2.5 = 2.8; over 0
    # y = 0: IS_0.5 = 4 + 4·4 = 20; IS_0.05 = 19 + 40·1 = 59; WIS = (0.5·6 + 0.25·20 + 0.025·59)/2.5 = 3.79
    #   spread 0.59; over (4 + 1 + 0.5·6)/2.5 = 3.2; under 0
    # y = 6 (the median): WIS = spread = 0.59
    quantiles = np.tile([1, 4, 6, 8, 20], (3, 1))
    scores = weighted_interval_score([12, 0, 6], quantiles, FIVE_LEVELS)
    assert scores["wis"].tolist() == pytest.approx([3.39, 3.79, 0.59], abs=1e-12)
    assert scores["dispersion"].tolist() == pytest.approx([0.59, 0.59, 0.59], abs=1e-12)
    assert scores["underprediction"].tolist() == pytest.approx([2.8, 0, 0], abs=1e-12)
    assert scores["overprediction"].tolist() == pytest.approx([0, 3.2, 0], abs=1e-12)


def test_wis_at_the_hub_levels_matches_scoringrules():
    # scoringrules 0.10's numpy weighted_interval_score adds w0 times the median, not w0 |y - m| (its numba
    # path, not installed here, has it right), so the check goes through what it computes right: each
    # interval's score, and the quantile CRPS (2/23 times the pinball losses summed over the 23 levels),
    # which at these weights equals the WIS
    rng = np.random.default_rng(3)
    actual = rng.gamma(2, 50, size=200)
    quantiles = np.sort(rng.gamma(2, 50, size=(200, len(QUANTILE_LEVELS))), axis=1)
    scores = weighted_interval_score(actual, quantiles, QUANTILE_LEVELS)
    lower, upper, alpha = quantiles[:, :11], quantiles[:, :11:-1], 2 * QUANTILE_LEVELS[:11]
    each = scoringrules.interval_score(actual, lower, upper, alpha, backend="numpy")
    by_hand = (0.5 * np.abs(actual - quantiles[:, 11]) + (alpha / 2 * each).sum(axis=1)) / 11.5
    assert scores["wis"].to_numpy() == pytest.approx(by_hand, rel=1e-12)
    crps = scoringrules.crps_quantile(actual, quantiles, QUANTILE_LEVELS, backend="numpy")
    assert scores["wis"].to_numpy() == pytest.approx(crps, rel=1e-12)
    parts = scores[["dispersion", "overprediction", "underprediction"]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(scores["wis"].to_numpy(), rel=1e-12)


def test_levels_without_a_median_or_a_partner_are_refused():
    with pytest.raises(ValueError, match="symmetric pairs"):
        weighted_interval_score([1], [[0, 1, 2]], [0.25, 0.5, 0.8])
    with pytest.raises(ValueError, match="symmetric pairs"):
        weighted_interval_score([1], [[0, 2]], [0.25, 0.75])


def test_coverage_counts_the_bounds_as_inside():
    quantiles = np.tile([1, 4, 6, 8, 20], (6, 1))
    actual = [0, 1, 4, 8, 9, 20]
    assert covered(actual, quantiles, FIVE_LEVELS, 0.5).tolist() == [False, False, True, True, False, False]
    assert covered(actual, quantiles, FIVE_LEVELS, 0.95).tolist() == [False, True, True, True, True, True]
    with pytest.raises(ValueError, match="no central 90% interval"):
        covered(actual, quantiles, FIVE_LEVELS, 0.9)


def test_the_coverage_of_counts_is_the_share_of_their_pit_inside_the_interval():
    # levels 0.1, 0.25, 0.5, 0.75, 0.9; a count y's PIT is uniform on F(y - 1)..F(y), F linear between
    # the quantiles and at a value several levels share the highest of them, F(-1) = 0
    levels = [0.1, 0.25, 0.5, 0.75, 0.9]
    small = [0, 0, 1, 2, 4]
    # y = 0: F 0..0.25, below 0.25: out (though 0 is the 0.25 quantile); y = 1: 0.25..0.5 and y = 2:
    # 0.5..0.75, in; y = 3: F(3) = 0.75 + 0.15 * (3 - 2) / (4 - 2) = 0.825, 0.75..0.825 out
    assert count_coverage([0, 1, 2, 3], np.tile(small, (4, 1)), levels, 0.5).tolist() == [0, 1, 1, 0]
    assert covered([0, 1, 2, 3], np.tile(small, (4, 1)), levels, 0.5).tolist() == [True, True, True, False]
    # four levels at 0: y = 0 is F 0..0.75, of which 0.25..0.75 is in the 50 % interval (2/3) and
    # 0.1..0.75 in the 80 % one (0.65 / 0.75)
    assert count_coverage([0], [[0, 0, 0, 0, 3]], levels, 0.5) == pytest.approx([2 / 3])
    assert count_coverage([0], [[0, 0, 0, 0, 3]], levels, 0.8) == pytest.approx([0.65 / 0.75])
    # large counts, no tie: F(169) = 0.5 + 0.25 * 19 / 30 and F(170) inside, F(184) = 0.78 out, as covered;
    # below the lowest quantile and above the highest F stays at the outer level: out of both intervals
    large = np.tile([100, 120, 150, 180, 200], (4, 1))
    assert count_coverage([170, 185, 50, 300], large, levels, 0.5).tolist() == [1, 0, 0, 0]
    assert count_coverage([170, 185, 50, 300], large, levels, 0.8).tolist() == [1, 1, 0, 0]


def test_relative_wis_is_the_ratio_of_the_means_on_the_same_forecasts():
    assert relative_wis([1, 2, 6], [4, 4, 4]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="same forecasts"):
        relative_wis([1, 2], [1, 2, 3])


def synthetic_backtest(seed: int = 0) -> pd.DataFrame:
    """Two regions, horizons 1 and 7, 3 folds of 14 target days: counts around 100 and around 3 (where
    the lower quantiles would fall below zero), the model and persistence off by random log errors."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2021-03-01", periods=42)
    rows = []
    for horizon in (1, 7):
        for region, level in (("big", 100), ("small", 3)):
            actual = rng.poisson(level, size=len(days)).astype(float)
            rows.append(
                pd.DataFrame(
                    {
                        "region": region,
                        "origin_date": days - pd.Timedelta(days=horizon),
                        "target_date": days,
                        "horizon": horizon,
                        "actual": actual,
                        "fold": np.arange(len(days)) // 14 + 1,
                        "model": actual * np.exp(rng.normal(0, 0.3, len(days))),
                        "persistence": actual * np.exp(rng.normal(0, 0.5, len(days))),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def point_and_method(name: str) -> tuple[str, intervals.Method]:
    """The backtest column a method moves, and the method: the model's, or persistence's baselines."""
    if name in intervals.METHODS:
        return "model", intervals.METHODS[name]
    return "persistence", getattr(intervals, name)


@pytest.mark.parametrize("name", [*intervals.METHODS, "baseline", "log_baseline"])
def test_quantiles_never_cross_and_are_non_negative_counts(name):
    frame = synthetic_backtest()
    point, method = point_and_method(name)
    quantiles = backtest_quantiles(frame, point, method)
    later = (frame["fold"] > 1).to_numpy()
    assert np.isnan(quantiles[~later]).all()  # the first fold has no earlier errors
    calibrated = quantiles[later]
    assert np.isfinite(calibrated).all() and calibrated.shape[1] == len(QUANTILE_LEVELS) == 23
    assert (np.diff(calibrated, axis=1) >= 0).all()
    assert (calibrated >= 0).all() and (calibrated == np.round(calibrated)).all()
    small = (frame["region"] == "small").to_numpy()[later]
    assert (calibrated[small, 0] == 0).any()  # the small region's lowest quantiles were clipped at zero
    assert (calibrated[~small, -1] > calibrated[~small, 0]).all()  # an interval, not a point


def test_by_level_calibrates_each_decade_of_forecasts_on_its_own_errors():
    # 60 known forecasts of about 20 (decade 1) off by 0.8 on the log scale either way, 60 of about 2,000
    # (decade 3) off by 0.1 either way, 10 of about 200 (decade 2: too few, so every error counts)
    known = pd.DataFrame(
        {
            "target_date": pd.Timestamp("2022-03-01"),
            "model": [20.0] * 60 + [2000.0] * 60 + [200.0] * 10,
            "log_error": [0.8, -0.8] * 30 + [0.1, -0.1] * 30 + [0.0] * 10,
        }
    ).assign(actual=lambda f: np.expm1(np.log1p(f["model"]) + f["log_error"]))
    point = np.array([30.0, 3000.0, 300.0])
    quantiles = intervals.by_level(known, pd.DataFrame(index=range(3)), point)
    half = np.log1p(quantiles[:, -1]) - np.log1p(point)  # the 0.99 quantile's distance above the point
    assert half == pytest.approx([0.8, 0.1, 0.8], abs=1e-9)
    assert quantiles[:, 11] == pytest.approx(point)  # centred: the median is the point


def test_levels_that_cross_come_out_sorted_non_negative_counts():
    crossing = np.array([[17.1, 5.7, 10.0], [5.0, 6.3, -0.7]])
    assert as_counts(crossing).tolist() == [[6, 10, 17], [0, 5, 6]]


@pytest.mark.parametrize("name", [*intervals.METHODS, "baseline", "log_baseline"])
def test_a_fold_reads_only_the_errors_known_at_its_first_origin(name):
    point, method = point_and_method(name)
    frame = synthetic_backtest()
    before = backtest_quantiles(frame, point, method)
    for horizon in (1, 7):
        this = (frame["horizon"] == horizon).to_numpy()
        fold_3 = this & (frame["fold"] == 3).to_numpy()
        origin = frame.loc[fold_3, "origin_date"].min()  # fold 3's first origin: h days before its first day
        # unknown at that origin: fold 3's actuals, and fold 2's last h - 1 days (their forecasts as well)
        unknown = this & (frame["target_date"] > origin).to_numpy()
        assert unknown.sum() == 2 * (14 + horizon - 1)
        changed = frame.copy()
        changed.loc[unknown, "actual"] *= 50
        changed.loc[unknown & ~fold_3, ["model", "persistence"]] *= 50
        assert np.array_equal(backtest_quantiles(changed, point, method)[fold_3], before[fold_3])
        # what was known (fold 2 up to that origin) is what fold 3 reads
        known = this & (frame["fold"] == 2).to_numpy() & ~unknown
        reread = frame.copy()
        reread.loc[known, "actual"] *= 50
        assert not np.array_equal(backtest_quantiles(reread, point, method)[fold_3], before[fold_3])


def test_the_backtest_is_scored_per_row_and_per_horizon_after_its_first_fold():
    frame = backtest_intervals.scored(synthetic_backtest())
    first = (frame["fold"] == 1).to_numpy()
    assert frame.loc[first, ["model_wis", "baseline_wis", "model_covered_95"]].isna().all().all()
    later = frame[~first]
    parts = later[["model_dispersion", "model_overprediction", "model_underprediction"]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(later["model_wis"].to_numpy())
    # covered: the actual between the model's 0.25 and 0.75 quantiles (by_level), persistence's 0.025 and
    # 0.975 (the hubs' baseline), bounds included
    model = backtest_quantiles(synthetic_backtest(), "model", intervals.by_level)[~first]
    baseline = backtest_quantiles(synthetic_backtest(), "persistence", intervals.baseline)[~first]
    actual = later["actual"].to_numpy()
    assert QUANTILE_LEVELS[[6, 16, 1, 21]].tolist() == [0.25, 0.75, 0.025, 0.975]
    inside_50 = (model[:, 6] <= actual) & (actual <= model[:, 16])
    inside_95 = (baseline[:, 1] <= actual) & (actual <= baseline[:, 21])
    assert later["model_covered_50"].tolist() == inside_50.astype(float).tolist()
    assert later["baseline_covered_95"].tolist() == inside_95.astype(float).tolist()
    assert 0 < inside_50.sum() < len(actual) and 0 < inside_95.sum() < len(actual)  # both ways
    summary = backtest_intervals.by_horizon(frame)
    assert [row["horizon"] for row in summary] == [1, 7]
    for row in summary:
        rows = later[later["horizon"] == row["horizon"]]
        assert row["forecasts"] == len(rows) == 2 * 28
        assert row["relative_wis"] == pytest.approx(rows["model_wis"].mean() / rows["baseline_wis"].mean())
        assert row["coverage_95"] == pytest.approx(rows["model_covered_95"].mean())
        assert row["coverage_50"] == pytest.approx(rows["model_covered_50"].mean())
        assert row["baseline_coverage_95"] == pytest.approx(rows["baseline_covered_95"].mean())


def test_a_forecasts_quantiles_follow_its_forecaster_and_centre_on_its_point():
    """The model's by the level of its point, a naive forecaster's as the hubs' baseline around its own
    point; none for a region the backtest never forecast when a naive forecaster answers for it."""
    backtest = synthetic_backtest()
    origin = backtest["target_date"].max()
    rows = pd.DataFrame(
        {
            "region": ["big", "big", "small", "new"],
            "origin_date": origin,
            "horizon": 1,
            "forecast": [120.0, 120.0, 4.0, 50.0],
        }
    )
    names = pd.Series(["model", "persistence", "mean_7d", "persistence"])
    quantiles = publication.quantiles(backtest, rows, names)
    model = intervals.quantiles(backtest, rows.iloc[:1], "forecast", intervals.by_level)
    baseline = intervals.quantiles(backtest, rows.iloc[1:3], "forecast", intervals.baseline)
    assert np.array_equal(quantiles[:1], model) and np.array_equal(quantiles[1:3], baseline)
    assert not np.array_equal(quantiles[0], quantiles[1])  # two methods, the same point
    assert quantiles[:3, 11].tolist() == [120.0, 120.0, 4.0]  # the median is the point
    assert np.isnan(quantiles[3]).all()


def test_a_hub_submission_counts_a_weekly_sets_horizons_in_weeks_and_refuses_crossing_or_missing_levels():
    quantiles = pd.DataFrame(
        {
            "region": "fr_weekly",
            "origin_date": pd.Timestamp("2026-04-19"),
            "date_day": pd.Timestamp("2026-05-03"),
            "horizon_days": 14,
            "quantile_level": QUANTILE_LEVELS,
            "quantile_value": np.arange(23) * 10.4,
        }
    )
    rows = hub_export.submission(quantiles, step_days=7)
    assert list(rows.columns) == hub_export.COLUMNS
    assert rows[["reference_date", "target", "horizon", "target_end_date"]].drop_duplicates().values.tolist() == [
        ["2026-04-19", "wk inc case", 2, "2026-05-03"]
    ]
    assert rows["value"].tolist()[:3] == [0, 10, 21] and rows["output_type_id"].iloc[1] == 0.025
    assert hub_export.file_name(pd.Timestamp("2026-04-19"), "m_world") == "2026-04-19-cother-m_world.csv"
    with pytest.raises(ValueError, match="fall as the level rises"):
        hub_export.submission(quantiles.assign(quantile_value=quantiles["quantile_value"][::-1].to_numpy()), 7)
    with pytest.raises(ValueError, match="has levels"):
        hub_export.submission(quantiles.iloc[1:], 7)
    with pytest.raises(ValueError, match="expected"):
        hub_export.validate(rows.rename(columns={"location": "region"}))
