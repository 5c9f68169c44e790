"""The dbt project on the test warehouse: incremental equals full refresh, a source restating a week,
the configured regions, each model's status."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from conftest import check, land, publish_seoul, row_count, table_contents

from cother.ingest import landing, load, stages
from cother.ingest.sources import get_source
from cother.ingest.sources.sample import JHU_FILES
from cother.transform import dbt
from cother_core.database import connect
from cother_core.regions import get_region
from cother_core.settings import get_settings

pytestmark = pytest.mark.integration

JHU_DAYS = (date(2021, 1, 1), date(2021, 3, 31))
RESTATED_WEEK = [date(2021, 2, 1) + timedelta(days=offset) for offset in range(7)]  # older than the last 7 days


def test_an_incremental_run_and_a_full_refresh_give_the_same_rows(warehouse):
    publish_seoul(date(2021, 1, 1), date(2021, 3, 31))
    dbt.build()
    publish_seoul(date(2021, 4, 1), date(2021, 4, 30))
    run = dbt.run_dbt("build")
    assert run.success, run.failures()
    assert [r.message for r in run.results if r.name == "fct_region_daily"][0].startswith(
        ("INSERT", "MERGE")
    )  # incremental
    incremental = table_contents("marts.fct_region_daily")
    dbt.run_dbt("build", "--select", "fct_region_daily", "--full-refresh").raise_for_failure()
    assert table_contents("marts.fct_region_daily") == incremental
    assert len(incremental) == 120


def restated_copy(folder) -> dict[date, tuple[int, int]]:
    """The bundled JHU files copied into `folder`, Germany's confirmed counts of RESTATED_WEEK restated
    as a later copy of the file would (each day's count reported a day late: the count of the day
    before); returns each restated day's (published, restated) count."""
    sample = get_settings().sample_dir
    (folder / JHU_FILES["deaths"]).write_text((sample / JHU_FILES["deaths"]).read_text(encoding="utf-8"))
    header, *rows = csv.reader(io.StringIO((sample / JHU_FILES["confirmed"]).read_text(encoding="utf-8")))
    column = {datetime.strptime(name, "%m/%d/%y").date(): i for i, name in enumerate(header[4:], start=4)}
    (germany,) = [row for row in rows if row[1] == "Germany"]
    published = {day: int(germany[column[day]]) for day in column}
    for day in RESTATED_WEEK:
        germany[column[day]] = str(published[day - timedelta(days=1)])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    (folder / JHU_FILES["confirmed"]).write_text(out.getvalue(), encoding="utf-8")
    return {day: (published[day], published[day - timedelta(days=1)]) for day in RESTATED_WEEK}


def query(statement: str, *params) -> list[tuple]:
    with connect() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def test_a_source_restating_a_week_publishes_the_new_counts_and_keeps_the_old(warehouse, tmp_path, monkeypatch):
    """JHU's later copy of its file with a corrected week: the new counts are current in raw and in the
    marts (the week is older than the incremental model's last 7 days), the old ones are in raw history
    and in fct_case_revisions, nothing is counted twice, and publishing the same copy again adds nothing."""
    first = stages.publish(check(land("jhu", "de", *JHU_DAYS)))
    assert dbt.build()["success"]
    restated = restated_copy(tmp_path)
    assert all(old != new for old, new in restated.values())  # Germany's count grew every day of that week
    monkeypatch.setenv("COTHER_SAMPLE_DIR", str(tmp_path))
    second = stages.publish(check(land("jhu", "de", *JHU_DAYS, force=True)))
    assert second["rows"] == {"de": 90}
    built = dbt.build()
    assert built["success"], [status for status in built["nodes"] if dbt.failed(status)]

    current = dict(query("select date, confirmed from raw.jhu_covid_cases where region = 'de'"))
    assert {day: current[day] for day in RESTATED_WEEK} == {day: new for day, (_, new) in restated.items()}
    history = query(
        "select date, (replaced_row ->> 'confirmed')::bigint, batch_id, replaced_by_batch_id from raw.replaced_rows"
        " where raw_table = 'raw.jhu_covid_cases' and region = 'de' order by date"
    )
    assert history == [(day, old, first["batch_id"], second["batch_id"]) for day, (old, _) in restated.items()]
    marts = dict(query("select date_day, confirmed_cumulative from marts.fct_region_daily where region = 'de'"))
    assert marts == current
    new_cases = dict(query("select date_day, new_cases from marts.fct_region_daily where region = 'de'"))
    assert new_cases[RESTATED_WEEK[-1] + timedelta(days=1)] == (
        current[RESTATED_WEEK[-1] + timedelta(days=1)] - current[RESTATED_WEEK[-1]]
    )  # the day after the week, from the restated count before it
    revisions = query(
        "select kind, source, date_day, count_name, value_before, value_after, batch_before, batch_after"
        " from marts.fct_case_revisions where region = 'de' order by date_day"
    )
    assert revisions == [
        ("restated", "jhu", day, "confirmed", old, new, first["batch_id"], second["batch_id"])
        for day, (old, new) in restated.items()
    ]
    counts = {table: row_count(table) for table in ("raw.jhu_covid_cases", "marts.fct_region_daily")}
    assert counts == {"raw.jhu_covid_cases": 90, "marts.fct_region_daily": 90}  # nothing counted twice
    incremental = table_contents("marts.fct_region_daily")
    dbt.run_dbt("build", "--select", "fct_region_daily", "--full-refresh").raise_for_failure()
    assert table_contents("marts.fct_region_daily") == incremental

    third = stages.publish(check(land("jhu", "de", *JHU_DAYS, force=True)))
    assert third["rows"] == {"de": 0}
    assert row_count("raw.replaced_rows") == len(restated)


