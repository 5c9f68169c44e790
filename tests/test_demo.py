"""`cother demo`, the core of the README's first command, end to end on the test database: the 17
provinces over a year, run twice with the same row counts."""

import os
import re
import subprocess
import sys

import pytest
from conftest import empty_warehouse

pytestmark = pytest.mark.system


def demo() -> str:
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "cother"), "demo"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def rows_per_table(output: str) -> str:
    return re.search(r"Rows per table\n((?:  .*\n)+)", output)[1]


def test_the_demo_runs_the_three_dags_for_the_17_provinces_twice_with_the_same_rows(airflow_db):
    empty_warehouse()  # as on a fresh install
    first = demo()
    for heading in ("Per region: rows published", "Rows per table", "Validation (Great Expectations)", "dbt build"):
        assert heading in first
    assert "raw_coronaboard_cases            17 regions passed, failed: none" in first
    assert "fct_training_features            17 regions passed" in first
    table = re.search(r"Per region: .*\n  region .*\n((?:  \w+ .*\n)+)", first)[1]
    assert len(table.splitlines()) == 17 and "seoul" in table and "jeju" in table
    assert re.search(r"raw.coronaboard_cases\s+6222\n", rows_per_table(first))  # 17 provinces x 366 days
    assert 'Load it with: mlflow.pyfunc.load_model("models:/cother_cases_forecaster@champion")' in first
    second = demo()
    assert rows_per_table(second) == rows_per_table(first)
    assert "unchanged unchanged" in second
