from datetime import date

import pytest
from conftest import check, land, row_count

from cother.ingest import quarantine, sources, stages
from cother.ingest.sources import Payload
from cother.ingest.sources.sample import SampleCases, SampleWeather
from cother.ingest.stages import RegionsFailed
from cother_core.database import connect
from cother_ml.grain import DAILY

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
            lines = payload.content.decode().splitlines(keepends=True)
            text = "".join(line for line in lines if not line.startswith("20210203,부산,"))  # a missing day
            return Payload(text.encode(), payload.extension, payload.params)

    provinces = ["seoul", "busan", "daegu"]
    batch, _ = validate_with(monkeypatch, OneBadProvince(), date(2021, 2, 1), date(2021, 2, 10), provinces)
    verdict = stages.validate(batch)
    assert verdict["passed"] == ["seoul", "daegu"]
    assert list(verdict["failed"]) == ["busan"]
    assert "source one_bad_province, region busan, dates 2021-02-01..2021-02-10" in verdict["failed"]["busan"]
    assert "check_days_of_region: expected check_days_of_region = check_days_expected" in verdict["failed"]["busan"]
    published = stages.publish(verdict)
    assert published["rows"] == {"seoul": 10, "daegu": 10} and published["failed"] == ["busan"]
    assert [row[1] for row in quarantined("one_bad_province")] == ["busan"]
    assert row_count("raw.coronaboard_cases where region = 'busan'") == 0
    assert row_count("raw.batch_log") == 2


class EditedCases(SampleCases):
    """The bundled cases with `edit(day, confirmed) -> confirmed` applied to every row of the payload, as
    a source that corrects or breaks its counts would send them."""

    name = "edited_cases"

    def __init__(self, edit) -> None:
        self.edit = edit

    def fetch(self, regions, start, end) -> Payload:
        payload = super().fetch(regions, start, end)
        header, *rows = payload.content.decode().splitlines()
        edited = [header]
        for row in rows:
            day, region, confirmed, *rest = row.split(",")
            edited.append(",".join([day, region, str(self.edit(day, int(confirmed))), *rest]))
        return Payload(("\n".join(edited) + "\n").encode(), payload.extension, payload.params)


def test_a_day_that_cannot_be_true_is_held_back_alone_and_the_rest_of_the_region_publishes(warehouse, monkeypatch):
    """A negative cumulative count on one day: that day waits in quarantine with its rule; the other nine
    days of the province publish."""
    source = EditedCases(lambda day, confirmed: -confirmed if day == "20210203" else confirmed)
    batch, _ = validate_with(monkeypatch, source, date(2021, 2, 1), date(2021, 2, 10), ["busan"])
    verdict = stages.validate(batch)
    assert verdict["passed"] == ["busan"] and verdict["failed"] == {}
    assert verdict["held"] == {"busan": {"days": ["2021-02-03"], "cells": {}}}
    assert stages.publish(verdict)["rows"] == {"busan": 9}
    assert row_count("raw.coronaboard_cases where region = 'busan' and date = '2021-02-03'") == 0
    [(batch_id, region, _, failures)] = quarantined("edited_cases")
    assert (batch_id, region) == (batch["batch_id"], "busan")
    rules = {(failure["expectation"], failure["column"], failure["grain"]) for failure in failures}
    assert ("expect_column_values_to_be_between", "confirmed", "day") in rules
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select records from quarantine.batches where batch_id = %s", (batch_id,))
        [[held]] = cur.fetchall()
    assert [(row["date"][:10], row["confirmed"]) for row in held] == [("2021-02-03", -2802)]
    [listed] = quarantine.list_batches()
    assert (listed["batch_id"], listed["rows"], listed["resolved_by"]) == (batch_id, 1, None)  # the day still waits


def test_seouls_real_zero_deaths_of_2023_hold_back_those_cells_only(warehouse):
    """The bundled Coronaboard file reads 0 cumulative deaths for Seoul on three days of April 2023 (6,377
    on the 1st): the model does not read deaths, so those cells wait in quarantine and every day's cases
    publish."""
    batch = land("sample_cases", "seoul", date(2023, 4, 1), date(2023, 4, 30))
    verdict = check(batch)
    assert verdict["held"] == {"seoul": {"days": [], "cells": {"death": ["2023-04-09", "2023-04-16", "2023-04-30"]}}}
    assert stages.publish(verdict)["rows"] == {"seoul": 30}
    assert row_count("raw.coronaboard_cases where region = 'seoul' and death is null") == 3
    assert row_count("raw.coronaboard_cases where region = 'seoul' and confirmed is not null") == 30


