"""The surge warning: the probability of a surge's rise read off a forecast's quantiles, surges counted
once per episode, recall, precision, false alarms and lead on a small frame, and a warning level chosen
only from the surges before the period it applies to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cother_ml import surge
from cother_ml.intervals import QUANTILE_LEVELS

pytestmark = pytest.mark.unit

DAILY, WEEKLY = surge.DEFINITIONS["daily"], surge.DEFINITIONS["weekly"]
SUNDAYS = pd.date_range("2022-01-02", periods=12, freq="7D")


def weekly_counts(series: dict[str, list[float]]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"region": region, "date": SUNDAYS[: len(values)], "count": values})
            for region, values in series.items()
        ]
    )


def test_the_probability_of_a_rise_interpolates_the_forecasts_cdf():
    # levels 0.1, 0.5, 0.9 at 10, 20, 40: F(30) = 0.5 + 0.4 * (30 - 20) / (40 - 20) = 0.7, so P = 0.3;
    # at a quantile (20) F is its level; below 10 and above 40 F stays at the outer levels
    levels = [0.1, 0.5, 0.9]
    quantiles = np.tile([10.0, 20.0, 40.0], (5, 1))
    probability = surge.probability_above(quantiles, [30, 20, 15, 5, 50], levels)
    assert probability.tolist() == pytest.approx([0.3, 0.5, 0.7, 0.9, 0.1])
    # where two levels share a value (counts are rounded) F jumps there to the higher level:
    # levels 0.1, 0.3, 0.5, 0.9 at 10, 20, 20, 40: F(20) = 0.5, F(19) = 0.1 + 0.2 * 9 / 10 = 0.28
    tied = np.tile([10.0, 20.0, 20.0, 40.0], (2, 1))
    assert surge.probability_above(tied, [20, 19], [0.1, 0.3, 0.5, 0.9]).tolist() == pytest.approx([0.5, 0.72])
    assert np.isnan(surge.probability_above([[np.nan, 1, 2]], [1], levels)).all()


def linear_quantiles(low: float, high: float, rows: int = 1) -> np.ndarray:
    """Quantiles at the hubs' levels on a straight line: q(τ) = low + (high - low) τ, so F(x) = (x - low) / (high - low)."""
    return np.tile(low + (high - low) * QUANTILE_LEVELS, (rows, 1))


def test_a_weekly_forecast_is_asked_for_last_week_grown_at_a_surges_pace():
    # last week 1000: 1 week ahead the threshold is 1500, half of a forecast spread evenly over 1000..2000;
    # 2 weeks ahead 1000 * 1.5^2 = 2250, above its 0.99 quantile (1990)
    counts = weekly_counts({"a": [800, 1000]})
    forecasts = pd.DataFrame({"region": "a", "origin_date": SUNDAYS[1], "horizon": [7, 14]})
    probability = surge.surge_probability(forecasts, linear_quantiles(1000, 2000, 2), counts, WEEKLY)
    assert probability.tolist() == pytest.approx([0.5, 0.01])


def test_a_daily_forecast_is_asked_on_its_weekdays_share_of_the_week():
    # every week 50, 100 x 5, 150: the 7-day mean is 100, the last day of the week 1.5 times it; 7 days ahead
    # of that weekday the threshold is 100 * 1.5 (its share) * 1.5 (a week at a surge's pace) = 225
    days = pd.date_range("2022-01-03", periods=35)
    counts = pd.DataFrame({"region": "a", "date": days, "count": np.tile([50, 100, 100, 100, 100, 100, 150], 5)})
    forecasts = pd.DataFrame({"region": "a", "origin_date": [days[-1]], "horizon": [7]})
    probability = surge.surge_probability(forecasts, linear_quantiles(200, 250), counts, DAILY)
    assert probability.tolist() == pytest.approx([0.5])
    # the next day (the low weekday): 100 * 0.5 * 1.5^(1/7) = 53.0; spread over 50..60 that is P = 0.70
    forecasts = forecasts.assign(horizon=1)
    probability = surge.surge_probability(forecasts, linear_quantiles(50, 60), counts, DAILY)
    assert probability.tolist() == pytest.approx([1 - (50 * 1.5 ** (1 / 7) - 50) / 10])


def test_a_daily_level_is_the_mean_of_7_days_all_with_a_count():
    days = pd.date_range("2022-01-01", periods=9)
    counts = pd.DataFrame({"region": "a", "date": days, "count": [7, 7, 7, 7, 7, 7, 14, np.nan, 7]})
    level = surge.levels(counts, DAILY)["a"]
    assert level.iloc[6] == 8 and level.iloc[7:].isna().all() and level.iloc[:6].isna().all()


