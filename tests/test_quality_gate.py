from datetime import date

import pytest
from conftest import row_count

from cother import ingest
from cother.database import connect
from cother.quality import QualityGateError
from cother.regions import get_region
from cother.sources import Payload
from cother.sources.sample import SampleCases, SampleWeather

SEOUL = get_region("seoul")


class TamperedWeather(SampleWeather):
    """The bundled weather with one edit applied to the payload, as a broken upstream would send it."""

    name = "tampered_weather"

    def __init__(self, edit) -> None:
        self.edit = edit

    def fetch(self, region, start, end) -> Payload:
        payload = super().fetch(region, start, end)
        return Payload(self.edit(payload.content.decode()).encode(), payload.extension, payload.params)


def validate_with(monkeypatch, source, start, end):
    from cother import sources

    monkeypatch.setitem(sources.SOURCES, source.name, source)
    batch = ingest.land(source.name, "seoul", start, end)
    return batch, lambda: ingest.validate(batch)


def quarantined(source_name: str) -> list[tuple]:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select batch_id, suite, failures from quarantine.batches where source = %s", (source_name,))
        return cur.fetchall()


def test_a_clean_batch_passes_and_reports_its_validation(warehouse):
    batch = ingest.land("sample_weather", "seoul", date(2021, 1, 1), date(2021, 1, 31))
    validated = ingest.validate(batch)
    assert validated["suite"] == "raw_kma_asos_daily"
    assert len(validated["validation_id"]) == 32


def test_an_impossible_temperature_is_quarantined_with_a_message_naming_everything(warehouse, monkeypatch):
    source = TamperedWeather(lambda text: text.replace("2021-01-08,-14.9", "2021-01-08,99.0"))
    batch, validate = validate_with(monkeypatch, source, date(2021, 1, 1), date(2021, 1, 31))
    with pytest.raises(QualityGateError) as failure:
        validate()
    message = str(failure.value)
    assert "tampered_weather" in message and "region seoul" in message and "2021-01-01..2021-01-31" in message
    assert "expect_column_values_to_be_between column avgta" in message
    [(batch_id, suite, failures)] = quarantined("tampered_weather")
    assert batch_id == batch["batch_id"] and suite == "raw_kma_asos_daily"
    assert failures[0]["column"] == "avgta"
    assert row_count("raw.kma_asos_daily") == 0


def test_a_missing_day_fails_the_row_count(warehouse, monkeypatch):
    source = TamperedWeather(
        lambda text: "\n".join(line for line in text.split("\n") if not line.startswith("2021-01-15"))
    )
    _, validate = validate_with(monkeypatch, source, date(2021, 1, 1), date(2021, 1, 31))
    with pytest.raises(QualityGateError, match="expect_table_row_count_to_equal: observed 30"):
        validate()


def test_the_real_downward_revision_in_the_bundled_cases_is_caught(warehouse):
    """Coronaboard's Seoul cumulative count falls on 2023-09-01: not a valid daily count."""
    batch = ingest.land("sample_cases", "seoul", date(2023, 8, 25), date(2023, 9, 4))
    with pytest.raises(QualityGateError, match="expect_column_values_to_be_increasing column confirmed"):
        ingest.validate(batch)
    assert [row[0] for row in quarantined("sample_cases")] == [batch["batch_id"]]
    assert row_count("raw.coronaboard_cases") == 0


def test_a_range_ending_in_the_future_is_refused(warehouse):
    tomorrow = date.fromordinal(ingest.today().toordinal() + 1)
    with pytest.raises(ValueError, match=r"sample_cases: region seoul: end .* is in the future"):
        ingest.land("sample_cases", "seoul", date(2021, 1, 1), tomorrow)


def test_a_duplicated_day_fails_uniqueness(warehouse, monkeypatch):
    class DuplicatedCases(SampleCases):
        name = "duplicated_cases"

        def fetch(self, region, start, end):
            payload = super().fetch(region, start, end)
            lines = payload.content.decode().splitlines(keepends=True)
            return Payload("".join(lines + lines[-1:]).encode(), payload.extension, payload.params)

    _, validate = validate_with(monkeypatch, DuplicatedCases(), date(2021, 2, 1), date(2021, 2, 10))
    with pytest.raises(QualityGateError, match="expect_compound_columns_to_be_unique"):
        validate()