def test_the_real_downward_revision_in_the_bundled_cases_is_published_as_a_correction(warehouse, capsys):
    """Coronaboard's Seoul cumulative count falls on 2023-09-01, from 6,751,223 (2023-08-31, published) to
    6,679,535: a correction of 1.1 %. The batch publishes with a warning naming the day and both figures."""
    stages.publish(check(land("sample_cases", "seoul", date(2023, 8, 25), date(2023, 8, 31))))
    verdict = check(land("sample_cases", "seoul", date(2023, 9, 1), date(2023, 9, 4)))
    assert verdict["warnings"] == {"seoul": 1} and verdict["held"] == {}
    assert (
        "warn: expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least"
        " check_confirmed_before; observed 1 unexpected of 4 rows, e.g. 2023-09-01: confirmed 6679535,"
        " check_confirmed_before 6751223" in capsys.readouterr().out
    )
    assert stages.publish(verdict)["rows"] == {"seoul": 4}


def test_a_correction_that_stands_keeps_the_region_publishing(warehouse, monkeypatch):
    """The source lowers Seoul's cumulative count by 5,000 from 2021-03-01 on and keeps it lowered: the
    batch that brings the fall publishes with a warning, and every later batch publishes without one."""
    source = EditedCases(lambda day, confirmed: confirmed - 5000 * (day >= "20210301"))
    monkeypatch.setitem(sources.SOURCES, source.name, source)
    stages.publish(check(land(source.name, "seoul", date(2021, 2, 1), date(2021, 2, 28))))
    for start, end, warnings in [(1, 3, 1), (4, 6, 0), (7, 9, 0)]:
        verdict = check(land(source.name, "seoul", date(2021, 3, start), date(2021, 3, end)))
        assert (verdict["warnings"], verdict["held"]) == ({"seoul": warnings}, {}), (start, verdict)
        assert stages.publish(verdict)["rows"] == {"seoul": 3}
    assert row_count("raw.coronaboard_cases where region = 'seoul'") == 28 + 9


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

    from cother_core import gate

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


def blank_field(field: str, days: tuple[str, ...] | None = None):
    """An edit of the bundled KMA CSV: `field` left blank on these days (every day when None)."""
    import csv
    import io

    def edit(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text)))
        column = rows[0].index(field)
        for row in rows[1:]:
            if row and (days is None or row[0] in days):
                row[column] = ""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue()

    return edit


def test_a_weather_feature_empty_for_the_whole_batch_publishes_with_a_warning_naming_it(warehouse, monkeypatch, capfd):
    """Four of nine weather features were empty for the whole training window and nothing said so."""
    _, validate = validate_with(monkeypatch, TamperedWeather(blank_field("avgWs")), date(2021, 1, 1), date(2021, 1, 31))
    verdict = stages.publish(validate())
    assert verdict["rows"] == {"seoul": 31} and verdict["failed"] == []
    output = capfd.readouterr().out
    assert (
        "warn: expect_column_values_to_be_between column check_days_with_avgws: expected at least 1;"
        " observed 31 unexpected of 31 rows, e.g. 2021-01-01: check_days_with_avgws 0" in output
    )
    assert (
        "warn: expect_column_values_to_be_between column check_share_with_avgws: expected at least 0.8;"
        " observed 31 unexpected of 31 rows, e.g. 2021-01-01: check_share_with_avgws 0.0" in output
    )
    assert "check_days_with_maxws" not in output and "check_days_with_avgta" not in output


def test_a_weather_feature_present_on_too_few_days_warns_with_its_share(warehouse, monkeypatch, capfd):
    blanked = tuple(f"2021-01-{day:02d}" for day in range(1, 11))  # 10 of 31 days: present on 68 %
    source = TamperedWeather(blank_field("sumSsHr", blanked))
    _, validate = validate_with(monkeypatch, source, date(2021, 1, 1), date(2021, 1, 31))
    assert validate()["warnings"] == {"seoul": 1}
    output = capfd.readouterr().out
    assert (
        "warn: expect_column_values_to_be_between column check_share_with_sumsshr: expected at least 0.8;"
        " observed 31 unexpected of 31 rows, e.g. 2021-01-01: check_share_with_sumsshr 0.677" in output
    )
    assert "check_days_with_sumsshr" not in output


def test_the_bundled_open_meteo_publishes_and_names_the_features_it_does_not_carry(warehouse, capfd):
    """The bundled reanalysis has no wind, pressure, sunshine or cloud: four warnings each, not a failure."""
    verdict = check(land("sample_open_meteo", ["seoul", "busan"], date(2021, 1, 1), date(2021, 1, 10)))
    assert verdict["passed"] == ["seoul", "busan"] and verdict["warnings"] == {"seoul": 8, "busan": 8}
    output = capfd.readouterr().out
    for column in ("wind_speed_10m_mean", "pressure_msl_mean", "sunshine_duration", "cloud_cover_mean"):
        assert f"column check_days_with_{column}: expected at least 1; observed 10 unexpected of 10 rows" in output
    for column in ("temperature_2m_mean", "precipitation_sum", "relative_humidity_2m_mean"):
        assert f"check_days_with_{column}" not in output


