"""The plan of an ingestion run refuses, before anything is fetched, what cannot be done, naming why."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cother.ingest import stages
from cother.ingest.stages import PlanError
from cother_core import clock

pytestmark = pytest.mark.unit


def test_a_request_that_cannot_be_done_is_refused_by_the_plan_naming_why():
    tomorrow = date.fromordinal(clock.today().toordinal() + 1)
    params = {"region_set": "korea", "weather_source": "sample_open_meteo", "cases_source": "sample_cases"}
    now = datetime.now(clock.SOURCE_TIMEZONE)
    with pytest.raises(PlanError, match=r"end .* is in the future"):
        stages.plan({**params, "start_date": "2021-01-01", "end_date": str(tomorrow)}, now)
    with pytest.raises(PlanError, match="start 2021-01-05 is after end 2021-01-01"):
        stages.plan({**params, "start_date": "2021-01-05", "end_date": "2021-01-01"}, now)
    with pytest.raises(PlanError, match="unknown region set 'atlantis'"):
        stages.plan({**params, "region_set": "atlantis"}, now)
    with pytest.raises(PlanError, match=r"regions \['narnia'\] are not in the region set 'korea'"):
        stages.plan({**params, "regions": ["seoul", "narnia"]}, now)
    with pytest.raises(
        PlanError, match=r"kdca is asked one request a day: 2002-01-01..2021-12-31 is 7305 days, at most 366"
    ):
        stages.plan({**params, "cases_source": "kdca", "start_date": "2002-01-01", "end_date": "2021-12-31"}, now)
    with pytest.raises(
        PlanError, match=r"kdca: region \w+: no kdca name in config/regions"
    ):  # raised once, not retried in land
        stages.plan({**params, "region_set": "world", "cases_source": "kdca", "start_date": "2021-01-01"}, now)
    with pytest.raises(PlanError, match="'sample_cases' is not a weather source"):
        stages.plan({**params, "weather_source": "sample_cases"}, now)


def test_an_empty_list_of_regions_asks_for_the_whole_set_not_for_nothing():
    params = {"region_set": "korea", "weather_source": "sample_open_meteo", "cases_source": "sample_cases"}
    request = stages.plan({**params, "regions": [], "start_date": "2021-01-01"}, datetime.now(clock.SOURCE_TIMEZONE))
    assert len(request["regions"]) == len(request["cases_regions"]) == 17
