"""The live sources against a loopback server that answers in their documented formats, good and bad."""

from __future__ import annotations

import gzip
import json
import re
import time
import tracemalloc
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from answers import (
    DAYS,
    END,
    PORTAL_ERROR,
    START,
    kdca_body,
    kdca_item,
    kma_body,
    kma_item,
    open_meteo_body,
    open_meteo_places,
    who_csv,
)
from conftest import check, land, row_count
from fake_api import KDCA, KMA, OPEN_METEO, WHO, Answer, FakeApi

from cother.ingest import stages
from cother.ingest.sources import SourceError
from cother.ingest.sources.base import read_responses
from cother.ingest.stages import RegionsFailed
from cother_core.database import connect
from cother_core.regions import get_region, select

pytestmark = pytest.mark.integration

SEOUL = get_region("seoul")


def batch_folder(source: str) -> Path:
    from cother_core.settings import get_settings

    return get_settings().landing_dir / source


def land_and_validate(source: str, start: date = START, end: date = END, regions="seoul") -> dict:
    return check(land(source, regions, start, end))


def quarantined(source: str) -> list:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select failures from quarantine.batches where source = %s", (source,))
        return [row[0] for row in cur.fetchall()]


# Open-Meteo


def test_open_meteo_documented_answer_is_landed_validated_and_published(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body()))
    validated = land_and_validate("open_meteo")
    assert validated["warnings"] == {"seoul": 0}  # every variable the model reads, on every day
    published = stages.publish(validated)
    assert published["rows"] == {"seoul": 3} and published["table"] == "raw.open_meteo_daily"
    [params] = api.paths(OPEN_METEO)
    assert params["timezone"] == "auto" and params["wind_speed_unit"] == "ms"
    assert params["start_date"] == "2022-01-01" and params["end_date"] == "2022-01-03"
    assert "sunshine_duration" in params["daily"].split(",")


def test_open_meteo_without_a_variable_for_the_whole_batch_publishes_with_a_warning_naming_it(warehouse, api, capfd):
    """Nulls for every day of a variable the model reads (Open-Meteo's answer when a model has no value
    there): the batch publishes, each region's report names the variable, with expected beside observed."""
    api.script(OPEN_METEO, Answer(open_meteo_body(extra={"sunshine_duration": [None] * len(DAYS)})))
    validated = land_and_validate("open_meteo")
    assert validated["passed"] == ["seoul"] and validated["warnings"] == {"seoul": 2}
    assert stages.publish(validated)["rows"] == {"seoul": 3}
    output = capfd.readouterr().out
    assert (
        "warn: expect_column_values_to_be_between column check_days_with_sunshine_duration: expected at least 1;"
        " observed 3 unexpected of 3 rows, e.g. 2022-01-01: check_days_with_sunshine_duration 0" in output
    )
    assert (
        "warn: expect_column_values_to_be_between column check_share_with_sunshine_duration: expected at least 0.8;"
        " observed 3 unexpected of 3 rows, e.g. 2022-01-01: check_share_with_sunshine_duration 0.0" in output
    )


def test_open_meteo_in_other_units_than_asked_is_refused_by_name(warehouse, api):
    """Fahrenheit and miles an hour would pass the range checks in winter: the units are read."""
    api.script(OPEN_METEO, Answer(open_meteo_body(units={"temperature_2m_mean": "°F", "wind_speed_10m_max": "mp/h"})))
    with pytest.raises(
        RegionsFailed,
        match=r"open_meteo: region seoul, date 2022-01-01: unit change: expected temperature_2m_mean in °C; observed °F;"
        r" expected wind_speed_10m_max in m/s; observed mp/h",
    ):
        land_and_validate("open_meteo")
    assert row_count("raw.open_meteo_daily") == 0


def test_open_meteo_at_a_base_url_is_asked_at_its_archive_endpoint(warehouse, api, monkeypatch):
    monkeypatch.setenv("COTHER_OPEN_METEO_URL", api.url(""))  # http://127.0.0.1:port, as one would write the host
    api.script(OPEN_METEO, Answer(open_meteo_body()))
    assert stages.publish(land_and_validate("open_meteo"))["rows"] == {"seoul": 3}
    assert len(api.paths(OPEN_METEO)) == 1


def test_a_server_error_then_success_is_retried(warehouse, api):
    api.script(OPEN_METEO, Answer("upstream broke", 500), Answer(open_meteo_body()))
    assert stages.publish(land_and_validate("open_meteo"))["rows"] == {"seoul": 3}
    assert len(api.paths(OPEN_METEO)) == 2


