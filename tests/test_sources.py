from datetime import date

import pytest

from cother.regions import get_region
from cother.sources import SourceError, get_source
from cother.sources.sample import bundled_period

SEOUL = get_region("seoul")


def test_sample_weather_serves_the_requested_days_as_they_stand_in_the_bundled_file():
    source = get_source("sample_weather")
    payload = source.fetch(SEOUL, date(2021, 1, 1), date(2021, 1, 7))
    lines = payload.content.decode().splitlines()
    assert lines[0].startswith("date,avgTa,minTa")
    assert [line[:10] for line in lines[1:]] == [f"2021-01-0{day}" for day in range(1, 8)]
    frame = source.parse(payload.content, SEOUL, date(2021, 1, 1), date(2021, 1, 7))
    assert len(frame) == 7
    assert frame.loc[0, "avgta"] == pytest.approx(float(lines[1].split(",")[1]))
    assert set(frame["region"]) == {"seoul"}


def test_sample_cases_serve_the_region_by_its_coronaboard_name():
    source = get_source("sample_cases")
    frame = source.parse(
        source.fetch(SEOUL, date(2021, 1, 1), date(2021, 1, 3)).content, SEOUL, date(2021, 1, 1), date(2021, 1, 3)
    )
    assert list(frame["region_name"]) == ["서울"] * 3
    assert frame["confirmed"].is_monotonic_increasing


def test_bundled_period_is_the_weather_files_span():
    assert bundled_period() == (date(2020, 10, 5), date(2021, 10, 5))


def test_a_missing_field_is_a_schema_change_naming_source_region_and_date():
    source = get_source("sample_weather")
    payload = b"date,avgTa\n2021-01-01,1.5\n"
    with pytest.raises(
        SourceError, match=r"sample_weather: region seoul, date 2021-01-01: schema change: fields \[.*'minTa'"
    ):
        source.parse(payload, SEOUL, date(2021, 1, 1), date(2021, 1, 1))


def test_a_value_that_is_not_a_number_names_the_field():
    source = get_source("sample_cases")
    payload = "date,region,confirmed,death,released\n20210101,서울,lots,1,2\n".encode()
    with pytest.raises(
        SourceError, match=r"sample_cases: region seoul, date 2021-01-01: field 'confirmed' is not a number"
    ):
        source.parse(payload, SEOUL, date(2021, 1, 1), date(2021, 1, 1))


def test_blank_values_are_missing_not_zero():
    source = get_source("sample_cases")
    payload = "date,region,confirmed,death,released\n20210101,서울,10,,2\n".encode()
    frame = source.parse(payload, SEOUL, date(2021, 1, 1), date(2021, 1, 1))
    assert frame["death"].isna().all()
    assert frame.loc[0, "confirmed"] == 10
