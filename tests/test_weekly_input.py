"""WHO's weekly file as it really is, and as it goes wrong, each case named. Every file is the bundled real
one, cut and edited inside the test; the integration tests serve it on the loopback stand-in as WHO's
server (who_weekly) and land, gate and publish it as a run does."""

from __future__ import annotations

import gzip
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from answers import who_weekly_file
from conftest import land, row_count
from fake_api import WHO_WEEKLY, Answer

from cother.ingest import stages
from cother.ingest.sources import Held, NothingToLoad, get_source
from cother.ingest.stages import PlanError
from cother_core import clock
from cother_core.regions import get_region

COUNTRIES = ["de_weekly", "fr_weekly", "jp_weekly", "kr_weekly", "us_weekly"]  # DE, FR, JP, KR, US
CUT = date(2020, 12, 27)  # the newest Sunday of the file as served
WEEK = timedelta(days=7)
SEOUL_TIME = clock.SOURCE_TIMEZONE
WHO_WEEKLY_SOURCE = get_source("who_weekly")


def gz(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


def regions():
    return [get_region(region) for region in COUNTRIES]


def with_field(line: str, field: int, value: str) -> str:
    fields = line.split(",")
    fields[field] = value
    return ",".join(fields)


def edited(prefix: str, field: int, value: str):
    """An edit of the line that starts with `prefix` (a Sunday and a Country_code): `field` set to `value`."""
    return lambda line: with_field(line, field, value) if line.startswith(prefix) else line


NEW_CASES, CUMULATIVE_CASES = 4, 5


def load(api, content: bytes, start: date, end: date) -> tuple[dict, dict, dict]:
    """The file served as WHO's, then a run's land, validate and publish of start..end: batch, verdict, published."""
    api.script(WHO_WEEKLY, Answer(content))
    batch = land("who_weekly", COUNTRIES, start, end)
    verdict = stages.validate(batch)
    return batch, verdict, stages.publish(verdict)


def published(region: str) -> list[tuple]:
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select date, new_cases, cumulative_cases from raw.who_covid_weekly where region = %s order by date",
            (region,),
        )
        return cur.fetchall()


# What the file holds of a range, read without a database


@pytest.mark.unit
def test_the_files_newest_sunday_bounds_the_range_asked():
    assert WHO_WEEKLY_SOURCE.held(gz(who_weekly_file(CUT)), regions(), CUT - 3 * WEEK, date(2021, 1, 31)) == Held(CUT)
    assert WHO_WEEKLY_SOURCE.held(gz(who_weekly_file(CUT)), regions(), CUT - 3 * WEEK, CUT - WEEK) == Held(CUT - WEEK)


@pytest.mark.unit
def test_a_partly_filled_newest_week_waits_for_the_countries_without_it_by_name():
    """WHO fills a week in over some days: its Sunday is taken once every country asked has it."""
    partial = gz(who_weekly_file(CUT + WEEK, keep=lambda day, code: day <= CUT or code in ("FR", "DE")))
    held = WHO_WEEKLY_SOURCE.held(partial, regions(), CUT - 3 * WEEK, date(2021, 1, 31))
    assert held == Held(
        CUT,
        "who_weekly: the week of 2021-01-03 is in the file for 2 of the 5 countries asked: taken once they all"
        " have it; waiting for jp_weekly, kr_weekly, us_weekly",
    )
    with pytest.raises(
        NothingToLoad,
        match=r"^who_weekly: nothing new for 2021-01-03..2021-01-31: the file's newest week ends on 2021-01-03; the"
        r" week of 2021-01-03 is in the file for 2 of the 5 .* waiting for jp_weekly, kr_weekly, us_weekly; fetched,"
        r" not landed$",
    ):
        WHO_WEEKLY_SOURCE.held(partial, regions(), CUT + WEEK, date(2021, 1, 31))


@pytest.mark.unit
def test_a_country_more_than_a_week_behind_is_not_waited_for():
    """Its rows stopped: the others take the newest week, and the gate refuses it for the weeks it lacks."""
    stopped = gz(who_weekly_file(CUT, keep=lambda day, code: code != "US" or day <= CUT - 2 * WEEK))
    assert WHO_WEEKLY_SOURCE.held(stopped, regions(), CUT - 3 * WEEK, date(2021, 1, 31)) == Held(CUT)


@pytest.mark.unit
def test_a_file_without_a_new_week_holds_nothing_of_the_range():
    with pytest.raises(NothingToLoad, match=r"^who_weekly: nothing new for 2021-01-03..2021-01-31: the file's newest"):
        WHO_WEEKLY_SOURCE.held(gz(who_weekly_file(CUT)), regions(), CUT + WEEK, date(2021, 1, 31))


