"""A weekly set through the real DAGs: WHO's weekly file (its bundled copy) for some countries of
world_weekly, ingested, validated, published, transformed into weekly marts, and a model of 1- to
4-week forecasts trained, registered and forecasting the 4 weeks after the file's last Sunday. Then the
Forecasts page over it, by the week: its HTML, its JSON over HTTP behind Airflow's login, and in headless
Chromium logged into a real Airflow stack."""

from datetime import date, timedelta

import pytest
from conftest import empty_warehouse, registered_model, row_count, screenshot, wait_until
from test_airflow_ui import (
    airflow_stack,
    assert_fits_its_frame,
    assert_forecasters_named,
    assert_region_chart,
    get_json,
    log_in,
    open_forecasts,
    refused,
)
from test_end_to_end import HUBVERSE_COLUMNS, assert_hub_submission, dags, run  # noqa: F401 -- dags: a fixture

from cother_core.regions import select
from cother_ml.grain import grain_of

pytestmark = pytest.mark.system

# each reports its last Sunday (WHO's New_cases is not blank on LAST): a country that did not is not forecast
COUNTRIES = ["fr_weekly", "de_weekly", "gb_weekly", "gr_weekly", "br_weekly", "pl_weekly"]
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
    from cother_core.database import connect

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
    # a week WHO left New_cases blank (the country did not report it; a week of none reads 0) has no count
    blank = _query(
        "select count(*), count(features.new_cases) from marts.fct_training_features_weekly as features"
        " join raw.who_covid_weekly as raw on raw.region = features.region and raw.date = features.date_day"
        " where raw.record ->> 'New_cases' = ''"
    )
    assert blank[0][0] > 0 and blank[0][1] == 0, blank


def test_dim_region_says_the_weekly_set_reports_weekly(weekly_run):
    cadences = dict(_query("select region, cadence from raw.regions where region = any(%s)", (COUNTRIES,)))
    assert cadences == dict.fromkeys(COUNTRIES, "weekly")
    assert len(select("world_weekly")) == 234


def test_the_weekly_model_forecasts_the_four_weeks_after_the_last_sunday(weekly_run):
    from cother_ml import registry

    name = registry.model_name_of("world_weekly")
    assert name == "cother_test_weekly_world_weekly"
    version = registry.champion_version(name) or registry.alias_version(name, "challenger").version
    tags = registry.client().get_model_version(name, version).tags
    learnt = registry.load(name, str(version)).unwrap_python_model().publication
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
    # every country has 5 years of weeks: each is forecast by the forecaster its horizon published
    assert learnt.trained == sorted(COUNTRIES)
    assert [(region, horizon, forecaster) for region, horizon, *_, forecaster in forecasts] == [
        (region, horizon, learnt.published[horizon]) for region in sorted(COUNTRIES) for horizon in (7, 14, 21, 28)
    ]


@pytest.fixture(scope="module")
def weekly_champion(weekly_run):
    """The weekly version, champion: promoted by hand (`cother model --set world_weekly promote`) where the
    promotion gate kept it challenger, since the page shows a set's champion's forecasts."""
    from cother_ml import aliases, registry

    name = registry.model_name_of("world_weekly")
    if registry.champion_version(name) is None:
        aliases.promote(name, str(registry.alias_version(name, "challenger").version), "the Forecasts page's tests")
    return str(registry.champion_version(name))


def test_the_weekly_champions_quantiles_export_as_a_hub_submission_by_the_week(weekly_champion, tmp_path):
    """The same export for a weekly set: horizons in weeks, each target the Sunday ending the week."""
    import pandas as pd

    from cother.cli import main

    out = tmp_path / "weekly.csv"
    main(["export", "hub", "--set", "world_weekly", "--date", str(LAST), "--out", str(out)])
    submission = pd.read_csv(out)
    assert list(submission.columns) == HUBVERSE_COLUMNS
    assert set(submission["location"]) == set(COUNTRIES) and len(submission) == len(COUNTRIES) * 4 * 23
    weeks = {weeks: LAST + timedelta(weeks=weeks) for weeks in (1, 2, 3, 4)}
    assert_hub_submission(submission, LAST, "wk inc case", weeks)


def row_of(overview: str, region: str) -> str:
    """A region's row of the overview's HTML."""
    return overview[overview.index(f"data-region='{region}'") :].split("</tr>")[0]


def test_the_forecasts_page_shows_the_weekly_set_by_the_week(weekly_champion):
    from cother.forecast_page import app, data, region_view

    overview = app.overview_html(data.overview())
    weekly = overview[overview.index("<section data-set='world_weekly'>") :].split("</section>")[0]
    assert "".join(f"<th>{weeks}-week</th>" for weeks in (1, 2, 3, 4)) in weekly
    assert "its change vs last reported where it can differ, its target week and who made it" in weekly
    france = row_of(overview, "fr_weekly")
    for weeks in (1, 2, 3, 4):  # each horizon's target Sunday, and who made it
        assert f"<div class='by'><span class='day'>week to {LAST + timedelta(weeks=weeks)}</span> · " in france
    assert f"<span class='day'>week to {LAST}</span> (late)" in france  # today, long after WHO's file ends
    assert "reports weekly since" in france and "class='late'>reports" not in france
    assert "no daily counts" not in weekly
    detail = region_view.html(data.detail("fr_weekly"))
    for words in (
        "New cases per week",
        f"Latest reported week: week to {LAST} (late",
        "Rolling 12-week MAE of the 1-week forecasts",
        "<td>1-week</td><td>persistence</td>",
        "<td>4-week</td><td>mean 4w</td>",
        "No weather: a weekly set's model runs without it.",
    ):
        assert words in detail, words
    assert "no daily count" not in detail
    reported = region_view.as_json(data.detail("fr_weekly"))["reported"]  # two years of weeks
    assert [row["date_day"] for row in reported] == [LAST - timedelta(weeks=weeks) for weeks in reversed(range(104))]


