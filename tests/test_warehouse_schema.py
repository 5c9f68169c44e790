"""The warehouse schema (core/cother_core/sql/warehouse.sql) is applied once per process, not on every
read and write: each application takes the lock of every table it alters."""

import re
from collections import Counter

import pytest
from conftest import TEST_RUNTIME

from cother.ingest.sources.sample import bundled_period

APPLIED = re.compile(r"applied the warehouse schema to database \S+ \(process (\d+)\)")


@pytest.mark.integration
def test_a_process_applies_the_schema_once_and_again_only_when_asked(warehouse, capsys):
    from cother_core.warehouse import apply_schema, ensure_warehouse

    capsys.readouterr()
    ensure_warehouse()  # the empty warehouse applied it in this process already
    ensure_warehouse()
    assert APPLIED.findall(capsys.readouterr().out) == []
    apply_schema()
    assert len(APPLIED.findall(capsys.readouterr().out)) == 1


@pytest.mark.system
def test_a_daily_ingestion_run_applies_the_schema_at_most_once_per_process(warehouse, airflow_db):
    """One scheduled day of Seoul from the bundled sources, as `airflow dags test` runs it (its tasks in
    one process): landing, publishing both kinds, the freshness check and the announcement each read or
    write the warehouse, and the schema is applied once."""
    from cother.orchestration.airflow_runner import test_dag

    _, end = bundled_period()
    log = TEST_RUNTIME / "logs" / "schema-once-dags-test.log"
    log.unlink(missing_ok=True)
    day = {"start_date": str(end), "end_date": str(end), "regions": ["seoul"], "weather_source": "sample_weather"}
    results = test_dag("cother_ingest", day, log)
    assert [sum(published["rows"].values()) for published in results["cases.publish"]] == [1]
    applied = Counter(APPLIED.findall(log.read_text()))
    assert applied and max(applied.values()) == 1, applied
