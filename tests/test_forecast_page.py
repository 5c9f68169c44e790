"""The Forecasts page says in words what it cannot show: an empty warehouse, a set without a champion,
a region without data, an unknown region (cother/forecast_page/; its coverage so far is tested with the field-accuracy
mart in tests/test_field_accuracy.py; the page in the Airflow UI, behind its login, is in
tests/test_airflow_ui.py and tests/test_weekly_sets.py)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import empty_warehouse, registered_model

from cother.forecast_page import app, data, region_view
from cother_core.regions import all_regions, region_sets
from cother_ml.grain import grain_of

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
