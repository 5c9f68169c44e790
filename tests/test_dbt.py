"""The dbt project on the test warehouse: an incremental run gives the rows of a full refresh."""

from datetime import date

from conftest import table_contents

from cother import ingest, transform


def publish(start: date, end: date) -> None:
    for source in ("sample_weather", "sample_cases"):
        ingest.publish(ingest.validate(ingest.land(source, "seoul", start, end)))


def test_an_incremental_run_and_a_full_refresh_give_the_same_rows(warehouse):
    publish(date(2021, 1, 1), date(2021, 3, 31))
    transform.build()
    publish(date(2021, 4, 1), date(2021, 4, 30))
    results, _ = transform.run_dbt("build")
    assert [r.message for r in results if r.name == "fct_region_daily"][0].startswith(
        ("INSERT", "MERGE")
    )  # incremental
    incremental = table_contents("marts.fct_region_daily")
    transform.run_dbt("build", "--select", "fct_region_daily", "--full-refresh")
    assert table_contents("marts.fct_region_daily") == incremental
    assert len(incremental) == 120


def test_dim_region_is_the_configured_regions(warehouse):
    from cother.regions import all_regions

    transform.build()
    assert [row[0] for row in table_contents("marts.dim_region")] == sorted(all_regions())
