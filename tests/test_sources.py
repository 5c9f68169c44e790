from datetime import date

import pytest

from cother.ingest.sources import get_source
from cother.ingest.sources.sample import bundled_period
from cother_core.regions import get_region, get_set, select

pytestmark = pytest.mark.unit

SEOUL = get_region("seoul")


def parse(source_name: str, payload: bytes, regions, start: date, end: date):
    return get_source(source_name).parse(payload, regions, start, end)


def test_sample_weather_serves_the_requested_days_as_they_stand_in_the_bundled_file():
    source = get_source("sample_weather")
    payload = source.fetch([SEOUL], date(2021, 1, 1), date(2021, 1, 7))
    lines = payload.content.decode().splitlines()
    assert lines[0].startswith("date,avgTa,minTa")
    assert [line[:10] for line in lines[1:]] == [f"2021-01-0{day}" for day in range(1, 8)]
    parsed = source.parse(payload.content, [SEOUL], date(2021, 1, 1), date(2021, 1, 7))
    assert parsed.errors == {}
    assert len(parsed.frame) == 7
    assert parsed.frame.loc[0, "avgta"] == pytest.approx(float(lines[1].split(",")[1]))
    assert set(parsed.frame["region"]) == {"seoul"}


def test_one_payload_serves_every_province_by_its_coronaboard_name():
    source = get_source("sample_cases")
    provinces = select("korea")
    payload = source.fetch(provinces, date(2021, 1, 1), date(2021, 1, 3))
    parsed = source.parse(payload.content, provinces, date(2021, 1, 1), date(2021, 1, 3))
    assert parsed.errors == {}
    assert len(parsed.frame) == 17 * 3
    seoul = parsed.frame[parsed.frame["region"] == "seoul"]
    assert list(seoul["region_name"]) == ["서울"] * 3
    assert seoul["confirmed"].is_monotonic_increasing


def test_jhu_sums_a_countrys_provinces_and_serves_every_country_from_one_payload():
    source = get_source("jhu")
    countries = [get_region("cn"), get_region("kr"), get_region("fr")]
    payload = source.fetch(countries, date(2021, 1, 1), date(2021, 1, 2))
    parsed = source.parse(payload.content, countries, date(2021, 1, 1), date(2021, 1, 2))
    assert parsed.errors == {}
    china = parsed.frame[parsed.frame["region"] == "cn"]
    assert len(china) == 2 and china["confirmed"].min() > 90_000  # Hubei alone had 68,000 by then
    assert set(parsed.frame["region"]) == {"cn", "kr", "fr"}


def test_the_bundled_open_meteo_cities_serve_korean_and_world_regions():
    source = get_source("sample_open_meteo")
    regions = [SEOUL, get_region("chungnam"), get_region("jp")]
    payload = source.fetch(regions, date(2021, 1, 1), date(2021, 1, 3))
    parsed = source.parse(payload.content, regions, date(2021, 1, 1), date(2021, 1, 3))
    assert parsed.errors == {}
    assert len(parsed.frame) == 9
    assert parsed.frame["wind_speed_10m_mean"].isna().all()  # the bundle has no wind
    assert parsed.frame["temperature_2m_mean"].notna().all()


def test_a_region_the_payload_does_not_answer_for_fails_alone_by_name():
    source = get_source("sample_weather")  # Seoul's station only
    busan = get_region("busan")
    payload = source.fetch([SEOUL, busan], date(2021, 1, 1), date(2021, 1, 2))
    parsed = source.parse(payload.content, [SEOUL, busan], date(2021, 1, 1), date(2021, 1, 2))
    assert set(parsed.frame["region"]) == {"seoul"}
    assert parsed.errors == {
        "busan": "sample_weather: region busan, date 2021-01-01..2021-01-02: coverage: expected rows for this region; observed none in the answer"
    }


def test_the_region_sets():
    assert len(get_set("korea").regions) == 17
    assert len(get_set("world").regions) >= 150
    with pytest.raises(KeyError, match="unknown region set 'mars'"):
        select("mars")
    with pytest.raises(KeyError, match=r"regions \['jp'\] are not in the region set 'korea'"):
        select("korea", ["seoul", "jp"])
    with pytest.raises(ValueError, match=r"regions \['seoul'\] are listed more than once"):
        select("korea", ["seoul", "seoul"])


def test_bundled_period_is_the_weather_files_span():
    assert bundled_period() == (date(2020, 10, 5), date(2021, 10, 5))


def test_a_missing_field_is_a_schema_change_naming_source_region_and_date():
    payload = b"date,avgTa\n2021-01-01,1.5\n"
    parsed = parse("sample_weather", payload, [SEOUL], date(2021, 1, 1), date(2021, 1, 1))
    assert parsed.frame.empty
    assert parsed.errors["seoul"].startswith(
        "sample_weather: region seoul, date 2021-01-01: schema change: expected fields ['minTa'"
    )


def test_a_value_that_is_not_a_number_names_the_field_and_fails_that_region_only():
    payload = "date,region,confirmed,death,released\n20210101,서울,lots,1,2\n20210101,부산,7,1,2\n".encode()
    busan = get_region("busan")
    parsed = parse("sample_cases", payload, [SEOUL, busan], date(2021, 1, 1), date(2021, 1, 1))
    assert parsed.errors == {
        "seoul": "sample_cases: region seoul, date 2021-01-01: field 'confirmed': expected a number; observed 'lots'"
    }
    assert list(parsed.frame["region"]) == ["busan"]


def test_blank_values_are_missing_not_zero():
    payload = "date,region,confirmed,death,released\n20210101,서울,10,,2\n".encode()
    frame = parse("sample_cases", payload, [SEOUL], date(2021, 1, 1), date(2021, 1, 1)).frame
    assert frame["death"].isna().all()
    assert frame.loc[0, "confirmed"] == 10


def test_who_dates_are_days_or_midnight_utc_timestamps_and_nothing_else():
    from cother.ingest.sources.who import reported_day

    assert reported_day("2020-01-19") == reported_day("2020-01-19T00:00:00Z") == date(2020, 1, 19)
    assert reported_day("2020-01-19T00:00:00+00:00") == date(2020, 1, 19)
    for other in ("2020-01-19T09:00:00Z", "2020-01-19T00:00:00+09:00", "19/01/2020", "2020-01-19T"):
        assert reported_day(other) is None, other


def test_a_base_url_of_open_meteo_is_its_archive_endpoint_and_a_full_endpoint_stays():
    from cother.ingest.sources.open_meteo import archive_endpoint

    assert archive_endpoint("https://archive-api.open-meteo.com") == "https://archive-api.open-meteo.com/v1/archive"
    assert archive_endpoint("https://archive-api.open-meteo.com/") == "https://archive-api.open-meteo.com/v1/archive"
    assert archive_endpoint("http://mirror.example/v1/archive") == "http://mirror.example/v1/archive"
