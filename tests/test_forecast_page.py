"""The Forecasts page says in words what it cannot show: an empty warehouse, a set without a champion,
a region without data, an unknown region; and it counts the coverage so far of the champions' intervals
from the field-accuracy mart (cother/forecast_page/; the page in the Airflow UI, behind its login, is in
tests/test_airflow_ui.py and tests/test_weekly_sets.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import empty_warehouse, registered_model
from test_field_accuracy import ABOVE, AROUND, two_months, write_forecasts, write_quantiles  # noqa: F401 -- a fixture

from cother.core.regions import all_regions, region_sets
from cother.forecast_page import app, data, region_view
from cother.ml.grain import DAILY, grain_of

pytestmark = pytest.mark.integration


@pytest.fixture
def nothing_yet(postgres_server):
    empty_warehouse()
    with registered_model("cother_test_forecast_page"):
        yield


def test_an_empty_warehouse_and_no_champion_are_said_in_words(nothing_yet):
    overview = app.overview_html(data.overview())
    horizons = sum(len(grain_of(name).horizons) * len(region_set.regions) for name, region_set in region_sets().items())
    assert overview.count("no forecast yet") == horizons  # every horizon of every region
    assert overview.count("no data yet") == len(all_regions())
    assert "No champion yet" in overview
    detail = region_view.html(data.detail("seoul"))
    for words in ("No reported cases for this region yet", "no data to draw yet", "No champion yet", "none scored yet"):
        assert words in detail


def test_an_unknown_region_is_refused_by_name(nothing_yet):
    with pytest.raises(data.UnknownRegion, match="atlantis"):
        data.detail("atlantis")


def test_a_region_is_late_once_its_next_count_is_overdue_by_its_sets_cadence(monkeypatch):
    """A daily region is late when the day after its latest has not come the day after it; a weekly one
    when the week after its latest Sunday has not come a week after it ended (WHO's usual lag); either
    once COTHER_FRESHNESS_DAYS (1) more have passed."""
    daily, weekly = data.PERIODS["daily"], data.PERIODS["weekly"]
    monkeypatch.setattr(data, "today", lambda: date(2026, 5, 4))  # a Monday
    assert not data.is_late(date(2026, 5, 2), daily) and data.is_late(date(2026, 5, 1), daily)
    assert not data.is_late(date(2026, 4, 19), weekly) and data.is_late(date(2026, 4, 12), weekly)
    monkeypatch.setattr(data, "today", lambda: date(2026, 5, 5))
    assert data.is_late(date(2026, 4, 19), weekly)  # the week to 04-26 is not in after WHO's week and a day
    assert data.is_late(None, weekly) and data.is_late(None, daily)


def test_the_coverage_so_far_counts_each_champions_scored_forecasts_inside_their_intervals(two_months):  # noqa: F811
    """Of Seoul's next-day forecasts of 2021-02-01..04 by v3, once promoted to champion: two inside both
    intervals, one inside the 95 % alone, one inside neither; a 7-day one without quantiles is not
    scored, nor is anything of v4, never champion."""
    from cother.core.database import connect

    days = [date(2021, 2, 1) + timedelta(days=n) for n in range(4)]
    in_95_alone = [offset + 70 for offset in AROUND]  # the 0.25 quantile above the count, the 0.025 one below
    offsets = dict(zip(days, [AROUND, AROUND, in_95_alone, ABOVE], strict=True))
    for version, alias in (("3", "champion"), ("4", "challenger")):
        write_forecasts(version, alias, 1, days, lambda day: 0.0)
        write_quantiles(version, 1, days, offsets.get)
    write_forecasts("3", "champion", 7, days[:1], lambda day: 0.0)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ml.model_promotions (model_name, alias_name, model_version, moved_by, reason)"
            " values ('cother_cases_forecaster', 'champion', '3', 'test', 'test')"
        )
    coverage = data.coverage_so_far("cother_cases_forecaster", "seoul")
    assert coverage.to_dict(orient="records") == [{"horizon": 1, "scored": 4, "inside_50": 2, "inside_95": 3}]
    shown = region_view.coverage_section({"coverage": coverage, "grain": DAILY, "periods": data.PERIODS["daily"]})
    assert "<td>next-day</td><td>4</td><td>2 (50%)</td><td>3 (75%)</td>" in shown
    assert "<td>7-day</td><td colspan='3' class='empty'>none scored yet</td>" in shown