@pytest.fixture(scope="module")
def weekly_ui(weekly_champion):
    """The Airflow stack over the weekly run (its API server serves the page with this module's model name)."""
    with airflow_stack("weekly-ui-airflow.log") as stack:
        yield stack


def test_the_forecasts_pages_json_carries_the_weekly_sets_weeks_behind_airflows_login(weekly_ui, weekly_champion):
    pages, token = f"{weekly_ui['url']}/forecasts", weekly_ui["token"]
    for path in ("/api/overview", "/api/regions/fr_weekly"):
        assert refused(pages + path) == 401, path
    weekly = next(
        found for found in get_json(f"{pages}/api/overview", token)["sets"] if found["region_set"] == "world_weekly"
    )
    assert weekly["periods"]["cadence"] == "weekly" and weekly["periods"]["name"] == "week"
    assert weekly["horizons"] == [{"horizon_days": 7 * weeks, "label": f"{weeks}-week"} for weeks in (1, 2, 3, 4)]
    assert weekly["champion"]["version"] == weekly_champion
    france = next(region for region in weekly["regions"] if region["region"] == "fr_weekly")
    assert {horizon: forecast["date"] for horizon, forecast in france["forecasts"].items()} == {
        str(7 * weeks): str(LAST + timedelta(weeks=weeks)) for weeks in (1, 2, 3, 4)
    }
    assert france["cadence"]["set_cadence"] == "weekly" and france["cadence"]["habit"] == "weekly"
    assert france["latest_day"] == str(LAST) and france["late"]
    region = get_json(f"{pages}/api/regions/fr_weekly", token)
    assert region["periods"] == weekly["periods"] and region["horizons"] == weekly["horizons"]
    assert len(region["reported"]) == 104 and region["reported"][-1]["date_day"] == str(LAST)
    assert [(row["horizon"], row["date_day"]) for row in region["forecasts"]] == [
        (7 * weeks, str(LAST + timedelta(weeks=weeks))) for weeks in (1, 2, 3, 4)
    ]
    for row in region["forecasts"]:  # who made each, and its 50 % and 95 % intervals
        assert row["forecaster"] in ("model", "persistence", "mean_4w"), row
        assert row["lower_95"] <= row["lower_50"] <= row["upper_50"] <= row["upper_95"], row
    assert region["coverage"] == []  # none of the forecasts' weeks reported yet
    backtest = {(row["label"], row["forecaster"]) for row in region["champion"]["backtest"]}
    assert backtest == {
        (f"{weeks}-week", name) for weeks in (1, 2, 3, 4) for name in ("model", "persistence", "mean_4w")
    }
    assert {row["horizon"] for row in region["backtest"]} == {7, 14, 21, 28}


def test_the_forecasts_page_shows_the_weekly_sets_forecasts_and_a_weekly_regions_chart(
    weekly_ui, weekly_champion, browser
):
    from selenium.webdriver.common.by import By

    frame = open_forecasts(browser, log_in(browser, weekly_ui))
    browser.switch_to.frame(frame)
    try:
        wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tr[data-region='fr_weekly']"))
        # each with its 4 weekly forecasts, their target Sundays and who made them
        forecasters = assert_forecasters_named(
            browser, "world_weekly", "cother_test_weekly_world_weekly", weekly_champion
        )
        assert set(forecasters) == set(COUNTRIES)
        for country in COUNTRIES:
            text = browser.find_element(By.CSS_SELECTOR, f"tr[data-region='{country}']").text
            for weeks in (1, 2, 3, 4):
                assert f"week to {LAST + timedelta(weeks=weeks)}" in text, text
            assert "no daily counts" not in text, text
        assert_fits_its_frame(browser)  # four horizons of a weekly set
        france = browser.find_element(By.CSS_SELECTOR, "tr[data-region='fr_weekly']")
        assert "reports weekly" in france.text, france.text
        browser.execute_script("arguments[0].scrollIntoView()", france)
        browser.switch_to.default_content()
        screenshot(browser, "forecasts-weekly-overview.png")
        browser.switch_to.frame(frame)

        browser.find_element(By.CSS_SELECTOR, "tr[data-region='fr_weekly'] a").click()
        chart = wait_until(browser, lambda b: b.find_elements(By.ID, "cases-chart"))[0]
        assert "New cases per week" in chart.text, chart.text
        assert_region_chart(browser, chart, forecasters["fr_weekly"], grain_of("world_weekly"), weekly_champion)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert (
            "cother_test_weekly_world_weekly v" in body and "No weather: a weekly set's model runs without it." in body
        )
    finally:
        browser.switch_to.default_content()
    screenshot(browser, "forecasts-weekly-region.png")
