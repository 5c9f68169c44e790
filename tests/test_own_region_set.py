"""A new user's own region set, from docs/sources.md alone (issue 32 §8), and a set removed after it
published, retired (§4): three Canadian provinces in a regions directory of the test's own."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, land, load, row_count

from cother import cli
from cother.ingest import stages
from cother.ingest.sources.sample import JHU_FILES
from cother.transform import dbt
from cother_core import clock
from cother_core.database import connect
from cother_core.warehouse import retire_set

pytestmark = pytest.mark.integration

START, END = date(2021, 1, 1), date(2021, 1, 3)
PARAMS = {
    "region_set": "canada",
    "weather_source": "sample_open_meteo",
    "cases_source": "jhu",
    "start_date": str(START),
    "end_date": str(END),
}
PROVINCES = {"ontario": "Ontario", "british_columbia": "British Columbia", "quebec": "Quebec"}
POINTS = {"ontario": (43.65, -79.38), "british_columbia": (49.28, -123.12), "quebec": (45.50, -73.57)}


def write_canada(directory: Path, jhu_name) -> None:
    lines = [
        f"  - {{id: {region}, name: {name}, latitude: {POINTS[region][0]}, longitude: {POINTS[region][1]},"
        f" case_names: {{jhu: {jhu_name(name)}}}}}"
        for region, name in PROVINCES.items()
    ]
    (directory / "canada.yml").write_text("name: canada\ndescription: Three provinces\nregions:\n" + "\n".join(lines))


def bundled_confirmed(province: str) -> list[int]:
    """The province's own row of the bundled JHU confirmed file, START..END."""
    with (ROOT / "data" / "sample" / JHU_FILES["confirmed"]).open() as file:
        [row] = [
            row
            for row in csv.DictReader(file)
            if (row["Country/Region"], row["Province/State"]) == ("Canada", province)
        ]
    return [int(row[f"{day.month}/{day.day}/{day:%y}"]) for day in pd.date_range(START, END)]


@pytest.fixture
def regions_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COTHER_REGIONS_DIR", str(tmp_path))
    return tmp_path


def test_three_canadian_provinces_load_with_their_own_counts_from_the_bundled_jhu_file(warehouse, regions_dir):
    now = datetime.now(clock.SOURCE_TIMEZONE)
    write_canada(regions_dir, lambda name: "Canada")  # one country's name for three regions: refused, named
    with pytest.raises(
        stages.PlanError,
        match=r"jhu: regions ontario and british_columbia: Johns Hopkins name .*: expected one region per name"
        r" \(a count is one region's\); observed 'Canada' for both",
    ):
        stages.plan(PARAMS, now)

    write_canada(regions_dir, lambda name: name)  # the province alone: no JHU row is named so
    request = stages.plan(PARAMS, now)
    first = stages.land(request, "cases")
    verdict = stages.validate(first)
    assert sorted(verdict["failed"]) == sorted(PROVINCES)
    assert verdict["failed"]["ontario"].startswith(
        "jhu: region ontario, date 2021-01-01..2021-01-03: case_names.jhu: expected a Country/Region of the JHU"
        " files (its rows summed) or a Country/Region/Province/State ('Canada/Ontario': that row); observed"
        " 'Ontario', which no row has"
    )

    write_canada(regions_dir, lambda name: f"Canada/{name}")  # as docs/sources.md says
    request = stages.plan(PARAMS, now)
    assert request["cases_regions"] == list(PROVINCES)
    again = stages.land(request, "cases")  # a plain run: the names asked changed, so it lands anew
    assert again["batch_id"] != first["batch_id"]
    assert again["asked"] == {region: f"Canada/{name}" for region, name in PROVINCES.items()}
    stages.publish(stages.raise_failures(stages.validate(again)))
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select region, confirmed from raw.jhu_covid_cases order by region, date")
        published = pd.DataFrame(cur.fetchall(), columns=["region", "confirmed"])
    for region, province in PROVINCES.items():
        assert published[published["region"] == region]["confirmed"].tolist() == bundled_confirmed(province)
    assert bundled_confirmed("British Columbia")[0] < 100_000  # Canada's national total was over 580,000


def test_a_removed_set_keeps_the_transform_passing_until_retired_from_every_table_but_the_registry(
    warehouse, regions_dir, monkeypatch, capsys
):
    write_canada(regions_dir, lambda name: name)  # refused by the gate: quarantined
    stages.validate(land("jhu", list(PROVINCES), START, END))
    write_canada(regions_dir, lambda name: f"Canada/{name}")
    load("jhu", list(PROVINCES), START, END)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ml.forecasts (model_name, model_version, region, origin_date, target_date, horizon_days,"
            " forecast_new_cases) values ('m_canada', '1', 'quebec', '2021-01-03', '2021-01-04', 1, 5)"
        )
    assert dbt.build()["success"]
    with pytest.raises(ValueError, match=r"retire: set canada still has its file .*canada.yml: expected no file"):
        retire_set("canada", lambda regions, rows: True)

    (regions_dir / "canada.yml").unlink()
    built = dbt.build()  # the published rows keep their regions in raw.regions: the relationships tests pass
    assert built["success"], [node for node in built["nodes"] if node["status"] != "success"]
    assert "raw.regions: set canada (3 regions) kept as it was: it has no file" in capsys.readouterr().out
    assert row_count("marts.fct_region_daily") == 9

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(SystemExit, match="retire canada: not confirmed; nothing deleted"):
        cli.main(["regions", "retire", "canada"])
    assert row_count("raw.jhu_covid_cases") == 9

    cli.main(["regions", "retire", "canada", "--yes"])
    tables = ["raw.jhu_covid_cases", "raw.batch_log", "raw.regions", "quarantine.batches", "marts.fct_region_daily"]
    assert [row_count(table) for table in [*tables, "ml.forecasts"]] == [0] * (len(tables) + 1)
    out = capsys.readouterr().out
    for counted in ("ml.forecasts 1", "quarantine.batches 3", "raw.batch_log 3", "raw.jhu_covid_cases 9"):
        assert counted in out  # asked about, with the rows it would delete per table
    assert dbt.build()["success"]
    again = retire_set("canada", lambda regions, rows: True)  # idempotent: nothing left
    assert set(again.values()) == {0} and {*tables, "raw.replaced_rows", "ml.forecasts"} <= set(again)


def test_predict_for_a_region_without_rows_says_so(regions_dir, monkeypatch):
    from cother_ml import predict

    write_canada(regions_dir, lambda name: f"Canada/{name}")
    empty = pd.DataFrame({"region": pd.Series(dtype=str), "date_day": pd.Series(dtype="datetime64[ns]")})
    monkeypatch.setattr(predict, "load_mart", lambda regions, mart: empty)
    with pytest.raises(ValueError, match=r"^predict: no data for ontario in marts.fct_training_features$"):
        predict.predict("ontario", date(2021, 1, 4))