def test_every_fall_of_a_sources_cumulative_count_is_a_revision(warehouse):
    """Johns Hopkins' real series of three countries, as the source sent them (falls included; what the
    gate does with a fall is not this test's subject): each day a count fell below the day before is
    in fct_case_revisions with both counts, as read from the bundled files."""
    countries = {"Germany": "de", "Italy": "it", "Spain": "es"}
    source = get_source("jhu")
    batch = landing.land(
        source, [get_region(region) for region in countries.values()], date(2020, 1, 22), source.last_day()
    )
    load.publish(batch, stages.parse(batch).frame, source.raw_table, source.kind, "validation-id")
    assert dbt.build()["success"]

    expected = []
    for count_name, file_name in JHU_FILES.items():
        header, *rows = csv.reader(io.StringIO((get_settings().sample_dir / file_name).read_text(encoding="utf-8")))
        days = [datetime.strptime(name, "%m/%d/%y").date() for name in header[4:]]
        for row in rows:
            if row[1] in countries:
                counts = [int(value) for value in row[4:]]
                expected += [
                    (countries[row[1]], days[i], count_name, days[i - 1], counts[i - 1], counts[i])
                    for i in range(1, len(counts))
                    if counts[i] < counts[i - 1]
                ]
    falls = query(
        "select region, date_day, count_name, compared_day, value_before, value_after from marts.fct_case_revisions"
        " where kind = 'fall' and source = 'jhu'"
    )
    assert sorted(falls) == sorted(expected)
    assert {row[0] for row in expected} == set(countries.values()) and len(expected) >= 10


def test_dim_region_is_the_configured_regions(warehouse):
    from cother_core.regions import all_regions

    dbt.build()
    assert [row[0] for row in table_contents("marts.dim_region")] == sorted(all_regions())


def test_a_failing_dbt_test_is_reported_on_its_model_and_nothing_downstream_is_built(warehouse):
    publish_seoul(date(2021, 1, 1), date(2021, 1, 31))
    with connect() as conn, conn.cursor() as cur:
        cur.execute("update raw.kma_asos_daily set avgta = 99 where date = '2021-01-15'")  # past the ingestion gate
    built = dbt.build()
    statuses = {status["node"]: status for status in built["nodes"]}
    assert not built["success"]
    with pytest.raises(dbt.TransformError, match="values_between_stg_kma__weather_daily_temperature_mean_c"):
        dbt.check_node(statuses["stg_kma__weather_daily"])
    assert statuses["fct_region_daily"]["status"] == "skipped"
    assert dbt.check_node(statuses["stg_coronaboard__cases_daily"]).startswith(
        "model stg_coronaboard__cases_daily: success"
    )