def test_each_surge_is_counted_once():
    # a: up 67 % and 100 % (weeks 1 and 2), a week flat, up 60 % (week 4, two weeks after: the same wave), then
    # up 88 % six weeks later: two episodes. b rises tenfold twice, but from below the minimum level
    counts = weekly_counts(
        {"a": [300, 500, 1000, 1000, 1600, 1600, 1600, 1600, 1600, 1600, 3000], "b": [10, 100, 1000]}
    )
    found = surge.episodes(surge.levels(counts, WEEKLY), WEEKLY)
    assert found.to_dict("records") == [
        {"region": "a", "onset": SUNDAYS[1], "end": SUNDAYS[4]},
        {"region": "a", "onset": SUNDAYS[10], "end": SUNDAYS[10]},
    ]
    # the rule baseline: up more than 25 % on the week before, from the same minimum
    rule = surge.rule_warnings(surge.levels(counts, WEEKLY), WEEKLY)
    assert rule.index[rule["a"]].tolist() == [SUNDAYS[i] for i in (1, 2, 4, 10)] and not rule["b"].any()


def test_recall_precision_false_alarms_and_lead_on_a_small_frame():
    # a surges at week 8, b at week 9, c never. Warnings: a at weeks 0 (false: 8 weeks early), 6 (2 weeks
    # ahead: caught, lead 14 days) and 7 (within the alert's hold of 4 weeks: no new alert); b at week 10
    # (after its onset: a true alert, not a catch); c at weeks 2 and 6 (4 weeks apart: two false alerts)
    surges = pd.DataFrame({"region": ["a", "b"], "onset": [SUNDAYS[8], SUNDAYS[9]], "end": [SUNDAYS[9], SUNDAYS[10]]})
    warned = pd.DataFrame(False, index=SUNDAYS, columns=["a", "b", "c"])
    warned.loc[SUNDAYS[[0, 6, 7]], "a"] = True
    warned.loc[SUNDAYS[10], "b"] = True
    warned.loc[SUNDAYS[[2, 6]], "c"] = True
    issued = pd.DataFrame(True, index=SUNDAYS, columns=["a", "b", "c"])  # Jan..Mar 2022: 3 months x 3 regions
    result = surge.scores(warned, issued, surges, (SUNDAYS[0], SUNDAYS[-1]), WEEKLY)
    assert result["episodes"] == 2 and result["caught"] == 1 and result["recall"] == 0.5
    assert result["median_lead_days"] == 14
    assert result["alerts"] == 5 and result["false_alarms"] == 3 and result["precision"] == pytest.approx(2 / 5)
    assert result["region_months"] == 9 and result["false_per_region_month"] == pytest.approx(3 / 9)
    # 6 of the 36 region-weeks warned; a week with a warning in it or the 4 before: a's 0-4 and 6-11, b's
    # 10-11, c's 2-10
    assert result["warned_share"] == pytest.approx(6 / 36) and result["chance_recall"] == pytest.approx(22 / 36)
    # over a span that starts after a's onset: only b's episode, missed; only the alerts inside the span
    later = surge.scores(warned, issued, surges, (SUNDAYS[9], SUNDAYS[-1]), WEEKLY)
    assert later["episodes"] == 1 and later["recall"] == 0 and later["alerts"] == 1 and later["precision"] == 1


def test_the_level_is_the_highest_that_caught_enough_earlier_surges():
    # peaks 0.1 to 1.0: 8 of 10 (80 %) are caught at every level up to 0.3, only 7 above it
    peaks = np.array([0.5, 0.9, 0.2, 0.7, 0.3, 1.0, 0.1, 0.4, 0.6, 0.8, np.nan])
    assert surge.chosen_level(peaks) == 0.3
    assert surge.chosen_level(peaks[1:]) is None  # 9 episodes with a peak: too few to choose on


def test_a_periods_level_reads_only_the_surges_before_it():
    # ten regions surge on 15 February, warned 5 days before with probabilities 0.1 to 1.0; ten more on 15
    # May, each warned at 0.9
    days = pd.date_range("2022-01-01", "2022-06-30")
    regions = [f"r{n}" for n in range(10)]
    probability = pd.DataFrame(0.05, index=days, columns=regions)
    probability.loc["2022-02-10"] = np.arange(1, 11) / 10
    probability.loc["2022-05-10"] = 0.9
    onsets = pd.to_datetime(["2022-02-15"] * 10 + ["2022-05-15"] * 10)
    surges = pd.DataFrame({"region": regions * 2, "onset": onsets, "end": onsets})
    quarters = pd.period_range("2022Q1", "2022Q3", freq="Q")
    year = pd.Timedelta(days=365)
    chosen = surge.levels_by_period(probability, surges, quarters, DAILY, year)
    # the third quarter: 16 of the 20 peaks (0.5 to 1.0 and the ten 0.9) are at least 0.5
    assert chosen == {quarters[0]: None, quarters[1]: 0.3, quarters[2]: 0.5}
    # looking back 120 days from 1 July, only May's ten (0.9): February's are older; from 1 October none,
    # so the fourth quarter keeps the third's level
    recent = surge.levels_by_period(
        probability, surges, pd.period_range("2022Q1", "2022Q4", freq="Q"), DAILY, pd.Timedelta(days=120)
    )
    assert list(recent.values()) == [None, 0.3, 0.9, 0.9]
    probability.loc["2022-04-01":] = 0.0  # what happens from the second quarter on cannot move its level
    assert surge.levels_by_period(probability, surges, quarters, DAILY, year)[quarters[1]] == 0.3
    warned = surge.warnings(probability.assign(r0=0.35), chosen)["r0"]
    assert not warned[:"2022-03-31"].any()  # no level in the first quarter: no warning
    assert warned["2022-04-01":"2022-06-30"].all()  # 0.35 passes the second quarter's 0.3