def test_a_429_waits_as_long_as_retry_after_says(warehouse, api):
    api.script(
        OPEN_METEO,
        Answer('{"error": true, "reason": "Too many requests"}', 429, {"Retry-After": "1"}),
        Answer(open_meteo_body()),
    )
    started = time.monotonic()
    land("open_meteo", "seoul", START, END)
    assert time.monotonic() - started >= 1.0
    assert len(api.paths(OPEN_METEO)) == 2


def test_a_timeout_is_retried(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(), delay_s=1.5), Answer(open_meteo_body()))
    land("open_meteo", "seoul", START, END)
    assert len(api.paths(OPEN_METEO)) == 2


def test_a_source_down_gives_up_naming_source_region_dates_and_the_last_problem(warehouse, api):
    api.script(OPEN_METEO, Answer("maintenance", 503))
    with pytest.raises(
        SourceError,
        match=r"open_meteo: region seoul, dates 2022-01-01..2022-01-03: gave up after 3 attempts, last: HTTP 503",
    ):
        land("open_meteo", "seoul", START, END)
    assert row_count("raw.open_meteo_daily") == 0


def test_a_client_error_is_not_retried_and_says_why(warehouse, api):
    api.script(
        OPEN_METEO,
        Answer('{"error": true, "reason": "Cannot initialize WeatherVariable from invalid String value"}', 400),
    )
    with pytest.raises(
        SourceError, match="open_meteo: region seoul, dates 2022-01-01..2022-01-03: HTTP 400.*invalid String"
    ):
        land("open_meteo", "seoul", START, END)
    assert len(api.paths(OPEN_METEO)) == 1


def test_truncated_json_keeps_the_landing_file_and_quarantines_the_batch(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body()[:200]))
    batch = land("open_meteo", "seoul", START, END)
    with pytest.raises(
        RegionsFailed,
        match=r"open_meteo: every region, date 2022-01-01..2022-01-03: malformed JSON: expected a whole JSON document; observed .*region seoul, dates 2022-01-01..2022-01-03",
    ):
        check(batch)
    [(_, landed)] = read_responses(open(batch["path"], "rb").read())
    assert landed.content == open_meteo_body()[:200].encode()
    assert quarantined("open_meteo")[0][0]["expectation"] == "readable payload"
    assert row_count("raw.open_meteo_daily") == 0


def test_a_missing_field_is_a_schema_change(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(drop=["precipitation_sum"])))
    with pytest.raises(
        RegionsFailed,
        match=r"open_meteo: region seoul, date 2022-01-01: schema change: expected daily fields \['precipitation_sum'\]; observed an answer without them",
    ):
        land_and_validate("open_meteo")
    assert row_count("raw.open_meteo_daily") == 0


def test_a_renamed_field_is_a_schema_change(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(rename={"temperature_2m_mean": "temperature_mean"})))
    with pytest.raises(
        RegionsFailed,
        match=r"schema change: expected daily fields \['temperature_2m_mean'\]; observed an answer without them",
    ):
        land_and_validate("open_meteo")


def test_an_added_field_is_kept_in_the_record_and_does_not_block(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(extra={"snowfall_sum": [0.0, 1.2, 0.0]})))
    stages.publish(land_and_validate("open_meteo"))
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select record ->> 'snowfall_sum' from raw.open_meteo_daily where date = '2022-01-02'")
        assert cur.fetchone()[0] == "1.2"


def test_an_empty_result_fails_the_region_as_not_answered(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(days=[])))
    with pytest.raises(
        RegionsFailed,
        match="open_meteo: region seoul, date 2022-01-01..2022-01-03: coverage: expected rows for this region; observed none in the answer",
    ):
        land_and_validate("open_meteo")
    assert row_count("raw.open_meteo_daily") == 0


def test_an_impossible_value_fails_the_gate(warehouse, api):
    api.script(OPEN_METEO, Answer(open_meteo_body(extra={"relative_humidity_2m_mean": [46.0, 146.0, 50.0]})))
    with pytest.raises(
        RegionsFailed,
        match="expect_column_values_to_be_between column relative_humidity_2m_mean: expected between 0 and 100; observed 1 unexpected",
    ):
        land_and_validate("open_meteo")


# KMA ASOS