@pytest.mark.unit
def test_a_sunday_no_country_has_is_a_gap_of_the_file_not_of_a_region():
    gap = CUT - 2 * WEEK
    content = gz(who_weekly_file(CUT, keep=lambda day, code: day != gap))
    parsed = WHO_WEEKLY_SOURCE.parse(content, regions(), CUT - 4 * WEEK, CUT)
    assert parsed.gaps == [gap] and parsed.errors == {}
    assert len(parsed.frame) == 5 * 4


@pytest.mark.unit
def test_a_country_code_not_in_the_set_is_ignored():
    """The real file has such codes (XXA..XXH, international conveyances); here a code no set has."""
    real = who_weekly_file(CUT).decode()
    unknown = [line.replace(",FR,France,", ",ZZ,Nowhere,") for line in real.splitlines() if ",FR," in line]
    content = (real + "\n".join(unknown) + "\n").encode()
    parsed = WHO_WEEKLY_SOURCE.parse(gz(content), regions(), CUT - WEEK, CUT)
    assert parsed.errors == {} and sorted(parsed.frame["region"].unique()) == COUNTRIES
    assert WHO_WEEKLY_SOURCE.held(gz(content), regions(), CUT - WEEK, CUT) == Held(CUT)


@pytest.mark.unit
def test_the_weather_of_a_weekly_run_says_the_set_runs_without_it(capsys):
    request = {"region_set": "world_weekly", "regions": COUNTRIES, "weather_source": "open_meteo"}
    assert stages.land({**request, "weather_regions": []}, "weather") is None
    assert (
        capsys.readouterr().out == "the world_weekly set runs without weather (it reports weekly): nothing to fetch\n"
    )


# Landed, gated and published


@pytest.mark.integration
def test_a_blank_new_cases_is_a_week_not_reported_and_publishes(warehouse, api):
    content = who_weekly_file(CUT, edit=edited("2020-12-20,FR,", NEW_CASES, ""))
    _, verdict, done = load(api, content, CUT - 3 * WEEK, CUT)
    assert verdict["failed"] == {} and verdict["warnings"] == dict.fromkeys(COUNTRIES, 0)
    assert done["rows"] == dict.fromkeys(COUNTRIES, 4)
    assert (date(2020, 12, 20), None, 2254370) in published("fr_weekly")  # the cumulative count, as sent


@pytest.mark.integration
def test_a_country_whose_rows_stop_is_refused_by_name_and_the_others_publish(warehouse, api):
    content = who_weekly_file(CUT, keep=lambda day, code: code != "US" or day <= CUT - 2 * WEEK)
    batch, verdict, done = load(api, content, CUT - 3 * WEEK, CUT)
    assert (batch["start"], batch["end"]) == ("2020-12-06", "2020-12-27")
    assert list(verdict["failed"]) == ["us_weekly"]
    reason = verdict["failed"]["us_weekly"]
    assert "source who_weekly, region us_weekly, dates 2020-12-06..2020-12-27" in reason
    assert "check_days_of_region: expected check_days_of_region = check_days_expected" in reason
    assert "check_days_of_region 2, check_days_expected 4" in reason
    assert done["rows"] == dict.fromkeys(["de_weekly", "fr_weekly", "jp_weekly", "kr_weekly"], 4)
    assert row_count("quarantine.batches where region = 'us_weekly'") == 1
    assert Path(batch["path"]).exists()  # the landing file stays


@pytest.mark.integration
def test_a_country_whose_cumulative_goes_blank_has_those_weeks_held_back_and_the_rest_publishes(warehouse, api):
    blank = [edited(f"{day},US,", CUMULATIVE_CASES, "") for day in (CUT - WEEK, CUT)]
    content = who_weekly_file(CUT, edit=lambda line: blank[1](blank[0](line)))
    _, verdict, done = load(api, content, CUT - 3 * WEEK, CUT)
    assert verdict["failed"] == {}
    assert verdict["held"] == {"us_weekly": {"days": ["2020-12-20", "2020-12-27"], "cells": {}}}
    assert done["rows"] == {**dict.fromkeys(COUNTRIES, 4), "us_weekly": 2}
    assert [row[0] for row in published("us_weekly")] == [date(2020, 12, 6), date(2020, 12, 13)]
    assert row_count("quarantine.batches where region = 'us_weekly'") == 1


@pytest.mark.integration
def test_a_week_revised_later_is_published_as_a_correction_keeping_the_replaced_row(warehouse, api, capsys):
    """A later file lowers France's cumulative count of an old week below the week before: a run over that
    week (WHO's revisions are taken by a triggered range) publishes it with a warning, and the row it
    replaced is kept in raw.replaced_rows."""
    load(api, who_weekly_file(CUT), CUT - 3 * WEEK, CUT)
    revised = who_weekly_file(CUT + 2 * WEEK, edit=edited("2020-12-20,FR,", CUMULATIVE_CASES, "2160451"))
    _, verdict, done = load(api, revised, CUT - WEEK, CUT - WEEK)
    assert verdict["failed"] == {} and verdict["warnings"]["fr_weekly"] == 1
    assert "check_cumulative_cases_before" in capsys.readouterr().out
    assert done["rows"]["fr_weekly"] == 1
    assert (date(2020, 12, 20), 92919, 2160451) in published("fr_weekly")
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute("select region, date, replaced_row ->> 'cumulative_cases' from raw.replaced_rows")
        assert cur.fetchall() == [("fr_weekly", date(2020, 12, 20), "2254370")]