def training_mart(weather: dict[str, dict[str, float | None]], days: int = 60):
    """marts.fct_training_features rows of these regions from 2021-01-01, with a full lag history from
    the 22nd day; weather: per region, each weather column's value on every day (absent: the bundled
    Open-Meteo's five)."""
    import pandas as pd

    from cother_ml.features import CASE_FEATURES, WEATHER_FEATURES

    parts = []
    for region, values in weather.items():
        day = pd.date_range("2021-01-01", periods=days)
        frame = pd.DataFrame({"region": region, "date_day": day, "new_cases": 100.0 + day.day_of_week * 10.0})
        for lag in range(1, 22):
            frame[f"cases_lag_{lag}"] = frame["new_cases"].shift(lag)
        history = frame["cases_lag_21"].notna()
        frame["cases_mean_7d"] = frame["new_cases"].shift(1).rolling(7).mean()
        for feature in CASE_FEATURES:
            frame[feature] = 0.0
            frame.loc[~history, feature] = None
        frame["day_of_week"] = day.day_of_week + 1
        frame["is_forecast_row"] = False
        for feature in WEATHER_FEATURES:
            frame[feature] = values.get(feature.removesuffix("_lag_1"))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True).astype(dict.fromkeys(WEATHER_FEATURES, "float64"))


OPEN_METEO_SAMPLE = {
    "temperature_mean_c": 1.0,
    "temperature_min_c": -2.0,
    "temperature_max_c": 4.0,
    "precipitation_mm": 0.5,
    "relative_humidity_mean_pct": 60.0,
}


def test_a_training_slice_with_a_needed_weather_feature_empty_fails_by_name(monkeypatch):
    from cother_core.gate import QualityGateError
    from cother_ml import slice_gate

    monkeypatch.setenv("COTHER_WEATHER_REQUIRED", "temperature_mean_c,wind_speed_mean_ms")
    mart = training_mart({"seoul": {**OPEN_METEO_SAMPLE, "wind_speed_mean_ms": 2.0}, "busan": OPEN_METEO_SAMPLE})
    with pytest.raises(QualityGateError) as failure:
        slice_gate.validate(mart, ["seoul", "busan"], DAILY)
    message = str(failure.value)
    assert "quality gate failed: suite fct_training_features on marts.fct_training_features, region busan," in message
    assert "dates 2021-01-22..2021-03-01" in message
    assert (
        "error: expect_column_values_to_be_between column check_days_with_needed_wind_speed_mean_ms_lag_1:"
        " expected at least 1; observed 39 unexpected of 39 rows, e.g. 2021-01-22:"
        " check_days_with_needed_wind_speed_mean_ms_lag_1 0;" in message
    )
    assert "region seoul" not in message


def test_the_bundled_weather_trains_with_warnings_naming_the_features_it_lacks(capfd):
    """By default the needed features are the five every weather source carries: the bundled Open-Meteo
    (no wind, pressure, sunshine or cloud) passes with a warning per empty feature, and a region no
    weather source covers passes with one warning, that it has no weather."""
    from cother_ml import slice_gate

    mart = training_mart({"seoul": OPEN_METEO_SAMPLE, "daegu": {}})
    validations = slice_gate.validate(mart, ["seoul", "daegu"], DAILY)
    assert [v["region"] for v in validations] == ["daegu", "seoul"]
    output = capfd.readouterr().out
    for feature in ("wind_speed_mean_ms", "pressure_msl_hpa", "sunshine_hours", "cloud_cover_mean_pct"):
        assert f"warn: expect_column_values_to_be_between column check_days_with_{feature}_lag_1:" in output
    assert "check_days_with_temperature_mean_c_lag_1" not in output
    assert (
        "warn: expect_column_values_to_be_between column check_days_with_weather: expected at least 1;"
        " observed 39 unexpected of 39 rows" in output
    )
    assert output.count("check_days_with_weather:") == 1


def test_an_unknown_needed_weather_feature_is_refused_by_name(monkeypatch):
    from cother_ml import slice_gate

    monkeypatch.setenv("COTHER_WEATHER_REQUIRED", "temperature_mean_c,wind_speed")
    with pytest.raises(ValueError, match=r"COTHER_WEATHER_REQUIRED: unknown weather features \['wind_speed'\]"):
        slice_gate.validate(training_mart({"seoul": OPEN_METEO_SAMPLE}), ["seoul"], DAILY)


@pytest.mark.parametrize(
    ("mapping", "model"),
    [
        ("open_meteo:WEATHER_COLUMNS", "stg_open_meteo__weather_daily"),
        ("kma_format:KMA_WEATHER_COLUMNS", "stg_kma__weather_daily"),
    ],
)
def test_the_raw_columns_checked_for_weather_are_those_the_models_features_come_from(mapping, model):
    import importlib
    import re
    from pathlib import Path

    from cother_ml.features import WEATHER_FEATURES

    module, name = mapping.split(":")
    columns = getattr(importlib.import_module(f"cother.ingest.sources.{module}"), name)
    assert [f"{column}_lag_1" for column in columns] == WEATHER_FEATURES
    staged = (Path(__file__).parent.parent / "dbt_project" / "models" / "staging" / f"{model}.sql").read_text()
    for canonical, raw in columns.items():
        assert re.search(rf"\b{raw}\b[^,\n]* as {canonical},", staged), (raw, canonical)