def test_kma_pages_until_the_total_count_and_reads_strings_and_blanks(warehouse, api):
    api.script(
        KMA,
        Answer(kma_body([kma_item(DAYS[0]), kma_item(DAYS[1])], total=3, page=1)),
        Answer(kma_body(kma_item(DAYS[2], avgTa="-1.0"), total=3, page=2)),  # a single result: an object
    )
    published = stages.publish(land_and_validate("kma_asos"))
    assert published["rows"] == {"seoul": 3}
    assert [params["pageNo"] for params in api.paths(KMA)] == ["1", "2"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select avgta, sumrn from raw.kma_asos_daily where source = 'kma_asos' order by date")
        assert cur.fetchall() == [(-4.3, 0.0), (-4.3, 0.0), (-1.0, 0.0)]  # sumRn "": a dry day


def test_kma_service_key_is_sent_but_never_landed(warehouse, api):
    api.script(KMA, Answer(kma_body([kma_item(day) for day in DAYS], total=3)))
    batch = land("kma_asos", "seoul", START, END)
    assert api.paths(KMA)[0]["serviceKey"] == "test-service-key"
    landed = open(batch["path"]).read() + json.dumps(batch)
    assert "test-service-key" not in landed


def test_kma_without_a_service_key_says_how_to_set_one(warehouse, api, monkeypatch):
    monkeypatch.delenv("COTHER_DATA_GO_KR_SERVICE_KEY")
    with pytest.raises(
        SourceError,
        match="kma_asos: no data.go.kr service key: set COTHER_DATA_GO_KR_SERVICE_KEY or .* cother_data_go_kr",
    ):
        land("kma_asos", "seoul", START, END)


def test_kma_service_errors_are_landed_and_fail_the_region_with_their_code(warehouse, api):
    api.script(KMA, Answer(kma_body([], total=0, code="30", message="SERVICE_KEY_IS_NOT_REGISTERED_ERROR")))
    with pytest.raises(
        RegionsFailed,
        match="kma_asos: region seoul, date 2022-01-01..2022-01-03: service error: expected resultCode 00; observed 30 SERVICE_KEY_IS_NOT_REGISTERED_ERROR",
    ):
        land_and_validate("kma_asos")
    assert quarantined("kma_asos")[0][0]["expectation"] == "readable payload"


def test_kma_answer_in_another_charset_than_declared_is_landed_as_bytes_and_refused_by_name(warehouse, api):
    """It was decoded on arrival: the landing file held replacement characters and the garbled station
    name was published."""
    euc_kr = kma_body([kma_item(day) for day in DAYS], total=3).encode("euc-kr")
    api.script(KMA, Answer(euc_kr, headers={"Content-Type": "application/json;charset=UTF-8"}))
    batch = land("kma_asos", "seoul", START, END)
    [(_, landed)] = read_responses(open(batch["path"], "rb").read())
    assert landed.content == euc_kr and landed.charset == "UTF-8"
    with pytest.raises(
        RegionsFailed,
        match=r"kma_asos: region seoul, date 2022-01-01..2022-01-03: encoding: expected text in UTF-8, as declared;"
        r" observed byte 0xbc at position \d+, which is not UTF-8",
    ):
        check(batch)
    assert row_count("raw.kma_asos_daily") == 0


def test_kma_answer_in_the_charset_it_declares_is_read_in_it(warehouse, api):
    euc_kr = kma_body([kma_item(day) for day in DAYS], total=3).encode("euc-kr")
    api.script(KMA, Answer(euc_kr, headers={"Content-Type": "application/json; charset=EUC-KR"}))
    assert stages.publish(land_and_validate("kma_asos"))["rows"] == {"seoul": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select distinct record->>'stnNm' from raw.kma_asos_daily")
        assert cur.fetchall() == [("서울",)]


def test_a_gzip_answer_is_read_whole_and_one_cut_short_is_retried_then_named_and_not_landed(warehouse, api):
    """A gzip transfer cut in half was taken for a whole answer (551 of 2,021 bytes)."""
    whole = gzip.compress(open_meteo_body().encode())
    api.script(OPEN_METEO, Answer(whole, headers={"Content-Encoding": "gzip"}))
    assert stages.publish(land_and_validate("open_meteo"))["rows"] == {"seoul": 3}
    api.script(OPEN_METEO, Answer(whole[: len(whole) // 2], headers={"Content-Encoding": "gzip"}))
    with pytest.raises(
        SourceError,
        match=r"open_meteo: region seoul, dates 2022-01-04..2022-01-06: gave up after 3 attempts, last: the answer"
        r" was cut short: its gzip stream ends early",
    ):
        land("open_meteo", "seoul", date(2022, 1, 4), date(2022, 1, 6))
    assert len(api.paths(OPEN_METEO)) == 1 + 3
    assert not list(batch_folder("open_meteo").glob("20220104-*"))


def test_an_answer_shorter_than_its_server_announced_is_retried_then_named(warehouse, api):
    body = open_meteo_body().encode()
    api.script(OPEN_METEO, Answer(body[:551], headers={"Content-Length": str(len(body))}))
    with pytest.raises(
        SourceError,
        match=rf"open_meteo: region seoul, dates 2022-01-01..2022-01-03: gave up after 3 attempts, last: the answer"
        rf" was cut short: .*551 bytes read, {len(body) - 551} more expected",
    ):
        land("open_meteo", "seoul", START, END)


def test_kma_asks_one_station_per_request_and_fails_only_the_station_that_errs(warehouse, api):
    answers = iter(  # the first answer is of the station asked for, whichever it is
        [
            lambda station: kma_body([kma_item(day, stnId=station) for day in DAYS], total=3),
            lambda station: kma_body([], total=0, code="03", message="NODATA_ERROR"),
        ]
    )
    api.respond(KMA, lambda params: Answer(next(answers)(params["stnIds"])))
    verdict = stages.validate(land("kma_asos", ["seoul", "busan"], START, END))
    assert sorted(params["stnIds"] for params in api.paths(KMA)) == ["108", "159"]
    assert len(verdict["passed"]) == 1 and len(verdict["failed"]) == 1  # which station got the error is a race
    [(region, reason)] = verdict["failed"].items()
    assert (
        f"kma_asos: region {region}, date 2022-01-01..2022-01-03: service error: expected resultCode 00; observed 03 NODATA_ERROR"
        in reason
    )


def test_kma_number_that_is_not_a_number_names_field_and_date(warehouse, api):
    api.script(KMA, Answer(kma_body([kma_item(DAYS[0]), kma_item(DAYS[1], avgRhm="n/a"), kma_item(DAYS[2])], total=3)))
    with pytest.raises(
        RegionsFailed,
        match="kma_asos: region seoul, date 2022-01-02: field 'avgRhm': expected a number; observed 'n/a'",
    ):
        land_and_validate("kma_asos")
    assert row_count("raw.kma_asos_daily") == 0


def test_kma_dry_days_sent_with_an_empty_sumrn_are_published_as_0_mm(warehouse, api):
    """KMA leaves sumRn empty on a day without precipitation: read as missing, a dry spell left the model's
    precipitation_mm empty for the whole batch (a warning at the gate, then no weather to retrain on)."""
    api.script(KMA, Answer(kma_body([kma_item(DAYS[0], avgTd=""), kma_item(DAYS[1]), kma_item(DAYS[2])], total=3)))
    verdict = land_and_validate("kma_asos")
    assert verdict["warnings"] == {"seoul": 0}, verdict
    assert stages.publish(verdict)["rows"] == {"seoul": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select sumrn, avgtd, record::jsonb ->> 'sumRn' from raw.kma_asos_daily order by date")
        assert cur.fetchall() == [(0.0, None, ""), (0.0, -14.1, ""), (0.0, -14.1, "")]  # other blanks stay missing


# KDCA


def test_kdca_asks_day_by_day_and_publishes_cumulative_counts(warehouse, api):
    api.script(KDCA, *(Answer(kdca_body(day, str(1000 + 100 * index))) for index, day in enumerate(DAYS)))
    published = stages.publish(land_and_validate("kdca", regions=["seoul", "busan"]))
    assert published["rows"] == {"seoul": 3, "busan": 3}
    assert [params["std_day"] for params in api.paths(KDCA)] == [day.isoformat() for day in DAYS]
    assert all("gubun" not in params for params in api.paths(KDCA))  # one request a day answers every province


def test_kdca_items_of_2022_without_the_fields_it_stopped_sending_are_published(warehouse, api):
    """From 2022 KDCA's items carry no isolClearCnt, and leave out empty fields (overFlowCnt on a day with
    no case from abroad): neither is read by the platform, so neither is required."""
    answers = []
    for index, day in enumerate(DAYS):
        body = json.loads(kdca_body(day, str(1000 + 100 * index)))
        for item in body["items"]:
            del item["isolClearCnt"], item["overFlowCnt"]
        answers.append(Answer(json.dumps(body, ensure_ascii=False)))
    api.script(KDCA, *answers)
    assert stages.publish(land_and_validate("kdca", regions=["seoul"]))["rows"] == {"seoul": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select def_cnt, death_cnt, isol_clear_cnt, over_flow_cnt from raw.kdca_covid_cases order by date")
        assert cur.fetchall() == [(1000, 10, None, None), (1100, 10, None, None), (1200, 10, None, None)]


def test_kdca_an_item_without_the_cumulative_count_is_a_schema_change_by_name(warehouse, api):
    body = json.loads(kdca_body(DAYS[0], "1000"))
    del body["items"][0]["defCnt"]
    api.script(KDCA, Answer(json.dumps(body, ensure_ascii=False)))
    with pytest.raises(
        RegionsFailed,
        match=r"schema change: expected fields \['defCnt'\]; observed an item without them \(source kdca, region seoul, dates 2022-01-01",
    ):
        land_and_validate("kdca", START, START)


def test_kdca_two_items_for_one_province_and_day_the_latest_correction_wins(warehouse, api):
    """As KDCA sent on several days of December 2020: a count, then its correction."""
    first = json.loads(kdca_body(DAYS[0], "1000"))
    wrong, corrected = dict(first["items"][0], defCnt="1090"), dict(first["items"][0], defCnt="1000")
    wrong["createDt"], corrected["createDt"] = "2022-01-01 09:30:00.000", "2022-01-01 11:05:00.000"
    first["items"][0:1] = [corrected, wrong]  # the answer's order is not the order of correction
    later = [Answer(kdca_body(day, str(1100 + 100 * index))) for index, day in enumerate(DAYS[1:])]
    api.script(KDCA, Answer(json.dumps(first, ensure_ascii=False)), *later)
    assert stages.publish(land_and_validate("kdca", regions=["seoul"]))["rows"] == {"seoul": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select def_cnt, record::jsonb -> 'superseded' from raw.kdca_covid_cases order by date")
        (kept, superseded), *others = cur.fetchall()
    assert kept == 1000 and [item["defCnt"] for item in superseded] == ["1090"]
    assert others == [(1100, None), (1200, None)]


def test_kdca_corrections_sent_with_updatedt_null_are_ordered_by_when_kdca_wrote_them(warehouse, api):
    """KDCA writes "null" in the updateDt of an item it never corrected: as a date-time, "null" came last
    and the answer's order decided, so served newest first, the uncorrected count won (Seoul's 590 on
    2020-12-17)."""
    first, second = (json.loads(kdca_body(day, str(1000 + 100 * index))) for index, day in enumerate(DAYS[:2]))
    # the day's count sent twice, both never updated: the one created later is the correction
    first["items"][0:1] = [
        kdca_item(DAYS[0], "1000", createDt="2022-01-01 11:05:00.000"),
        kdca_item(DAYS[0], "1090", createDt="2022-01-01 09:30:00.000"),
    ]
    # the day's count updated in place, beside the item as first sent
    second["items"][0:1] = [
        kdca_item(DAYS[1], "1100", updateDt="2022-01-02 11:05:00.000"),
        kdca_item(DAYS[1], "1190"),
    ]
    api.script(
        KDCA,
        Answer(json.dumps(first, ensure_ascii=False)),
        Answer(json.dumps(second, ensure_ascii=False)),
        Answer(kdca_body(DAYS[2], "1200")),
    )
    assert stages.publish(land_and_validate("kdca", regions=["seoul"]))["rows"] == {"seoul": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select def_cnt, record::jsonb -> 'superseded' from raw.kdca_covid_cases order by date")
        published = [(count, [item["defCnt"] for item in superseded or []]) for count, superseded in cur.fetchall()]
    assert published == [(1000, ["1090"]), (1100, ["1190"]), (1200, [])]


def test_kdca_items_without_deathcnt_count_zero_deaths(warehouse, api):
    """KDCA leaves a zero deathCnt out (Seoul in March 2020, Jeju in February 2021): such items were
    refused as a schema change, while the same items with a null deathCnt passed."""
    answers = []
    for index, day in enumerate(DAYS):
        body = json.loads(kdca_body(day, str(1000 + 100 * index)))
        del body["items"][0]["deathCnt"]
        answers.append(Answer(json.dumps(body, ensure_ascii=False)))
    api.script(KDCA, *answers)
    assert stages.publish(land_and_validate("kdca", regions=["seoul", "busan"]))["rows"] == {"seoul": 3, "busan": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select region, death_cnt, record::jsonb ? 'deathCnt' from raw.kdca_covid_cases order by date")
        assert sorted(set(cur.fetchall())) == [("busan", 10, True), ("seoul", 0, False)]


@pytest.mark.parametrize("source", ["kdca", "kma_asos"])
def test_data_go_kr_error_envelope_is_landed_quarantined_and_named_by_its_reason(warehouse, api, source):
    """data.go.kr answers an unregistered key with an XML envelope (HTTP 200), not the JSON asked for."""
    api.script(KDCA if source == "kdca" else KMA, Answer(PORTAL_ERROR))
    batch = land(source, "seoul", START, START)
    with pytest.raises(
        RegionsFailed,
        match=rf"{source}: (region seoul|every region), date 2022-01-01.*: service error: expected data; observed the error SERVICE_KEY_IS_NOT_REGISTERED_ERROR"
        r" \(SERVICE ERROR, reason code 30\)",
    ):
        check(batch)
    assert PORTAL_ERROR in open(batch["path"], encoding="utf-8").read()
    assert quarantined(source) and row_count("raw.batch_log") == 0


def test_kdca_revised_cumulative_count_is_published_as_a_correction(warehouse, api, capsys):
    """Seoul's cumulative count falls from 1,100 to 1,050 (4.5 %): a plain correction, published with a
    warning naming the day and both figures (a KDCA count that falls by one a day, once in the bad-input
    matrix, is the same)."""
    api.script(
        KDCA, Answer(kdca_body(DAYS[0], "1000")), Answer(kdca_body(DAYS[1], "1100")), Answer(kdca_body(DAYS[2], "1050"))
    )
    verdict = land_and_validate("kdca")
    assert verdict["warnings"] == {"seoul": 1} and verdict["held"] == {} and verdict["failed"] == {}
    assert (
        "expected def_cnt at least check_def_cnt_before; observed 1 unexpected of 3 rows,"
        " e.g. 2022-01-03: def_cnt 1050, check_def_cnt_before 1100" in capsys.readouterr().out
    )
    assert stages.publish(verdict)["rows"] == {"seoul": 3}


# WHO


def test_who_keeps_the_global_file_and_publishes_the_national_series_of_the_range(warehouse, api):
    api.script(WHO, Answer(who_csv()))
    batch = land("who", ["kr", "jp"], START, END)
    assert gzip.decompress(open(batch["path"], "rb").read()) == who_csv()
    validated = check(batch)
    assert validated["warnings"] == {"kr": 1, "jp": 0}  # the blank New_cases, reported and let through
    assert stages.publish(validated)["rows"] == {"kr": 3, "jp": 3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select date::text, new_cases, cumulative_cases from raw.who_covid_daily where region = 'kr' order by date"
        )
        assert cur.fetchall() == [("2022-01-01", None, 10), ("2022-01-02", 5, 20), ("2022-01-03", 5, 30)]


def test_who_older_files_with_midnight_timestamps_for_dates_are_published_as_the_same_days(warehouse, api):
    older = re.sub(rb"(?m)^(\d{4}-\d{2}-\d{2}),", rb"\1T00:00:00Z,", who_csv())
    assert b"2022-01-02T00:00:00Z,KR" in older
    api.script(WHO, Answer(older))
    assert stages.publish(check(land("who", ["kr", "jp"], START, END)))["rows"] == {"kr": 3, "jp": 3}
    assert row_count("raw.who_covid_daily where date between '2022-01-01' and '2022-01-03'") == 6


def test_a_byte_that_is_not_utf8_in_one_countrys_row_fails_that_country_alone_by_name(warehouse, api):
    """It blocked every WHO region: the whole file was decoded at once."""
    broken = who_csv().replace(b"2022-01-02,JP,Japan", b"2022-01-02,JP,Jap\xe9n")
    api.script(WHO, Answer(broken))
    batch = land("who", ["kr", "jp"], START, END)
    assert gzip.decompress(open(batch["path"], "rb").read()) == broken  # landed as received
    with pytest.raises(
        RegionsFailed,
        match=r"who: region jp, date 2022-01-01..2022-01-03: encoding: expected UTF-8; observed byte 0xe9 at position 17 of line 7",
    ) as failed:
        check(batch)
    assert "region kr" not in str(failed.value)
    validated = stages.validate(batch)
    assert validated["passed"] == ["kr"] and stages.publish(validated)["rows"] == {"kr": 3}


def test_a_landed_file_damaged_on_disk_is_named_and_a_forced_fetch_puts_it_right(warehouse, api):
    """A .csv.gz cut short on disk failed with a bare EOFError."""
    api.script(WHO, Answer(who_csv()))
    batch = land("who", "kr", START, END)
    path = Path(batch["path"])
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(
        RegionsFailed,
        match=rf"who: landing file {re.escape(str(path))} is damaged: expected sha256 {batch['sha256']}, observed"
        r" [0-9a-f]{64} \(40 bytes\); run again with force_fetch",
    ):
        check(land("who", "kr", START, END))  # the landed batch, reused
    assert path.stat().st_size == 40  # kept as it is found, for whoever looks into it
    assert land("who", "kr", START, END, force=True)["batch_id"] == batch["batch_id"]
    assert gzip.decompress(path.read_bytes()) == who_csv()
    assert stages.publish(check(batch))["rows"] == {"kr": 3}


def test_the_who_file_is_downloaded_once_for_every_country_and_a_missing_country_fails_alone(warehouse, api):
    api.script(WHO, Answer(who_csv()))
    countries = [region.id for region in select("world") if "who" in region.case_names]
    verdict = stages.validate(land("who", countries, START, END))
    assert len(api.paths(WHO)) == 1 and len(countries) >= 150
    assert verdict["passed"] == ["jp", "kr"]
    assert verdict["failed"]["us"].startswith(
        "who: region us, date 2022-01-01..2022-01-03: coverage: expected rows for this region; observed none in the answer"
    )


def test_the_weekly_who_file_is_refused_where_daily_rows_are_expected(warehouse, api):
    from cother_core.settings import get_settings

    api.script(WHO, Answer((get_settings().sample_dir / "who_covid19_global_weekly.csv").read_bytes()))
    with pytest.raises(
        RegionsFailed,
        match=r"who: region kr, date 2022-01-01..2022-01-09: daily grain: expected a row every 1 day; observed one every 7 days",
    ):
        land_and_validate("who", date(2022, 1, 1), date(2022, 1, 9), regions="kr")


def test_open_meteo_asks_for_many_places_per_request_and_reads_the_array_in_order(warehouse, api):
    regions = [region.id for region in select("world")][:60]
    api.respond(OPEN_METEO, lambda params: Answer(open_meteo_places(params)))
    published = stages.publish(land_and_validate("open_meteo", regions=regions))
    requests = api.paths(OPEN_METEO)
    assert [len(params["latitude"].split(",")) for params in requests] == [50, 10]
    assert sorted(published["rows"]) == sorted(regions) and set(published["rows"].values()) == {3}
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select (record->>'time') is not null, count(*) from raw.open_meteo_daily group by 1")
        assert cur.fetchall() == [(True, 180)]


def test_open_meteo_places_answered_out_of_order_are_refused_by_their_coordinates(warehouse, api):
    """Matched by position alone, Seoul got Busan's weather and Busan Seoul's: each answer's grid cell is
    compared with the point asked for its place."""
    swapped = lambda params: Answer(json.dumps(json.loads(open_meteo_places(params))[::-1]))  # noqa: E731
    api.respond(OPEN_METEO, swapped)
    with pytest.raises(RegionsFailed) as refused:
        land_and_validate("open_meteo", regions=["seoul", "busan"])
    for region, asked, observed in (
        ("seoul", "37.5714, 126.966", "35.1047, 129.032"),
        ("busan", "35.1047, 129.032", "37.5714, 126.966"),
    ):
        assert (
            f"open_meteo: region {region}, date 2022-01-01..2022-01-03: coordinates: expected a grid cell within"
            f" 0.375° of {asked}, as asked; observed {observed}"
        ) in str(refused.value)
    assert row_count("raw.open_meteo_daily") == 0
    # each from a neighbour of the ERA5 cell nearest its point, as cell_selection=land may answer
    near = [json.loads(open_meteo_body(latitude=lat, longitude=lon)) for lat, lon in ((37.75, 127.25), (35.0, 128.75))]
    api.respond(OPEN_METEO, lambda params: Answer(json.dumps(near)))
    published = stages.publish(check(land("open_meteo", ["seoul", "busan"], START, END, force=True)))
    assert published["rows"] == {"seoul": 3, "busan": 3}


def test_who_renamed_column_is_a_schema_change(warehouse, api):
    api.script(WHO, Answer(who_csv().replace(b"New_cases", b"NewCases")))
    with pytest.raises(
        RegionsFailed,
        match=r"who: every region, date \(payload\): schema change: expected columns \['New_cases'\]; observed a header without them",
    ):
        land_and_validate("who", regions="kr")


# Transport a server can abuse (the named refusals: tests/test_bad_input_matrix.py's TRANSPORT_MATRIX)


def test_kma_pages_no_further_than_the_days_asked_whatever_totalcount_says(warehouse, api):
    """totalCount was trusted: a server claiming 2,182,000 items for one station and day was asked 2,182
    pages in 115 s. Here it sends an item a page, for 50 pages, to a request for three days."""

    def page(params: dict) -> Answer:
        number = int(params["pageNo"])
        items = [kma_item(DAYS[min(number, 3) - 1])] if number <= 50 else []
        return Answer(kma_body(items, total=2_182_000, page=number))

    api.respond(KMA, page)
    assert stages.publish(land_and_validate("kma_asos"))["rows"] == {"seoul": 3}
    assert [params["pageNo"] for params in api.paths(KMA)] == ["1", "2", "3"]


def test_a_gzip_bomb_is_refused_as_it_inflates_never_held_whole(warehouse, api, monkeypatch):
    """A 261 KB gzip answer inflating to 256 MiB was landed and published, at a peak of 1.63 GiB."""
    monkeypatch.setenv("COTHER_HTTP_MAX_ANSWER_MB", "1")
    api.script(WHO, Answer(gzip.compress(b"0" * 50_000_000), headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match=r"who: region kr, dates 2022-01-01..2022-01-03: size: expected at most"):
            land("who", "kr", START, END)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the limit and a chunk, not the 50 MB inflated
    assert not list(batch_folder("who").glob("*"))  # nothing landed


def meta_of(batch: dict) -> dict:
    return json.loads(Path(batch["path"]).with_name(f"{batch['batch_id']}.meta.json").read_text())


def test_a_redirect_elsewhere_never_carries_the_key_and_every_redirect_followed_is_recorded(
    warehouse, api, monkeypatch
):
    """A 301 to another host was followed with the data.go.kr key in its query, and the landing meta kept
    no trace of it."""
    other = FakeApi()  # another origin: the stand-in's own port, as bound
    try:
        api.respond(
            KMA, lambda params: Answer(status=301, headers={"Location": f"{other.url(KMA)}?{urlencode(params)}"})
        )
        with pytest.raises(
            SourceError,
            match=rf"kma_asos: region seoul, dates 2022-01-01..2022-01-03: redirect: expected answers from"
            rf" {re.escape(api.url(''))}, as configured, where the request's key may go; observed HTTP 301 to"
            rf" {re.escape(other.url(''))} \(.+\), not followed",
        ):
            land("kma_asos", "seoul", START, END)
        assert other.requests == [] and len(api.paths(KMA)) == 1  # refused at once, not retried
        # a request without a key follows it, and the landed file's metadata says so
        api.script(OPEN_METEO, Answer(status=301, headers={"Location": other.url(OPEN_METEO)}))
        other.script(OPEN_METEO, Answer(open_meteo_body()))
        batch = land("open_meteo", "seoul", START, END)
        assert batch["redirects"] == [{"status": 301, "from": api.url(OPEN_METEO), "to": other.url(OPEN_METEO)}]
        assert meta_of(batch)["redirects"] == batch["redirects"]
    finally:
        other.close()
    # within the configured origin the key follows, recorded without it
    monkeypatch.setenv("COTHER_KMA_URL", api.url("/kma/moved"))
    api.respond("/kma/moved", lambda params: Answer(status=308, headers={"Location": f"{KMA}?{urlencode(params)}"}))
    api.respond(KMA, lambda params: Answer(kma_body([kma_item(day) for day in DAYS], total=3)))
    batch = land("kma_asos", "seoul", START, END, force=True)
    assert api.paths(KMA)[-1]["serviceKey"] == "test-service-key"
    assert meta_of(batch)["redirects"] == [{"status": 308, "from": api.url("/kma/moved"), "to": api.url(KMA)}]
    assert "test-service-key" not in json.dumps(meta_of(batch))