def test_a_versions_level_is_chosen_on_every_surge_its_backtest_warned_of():
    # eleven regions surge on 15 May, warned 3 days before with probabilities 0.05 to 0.55 (the backtest's
    # probabilities elsewhere 0.05); a twelfth region's surge in January falls before the backtest's
    # forecasts and is not chosen on
    days = pd.date_range("2022-03-01", "2022-06-30")
    regions = [f"r{n}" for n in range(11)]
    probability = pd.DataFrame(0.05, index=days, columns=regions)
    probability.loc["2022-05-12"] = np.arange(1, 12) * 0.05
    surges = pd.DataFrame(
        {
            "region": [*regions, "r11"],
            "onset": pd.to_datetime(["2022-05-15"] * 11 + ["2022-01-15"]),
            "end": pd.to_datetime(["2022-05-20"] * 11 + ["2022-01-20"]),
        }
    )
    chosen = surge.backtest_level(probability.assign(r11=0.9), surges, DAILY)
    # 9 of the 11 peaks (0.15 to 0.55) are at least 0.15: 82 %; at 0.16 only 8 (73 %)
    assert chosen.level == 0.15 and chosen.episodes == 11 and chosen.recall == pytest.approx(9 / 11)
    issued = probability.size + len(days)  # and r11's column, every day 0.9
    assert chosen.warned_share == pytest.approx((9 + len(days)) / issued)
    too_few = surge.backtest_level(probability.drop(columns=["r0", "r1"]), surges, DAILY)
    assert too_few == surge.Level(level=None, episodes=9, recall=None, warned_share=None)
    # too few with a level before (the champion's 0.4): kept, with what it did here: the peaks 0.15 to 0.55
    # of r2..r10 reach it from r7 (0.4) on, 4 of 9; the backtest's probabilities at least 0.4 are those 4
    kept = surge.backtest_level(probability.drop(columns=["r0", "r1"]), surges, DAILY, before=0.4)
    share = 4 / (probability.size - 2 * len(days))
    assert kept == surge.Level(
        level=0.4, episodes=9, recall=pytest.approx(4 / 9), warned_share=pytest.approx(share), kept=True
    )
    # no probability issued at all (no fold with quantiles): kept, with nothing to say what it did
    nothing = surge.backtest_level(probability * np.nan, surges, DAILY, before=0.4)
    assert nothing == surge.Level(level=0.4, episodes=0, recall=None, warned_share=None, kept=True)
    # enough surges: the level before is not read
    assert surge.backtest_level(probability.assign(r11=0.9), surges, DAILY, before=0.4) == chosen


def evi_by_loops(x: np.ndarray, rise: float) -> list[bool]:
    """EVI's warnings day by day as the EVI package's deviant() loops over them, on full windows only."""
    series = pd.Series(x)
    evi = {}
    for m in surge.EVI_WINDOWS:
        deviation = series.rolling(m).std().to_numpy()
        evi[m] = [0.0] + [
            0.0 if np.isnan(change) else change for change in (deviation[1:] - deviation[:-1]) / deviation[:-1]
        ]

    def test(m, c, t):
        return t >= 6 and evi[m][t] >= c and x[t] > np.mean(x[t - 6 : t + 1])

    def case(s):
        return np.mean(x[s - 6 : s + 1]) * (1 + rise) <= np.mean(x[s + 1 : s + 8])

    warned = []
    for t in range(len(x)):
        days = range(6, t - 6)  # the days whose case is known on day t (s + 7 <= t)
        best, best_j = None, -np.inf
        for m in surge.EVI_WINDOWS:
            for c in surge.EVI_CUTS:
                found = [test(m, c, s) for s in days if case(s)]
                cleared = [not test(m, c, s) for s in days if not case(s)]
                j = (np.mean(found) if found else 0) + (np.mean(cleared) if cleared else 0) - 1
                if j > best_j + 1e-12:
                    best, best_j = (m, c), j
        warned.append(test(*best, t))
    return warned


def test_evi_warns_as_the_packages_loops_do(monkeypatch):
    # fewer windows and cuts than the package's (24 x 50) keep the loops to seconds
    monkeypatch.setattr(surge, "EVI_WINDOWS", range(7, 13))
    monkeypatch.setattr(surge, "EVI_CUTS", np.round(np.arange(1, 16) / 100, 2))
    # two rises of 8 % a day (75 % a week) for 15 days, with noise: days with a case to catch and days without
    rng = np.random.default_rng(0)
    days = np.arange(70)
    x = 50 * np.exp(0.08 * np.clip(days - 20, 0, 15) + 0.08 * np.clip(days - 50, 0, 15)) + rng.normal(0, 3, len(days))
    expected = evi_by_loops(x, 0.5)
    assert surge.evi_series(pd.Series(x), 0.5).tolist() == expected and any(expected)
