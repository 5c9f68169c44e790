"""A weekly set through the real DAGs: WHO's weekly file (its bundled copy) for some countries of
world_weekly, ingested, validated, published, transformed into weekly marts, and a model of 1- to
4-week forecasts trained, registered and forecasting the 4 weeks after the file's last Sunday."""

from datetime import date, timedelta

import pytest
from conftest import empty_warehouse, registered_model, row_count
from test_end_to_end import dags, run  # noqa: F401 -- the DAGs fixture, and a run's outcome

from cother.core.regions import select

pytestmark = pytest.mark.system

COUNTRIES = ["fr_weekly", "de_weekly", "jp_weekly", "kr_weekly", "br_weekly", "za_weekly"]
FIRST, LAST = date(2021, 1, 3), date(2026, 4, 19)  # Sundays of the bundled file
WEEKS = (LAST - FIRST).days // 7 + 1
INGEST = {
    "start_date": str(FIRST),
    "end_date": str(LAST),
    "region_set": "world_weekly",
    "regions": COUNTRIES,
    "cases_source": "sample_who_weekly",
}


@pytest.fixture(scope="module")
def weekly_run(dags, postgres_server):  # noqa: F811 -- the fixture imported above
    with registered_model("cother_test_weekly"):
        empty_warehouse()
        yield {
            "ingest": run(dags["cother_ingest"], INGEST),
            "transform": run(dags["cother_transform"], {}),
            "retrain": run(dags["cother_retrain"], {"region_set": "world_weekly", "regions": COUNTRIES}),
        }


def _query(statement: str, params: tuple = ()) -> list[tuple]:
    from cother.core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def test_a_weekly_set_publishes_a_row_per_country_and_sunday(weekly_run):
    assert weekly_run == {"ingest": (True, []), "transform": (True, []), "retrain": (True, [])}
    assert row_count("raw.who_covid_weekly") == WEEKS * len(COUNTRIES)
    assert _query("select distinct extract(isodow from date)::int from raw.who_covid_weekly") == [(7,)]
    assert row_count("raw.batch_log where raw_table = 'raw.who_covid_weekly' and announced_at is null") == 0


def test_the_weekly_features_mart_holds_each_week_and_the_week_to_forecast(weekly_run):
    rows = _query(
        "select region, count(*), max(date_day), count(*) filter (where is_forecast_row)"
        " from marts.fct_training_features_weekly group by region order by region"
    )
    assert rows == [(region, WEEKS + 1, LAST + timedelta(days=7), 1) for region in sorted(COUNTRIES)]
    assert row_count("marts.fct_training_features where region like '%%_weekly'") == 0
    # the week's count is the difference of WHO's cumulative over a week, as WHO's own New_cases says
    differences = _query(
        "select features.new_cases, (raw.record ->> 'New_cases')::bigint from marts.fct_training_features_weekly"
        " as features join raw.who_covid_weekly as raw on raw.region = features.region and raw.date = features.date_day"
        " where features.new_cases is not null and raw.record ->> 'New_cases' <> ''"
    )
    agreeing = sum(ours == theirs for ours, theirs in differences)
    assert agreeing / len(differences) > 0.95, (agreeing, len(differences))


def test_dim_region_says_the_weekly_set_reports_weekly(weekly_run):
    cadences = dict(_query("select region, cadence from raw.regions where region = any(%s)", (COUNTRIES,)))
    assert cadences == dict.fromkeys(COUNTRIES, "weekly")
    assert len(select("world_weekly")) == 234


def test_the_weekly_model_forecasts_the_four_weeks_after_the_last_sunday(weekly_run):
    from cother.ml import registry

    with registry.for_set("world_weekly") as name:
        assert name == "cother_test_weekly_world_weekly"
        version = registry.champion_version() or registry.alias_version("challenger").version
        tags = registry.client().get_model_version(name, version).tags
    assert tags["cadence"] == "weekly" and tags["weather_features"] == "False"  # a weekly set runs without weather
    forecasts = _query(
        "select region, horizon_days, origin_date, target_date, forecast_new_cases, forecaster from ml.forecasts"
        " where model_name = %s and model_version = %s order by region, horizon_days",
        (name, str(version)),
    )
    assert [(region, horizon, origin, target) for region, horizon, origin, target, *_ in forecasts] == [
        (region, 7 * weeks, LAST, LAST + timedelta(weeks=weeks))
        for region in sorted(COUNTRIES)
        for weeks in (1, 2, 3, 4)
    ]
    assert all(forecast >= 0 for *_, forecast, _ in forecasts)
    assert {forecaster for *_, forecaster in forecasts} <= {"model", "persistence", "mean_4w"}
