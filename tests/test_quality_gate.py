from datetime import date

import pytest
from conftest import check, land, row_count

from cother.core.database import connect
from cother.ingest import stages
from cother.ingest.sources import Payload
from cother.ingest.sources.sample import SampleCases, SampleWeather
from cother.ingest.stages import RegionsFailed

pytestmark = pytest.mark.integration


class TamperedWeather(SampleWeather):
    """The bundled weather with one edit applied to the payload, as a broken upstream would send it."""

    name = "tampered_weather"

    def __init__(self, edit) -> None:
        self.edit = edit

    def fetch(self, regions, start, end) -> Payload:
        payload = super().fetch(regions, start, end)
        return Payload(self.edit(payload.content.decode()).encode(), payload.extension, payload.params)


def validate_with(monkeypatch, source, start, end, regions="seoul"):
    from cother.ingest import sources

    monkeypatch.setitem(sources.SOURCES, source.name, source)
    batch = land(source.name, regions, start, end)
    return batch, lambda: check(batch)


def quarantined(source_name: str) -> list[tuple]:
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select batch_id, region, suite, failures from quarantine.batches where source = %s order by region",
            (source_name,),
        )
        return cur.fetchall()


def test_a_clean_batch_passes_and_reports_its_validation(warehouse):
    validated = check(land("sample_weather", "seoul", date(2021, 1, 1), date(2021, 1, 31)))
    assert validated["suite"] == "raw_kma_asos_daily"
    assert validated["passed"] == ["seoul"] and validated["failed"] == {}
    assert len(validated["validation_id"]) == 32


def test_an_impossible_temperature_is_quarantined_with_a_message_naming_everything(warehouse, monkeypatch):
    source = TamperedWeather(lambda text: text.replace("2021-01-08,-14.9", "2021-01-08,99.0"))
    batch, validate = validate_with(monkeypatch, source, date(2021, 1, 1), date(2021, 1, 31))
    with pytest.raises(RegionsFailed) as failure:
        validate()
    message = str(failure.value)
    assert "tampered_weather" in message and "region seoul" in message and "2021-01-01..2021-01-31" in message
    assert (
        "expect_column_values_to_be_between column avgta: expected between -40 and 45;"
        " observed 1 unexpected of 31 rows, e.g. 2021-01-08: avgta 99.0" in message
    )
    [(batch_id, region, suite, failures)] = quarantined("tampered_weather")
    assert (batch_id, region, suite) == (batch["batch_id"], "seoul", "raw_kma_asos_daily")
    assert failures[0]["column"] == "avgta"
    assert row_count("raw.kma_asos_daily") == 0


def test_a_missing_day_fails_the_days_of_its_region_with_expected_beside_observed(warehouse, monkeypatch):
    source = TamperedWeather(
        lambda text: "\n".join(line for line in text.split("\n") if not line.startswith("2021-01-15"))
    )
    _, validate = validate_with(monkeypatch, source, date(2021, 1, 1), date(2021, 1, 31))
    with pytest.raises(
        RegionsFailed,
        match=r"expect_column_pair_values_to_be_equal column check_days_of_region: expected check_days_of_region = "
        r"check_days_expected; observed 30 unexpected of 30 rows, e.g. 2021-01-01: check_days_of_region 30, "
        r"check_days_expected 31",
    ):
        validate()


def test_one_regions_bad_rows_in_a_multi_region_payload_quarantine_that_region_only(warehouse, monkeypatch):
    class OneBadProvince(SampleCases):
        name = "one_bad_province"

        def fetch(self, regions, start, end):
            payload = super().fetch(regions, start, end)
            text = payload.content.decode().replace("20210203,부산,", "20210203,부산,-").encode()
            return Payload(text, payload.extension, payload.params)

    provinces = ["seoul", "busan", "daegu"]
    batch, _ = validate_with(monkeypatch, OneBadProvince(), date(2021, 2, 1), date(2021, 2, 10), provinces)
    verdict = stages.validate(batch)
    assert verdict["passed"] == ["seoul", "daegu"]
    assert list(verdict["failed"]) == ["busan"]
    assert "source one_bad_province, region busan, dates 2021-02-01..2021-02-10" in verdict["failed"]["busan"]
    assert "expect_column_values_to_be_between column confirmed: expected at least 0" in verdict["failed"]["busan"]
    published = stages.publish(verdict)
    assert published["rows"] == {"seoul": 10, "daegu": 10} and published["failed"] == ["busan"]
    assert [row[1] for row in quarantined("one_bad_province")] == ["busan"]
    assert row_count("raw.coronaboard_cases where region = 'busan'") == 0
    assert row_count("raw.batch_log") == 2


def test_the_real_downward_revision_in_the_bundled_cases_is_caught(warehouse):
    """Coronaboard's Seoul cumulative count falls on 2023-09-01: not a valid daily count."""
    batch = land("sample_cases", "seoul", date(2023, 8, 25), date(2023, 9, 4))
    with pytest.raises(RegionsFailed, match="expect_column_values_to_be_in_set column check_confirmed_increasing"):
        check(batch)
    assert [row[0] for row in quarantined("sample_cases")] == [batch["batch_id"]]
    assert row_count("raw.coronaboard_cases") == 0


def test_a_duplicated_day_fails_uniqueness(warehouse, monkeypatch):
    class DuplicatedCases(SampleCases):
        name = "duplicated_cases"

        def fetch(self, regions, start, end):
            payload = super().fetch(regions, start, end)
            lines = payload.content.decode().splitlines(keepends=True)
            return Payload("".join(lines + lines[-1:]).encode(), payload.extension, payload.params)

    _, validate = validate_with(monkeypatch, DuplicatedCases(), date(2021, 2, 1), date(2021, 2, 10))
    with pytest.raises(RegionsFailed, match="expect_compound_columns_to_be_unique column region,date"):
        validate()


def test_a_rule_of_the_whole_table_shows_its_expected_value_beside_the_observed_one(warehouse, monkeypatch, tmp_path):
    """A gate failure showed `expect_table_row_count_to_equal: observed 139`, without the 140 expected."""
    import json

    import pandas as pd

    from cother.quality import gate

    (tmp_path / "row_count.json").write_text(
        json.dumps(
            {
                "name": "row_count",
                "expectations": [{"type": "expect_table_row_count_to_equal", "kwargs": {"value": 140}}],
            }
        )
    )
    monkeypatch.setattr(gate, "EXPECTATIONS_DIR", tmp_path)
    frame = pd.DataFrame({"region": ["seoul"] * 139, "date": pd.date_range("2021-01-01", periods=139).date})
    report = gate.validate(frame, "row_count", {"seoul": "source test, region seoul"})["seoul"]
    assert not report.passed
    assert "expect_table_row_count_to_equal: expected 140; observed 139" in report.describe()
