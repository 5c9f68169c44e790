"""The weather question's test, Diebold-Mariano with the Harvey-Leybourne-Newbold correction, against
values worked out by hand on a fixed 8-day series; its degenerate cases named, never NaN."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from conftest import card_of

from cother_ml.fitting import NO_WEATHER
from cother_ml.weather_effect import compare, diebold_mariano, reading

pytestmark = pytest.mark.unit

# |e_a| = 3 2 5 2 2 3 6 5 and |e_b| = 1 1 2 2 1 1 2 2, so d = |e_a| - |e_b| = 2 1 3 0 1 2 4 3
NO_DRIFT = {"measured": False, "reason": "not under test", "drifted": []}
ERRORS_A = [3, -2, 5, 2, -2, 3, -6, 5]
ERRORS_B = [1, -1, 2, -2, 1, -1, 2, -2]


def t7_two_sided_p(statistic: float) -> float:
    """P(|T| > t) for Student's t with 7 degrees of freedom, in closed form (Abramowitz and Stegun
    26.7.3, odd degrees): 1 - (2/π)(θ + sin θ (cos θ + 2/3 cos³ θ + 8/15 cos⁵ θ)), θ = atan(t / √7)."""
    theta = math.atan(abs(statistic) / math.sqrt(7))
    c = math.cos(theta)
    return 1 - 2 / math.pi * (theta + math.sin(theta) * (c + 2 / 3 * c**3 + 8 / 15 * c**5))


def test_the_statistic_matches_the_hand_computed_value_at_horizon_1():
    # n = 8, d̄ = 16/8 = 2; d - d̄ = 0 -1 1 -2 -1 0 2 1; γ0 = (0+1+1+4+1+0+4+1)/8 = 12/8 = 1.5
    # horizon 1: V = γ0 = 1.5; DM = 2 / sqrt(1.5/8); correction sqrt((8 + 1 - 2 + 0)/8) = sqrt(7/8)
    # DM* = 2 sqrt(8/1.5 · 7/8) = 2 sqrt(14/3) = 4.3205
    test = diebold_mariano(ERRORS_A, ERRORS_B, horizon=1)
    assert test.statistic == pytest.approx(2 * math.sqrt(14 / 3), rel=1e-12)
    assert test.statistic == pytest.approx(4.3205, abs=1e-4)
    assert test.p_value == pytest.approx(t7_two_sided_p(2 * math.sqrt(14 / 3)), rel=1e-9)
    assert test.p_value == pytest.approx(0.00348, abs=1e-5)
    assert test.days == 8 and test.reason is None


def test_the_statistic_matches_the_hand_computed_value_at_horizon_2_with_one_autocovariance():
    # γ1 = (1/8) Σ_{t=2..8} (d_t - d̄)(d_{t-1} - d̄) = (0 - 1 - 2 + 2 + 0 + 0 + 2)/8 = 1/8
    # horizon 2: V = γ0 + 2 γ1 = 1.5 + 0.25 = 1.75; DM = 2 / sqrt(1.75/8)
    # correction sqrt((8 + 1 - 4 + 2·1/8)/8) = sqrt(5.25/8); DM* = 2 sqrt(5.25/1.75) = 2 sqrt(3) = 3.4641
    test = diebold_mariano(ERRORS_A, ERRORS_B, horizon=2)
    assert test.statistic == pytest.approx(2 * math.sqrt(3), rel=1e-12)
    assert test.p_value == pytest.approx(t7_two_sided_p(2 * math.sqrt(3)), rel=1e-9)
    assert test.p_value == pytest.approx(0.01049, abs=1e-5)
    swapped = diebold_mariano(ERRORS_B, ERRORS_A, horizon=2)  # the other way round: the sign turns, p stays
    assert swapped.statistic == pytest.approx(-test.statistic) and swapped.p_value == pytest.approx(test.p_value)


def test_degenerate_input_gives_a_named_reason_never_nan():
    equal = diebold_mariano([1, -2, 3, 4, 5, 6, 7, 8], [-1, 2, -3, 4, 5, 6, 7, 8], horizon=1)
    assert equal.statistic is None and equal.p_value is None and equal.reason == "equal absolute errors on every day"
    few = diebold_mariano([1, 2, 3], [2, 2, 2], horizon=7)
    assert few.statistic is None and few.reason == "too few days: 3 (at least 14 for horizon 7)"
    # d = 1 -1 2 0 3 1 -2 4: d̄ = 1, γ0 = 28/8 = 3.5, γ1 = -14/8 = -1.75, so at horizon 2 V = 3.5 - 3.5 = 0
    flat = diebold_mariano([1, 1, 2, 0, 3, 1, 2, 4], [0, 2, 0, 0, 0, 0, 4, 0], horizon=2)
    assert flat.statistic is None and flat.reason.startswith("long-run variance not positive")
    constant = diebold_mariano([2] * 10, [1] * 10, horizon=1)  # the same gap every day: no variance
    assert constant.statistic is None and constant.reason.startswith("long-run variance not positive")


def backtest_rows(model: list[float], horizon: int = 1) -> pd.DataFrame:
    days = pd.date_range("2021-09-01", periods=len(model))
    return pd.DataFrame({"horizon": horizon, "region": "seoul", "target_date": days, "actual": 10.0, "model": model})


def test_compare_reports_each_horizon_as_json_and_the_card_reads_it_without_nan():
    with_weather = pd.concat([backtest_rows([10 + e for e in ERRORS_B]), backtest_rows([10.0] * 3, horizon=7)])
    without = pd.concat([backtest_rows([10 + e for e in ERRORS_A]), backtest_rows([11.0] * 3, horizon=7)])
    rows = compare(with_weather, without)
    json.dumps(rows, allow_nan=False)
    first, seventh = rows
    assert first == {
        "horizon": 1,
        "mae_with": 1.5,
        "mae_without": 3.5,
        "difference": -2.0,
        "dm_statistic": round(-2 * math.sqrt(14 / 3), 4),
        "p_value": 0.0035,
        "days": 8,
        "reason": None,
    }
    assert seventh["dm_statistic"] is None and seventh["reason"] == "too few days: 3 (at least 14 for horizon 7)"
    assert reading(first).endswith(": significant at 5 %") and "lowers the MAE by 2.0" in reading(first)
    summary = pd.DataFrame([{"horizon": 1, "forecaster": "model", "mae": 1.5, "rmse": 2.0, "mase": 0.5, "r2": 0.9}])
    card = card_of(summary, weather=rows, drift=NO_DRIFT)
    assert "## Does the weather help?" in card and "| 1 | 1.5 | 3.5 | -2.0 | -4.32 | 0.004 | 8 |" in card
    assert "no test: too few days" in card and "nan" not in card.lower()
    off = card_of(summary, weather=NO_WEATHER, drift=NO_DRIFT)
    assert "Not measured: the model reads no weather (COTHER_WEATHER_FEATURES=false)." in off
