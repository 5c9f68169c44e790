"""Real data as it is (issue 28): a one-day glitch of a cumulative count, a fall on a region's last
day and a region that stopped reporting daily, through dbt into what the model trains on, what it
forecasts and the Forecasts page. Seoul's bundled year with a glitch put into its raw counts; Italy and
Germany from the bundled JHU series, 2022-06..2023-03: Italy reports weekly from November 2022 (a
report a week, on the same weekday), Germany daily to the end, where its count is made to fall."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import empty_warehouse, load, publish_seoul

from cother.forecast_page import app, data, region_view
from cother.ingest.sources.sample import bundled_period
from cother.transform import dbt
from cother_core.database import connect
from cother_ml.features import examples, labelled, upcoming
from cother_ml.grain import DAILY
from cother_ml.slice_gate import validate
from cother_ml.storage import load_mart

pytestmark = pytest.mark.integration

GLITCH = date(2021, 3, 10)  # Seoul's cumulative count falls by 500 that day and is back the next
WEEKLY_SINCE = date(2022, 11, 19)  # Italy: 10 or fewer reports in the 28 days up to it, every week
JHU_PERIOD = (date(2022, 6, 1), date(2023, 3, 9))
FALLS = [  # (raw table, region, day, by): the cumulative count of the day lowered after publishing
    ("raw.coronaboard_cases", "seoul", GLITCH, 500),  # back up the next day (about 150 a day): a glitch
    ("raw.jhu_covid_cases", "de", JHU_PERIOD[1], 1_000_000),  # Germany's last day: a fall, no next day yet
]


def rows(statement: str, params=None) -> list[tuple]:
    with connect() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


@pytest.fixture(scope="module")
def built(postgres_server):
    empty_warehouse()
    publish_seoul(*bundled_period())
    load("jhu", ["it", "de"], *JHU_PERIOD)
    for table, region, day, by in FALLS:  # table names from the list above
        lowered = f"update {table} set confirmed = confirmed - %s where region = %s and date = %s returning date"  # noqa: S608
        assert rows(lowered, (by, region, day)) == [(day,)]
    assert dbt.build()["success"]
    return load_mart()


def test_a_one_day_glitch_leaves_both_days_flagged_and_out_of_training(built):
    statuses = rows(
        "select date_day, daily_status, new_cases from marts.fct_region_daily"
        " where region = 'seoul' and date_day between %s and %s order by date_day",
        (date(2021, 3, 9), date(2021, 3, 12)),
    )
    assert [(day.day, status, count is None) for day, status, count in statuses] == [
        (9, "ok", False),
        (10, "glitch", True),
        (11, "after_glitch", True),
        (12, "ok", False),
    ]
    seoul = built[built["region"] == "seoul"].reset_index(drop=True)
    for horizon in DAILY.horizons:
        targets = set(labelled(examples(seoul, horizon, DAILY), DAILY)["target_date"].dt.date)
        assert GLITCH not in targets and date(2021, 3, 11) not in targets
        assert date(2021, 3, 12) in targets or horizon == 1  # a next-day target reads the glitch in its lags
    (verdict,) = validate(seoul, ["seoul"], DAILY)  # raises if the slice fails: the days left out are not missing days
    assert verdict["region"] == "seoul"


def test_each_regions_cadence_and_its_start_are_recorded(built):
    recorded = dict(
        (region, (cadence, since))
        for region, cadence, since in rows(
            "select region, reporting_cadence, reporting_cadence_since from marts.dim_region"
            " where region in ('it', 'de', 'seoul')"
        )
    )
    assert recorded["it"] == ("weekly", WEEKLY_SINCE)
    assert recorded["de"] == ("daily", date(2022, 6, 28))  # its first classified day: 28 days of data
    assert recorded["seoul"][0] == "daily"


def test_a_weekly_reporters_days_are_not_read_as_daily_counts_nor_forecast(built):
    (counted,) = rows(
        "select count(*) filter (where new_cases is not null), count(*) filter (where daily_status = 'not_reported_daily')"
        " from marts.fct_region_daily where region = 'it' and date_day >= %s",
        (WEEKLY_SINCE,),
    )
    assert counted == (0, (JHU_PERIOD[1] - WEEKLY_SINCE).days + 1)
    (flat_days,) = rows(
        "select count(*) from intermediate.int_cases__cumulative_unioned as cumulative"
        " where region = 'it' and date_day >= %s and confirmed_cumulative = ("
        "     select previous.confirmed_cumulative from intermediate.int_cases__cumulative_unioned as previous"
        "     where previous.region = 'it' and previous.date_day = cumulative.date_day - 1)",
        (WEEKLY_SINCE,),
    )
    assert flat_days[0] > 80  # the days Italy did not report: none is read as a day of 0 cases
    italy = built[built["region"] == "it"].reset_index(drop=True)
    assert labelled(examples(italy, 1, DAILY), DAILY)["target_date"].max() < pd.Timestamp(WEEKLY_SINCE)
    ahead = upcoming(examples(built, 1, DAILY))
    assert "it" not in set(ahead["region"])


def test_no_region_is_forecast_from_a_last_day_without_a_count(built):
    (status,) = rows(
        "select daily_status from marts.fct_region_daily where region = 'de' and date_day = %s", (JHU_PERIOD[1],)
    )
    assert status == ("revised_down",)
    next_day = examples(built, 1, DAILY)
    germany = next_day[next_day["is_forecast_row"] & next_day["region"].eq("de")]
    assert germany["anchor"].notna().all()  # the 6 days before it still make an anchor
    assert set(upcoming(next_day)["region"]) == {"seoul"}  # Germany's origin has no count, Italy's none


def test_the_forecasts_page_says_how_each_region_reports(built):
    overview = app.overview_html(data.overview())
    italy = overview[overview.index("data-region='it'") :].split("</tr>")[0]
    assert "reports weekly since <span class='day'>2022-11-19</span>" in italy
    assert italy.count("not forecast: no daily counts") == 2  # both horizons
    germany = overview[overview.index("data-region='de'") :].split("</tr>")[0]
    assert "reports daily since <span class='day'>2022-06-28</span>" in germany and "no forecast yet" in germany
    detail = region_view.html(data.detail("it"))
    assert "Reporting: reports weekly since 2022-11-19." in detail
    assert "no daily count" in detail
    assert region_view.as_json(data.detail("it"))["cadence"] == {
        "set_cadence": "daily",
        "habit": "weekly",
        "since": WEEKLY_SINCE,
    }
