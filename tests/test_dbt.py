"""The dbt project on the test warehouse: incremental equals full refresh, the configured regions, each model's status."""

from datetime import date

import pytest
from conftest import publish_seoul, table_contents

from cother.transform import dbt

pytestmark = pytest.mark.integration


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


def test_dim_region_is_the_configured_regions(warehouse):
    from cother.core.regions import all_regions

    dbt.build()
    assert [row[0] for row in table_contents("marts.dim_region")] == sorted(all_regions())


def test_a_failing_dbt_test_is_reported_on_its_model_and_nothing_downstream_is_built(warehouse):
    from cother.core.database import connect

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