@pytest.mark.integration
def test_a_sunday_missing_for_every_country_is_named_once_and_the_other_weeks_publish(warehouse, api, capsys):
    """No region is refused for the file's own gap (refusing each would hold back every week around it,
    every run, until WHO mends the file); the next week's cumulative count carries the gap's cases."""
    gap = CUT - 2 * WEEK
    _, verdict, done = load(api, who_weekly_file(CUT, keep=lambda day, code: day != gap), CUT - 4 * WEEK, CUT)
    assert verdict["failed"] == {} and verdict["gaps"] == ["2020-12-13"]
    assert done["rows"] == dict.fromkeys(COUNTRIES, 4)
    said = [line for line in capsys.readouterr().out.splitlines() if "2020-12-13" in line]
    assert said == [
        "who_weekly: no row of any country or area for 2020-12-13: a gap of the file, which no region is refused for"
        f" (source who_weekly, region 5 regions, dates 2020-11-29..2020-12-27, batch {done['batch_id']})"
    ]


@pytest.mark.integration
def test_a_partly_filled_newest_week_publishes_the_weeks_before_it_and_is_taken_once_filled(warehouse, api, capsys):
    partial = who_weekly_file(CUT + WEEK, keep=lambda day, code: day <= CUT or code in ("FR", "DE"))
    batch, verdict, done = load(api, partial, CUT - WEEK, CUT + 2 * WEEK)
    assert (batch["start"], batch["end"]) == ("2020-12-20", "2020-12-27")
    assert verdict["failed"] == {} and done["rows"] == dict.fromkeys(COUNTRIES, 2)
    assert "waiting for jp_weekly, kr_weekly, us_weekly" in capsys.readouterr().out
    with pytest.raises(NothingToLoad, match="waiting for jp_weekly, kr_weekly, us_weekly; fetched, not landed"):
        load(api, partial, CUT + WEEK, CUT + 2 * WEEK)  # the next run, before WHO has filled the week in
    batch, verdict, done = load(api, who_weekly_file(CUT + WEEK), CUT + WEEK, CUT + 2 * WEEK)
    assert (batch["start"], batch["end"]) == ("2021-01-03", "2021-01-03")
    assert done["rows"] == dict.fromkeys(COUNTRIES, 1)


# The plan of a scheduled run


def scheduled(run_day: date, **params) -> dict:
    """The plan of the weekly set's scheduled run of `run_day`."""
    defaults = {"region_set": "world_weekly", "regions": COUNTRIES, "weather_source": "open_meteo"}
    run_time = datetime(run_day.year, run_day.month, run_day.day, 10, tzinfo=SEOUL_TIME)
    return stages.plan({**defaults, "cases_source": "who_weekly", **params}, run_time)


@pytest.mark.integration
def test_a_scheduled_weekly_run_asks_for_the_weeks_not_yet_published(warehouse, api):
    fresh = scheduled(date(2021, 1, 6))  # a Wednesday: the last Sunday before it is 2021-01-03
    assert (fresh["start"], fresh["end"], fresh["weather_regions"]) == ("2020-01-05", "2021-01-03", [])
    load(api, who_weekly_file(CUT), CUT - WEEK, CUT)
    assert (scheduled(date(2021, 1, 6))["start"], scheduled(date(2021, 1, 6))["end"]) == ("2021-01-03", "2021-01-03")
    assert scheduled(date(2021, 1, 18))["end"] == "2021-01-17"
    with pytest.raises(
        NothingToLoad,
        match=r"^nothing new to ask of who_weekly: the world_weekly set is published through 2020-12-27; its next"
        r" week ends on 2021-01-03, and the last one ended on 2020-12-27$",
    ):
        scheduled(date(2021, 1, 3))  # Sunday's run: yesterday's week has not ended
    with pytest.raises(PlanError, match=r"2021-01-04..2021-01-08 holds no Sunday"):
        scheduled(date(2021, 1, 10), start_date="2021-01-04", end_date="2021-01-08")


@pytest.mark.integration
def test_a_scheduled_weekly_run_past_the_bundled_file_says_so(warehouse):
    from conftest import load as publish_range

    source = get_source("sample_who_weekly")
    publish_range("sample_who_weekly", ["fr_weekly"], source.last_day() - WEEK, source.last_day())
    with pytest.raises(
        NothingToLoad,
        match=r"^nothing to load for 2026-04-26\.\.\d{4}-\d\d-\d\d: the bundled sample data ends earlier"
        r" \(sample_who_weekly through 2026-04-19\)",
    ):
        scheduled(clock.today(), regions=["fr_weekly"], cases_source="sample_who_weekly")
