"""The Forecasts page says in words what it cannot show: an empty warehouse, a set without a champion,
a region without data, an unknown region (cother/forecast_page/; the page in the Airflow UI, behind its
login, is in tests/test_airflow_ui.py)."""

from __future__ import annotations

import pytest
from conftest import empty_warehouse, registered_model

from cother.core.regions import all_regions
from cother.forecast_page import app, data, region_view

pytestmark = pytest.mark.integration


@pytest.fixture
def nothing_yet(postgres_server):
    empty_warehouse()
    with registered_model("cother_test_forecast_page"):
        yield


def test_an_empty_warehouse_and_no_champion_are_said_in_words(nothing_yet):
    overview = app.overview_html(data.overview())
    assert overview.count("no forecast yet") == 2 * len(all_regions())  # both horizons of every region
    assert overview.count("no data yet") == len(all_regions())
    assert "No champion yet" in overview
    detail = region_view.html(data.detail("seoul"))
    for words in ("No reported cases for this region yet", "no data to draw yet", "No champion yet"):
        assert words in detail


def test_an_unknown_region_is_refused_by_name(nothing_yet):
    with pytest.raises(data.UnknownRegion, match="atlantis"):
        data.detail("atlantis")
