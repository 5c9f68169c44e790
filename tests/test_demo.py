"""`cother demo`, the core of the README's first command, end to end on the test database."""

import os
import subprocess
import sys


def test_the_demo_runs_the_three_dags_and_prints_what_they_did(airflow_db):
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "cother"), "demo"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for heading in ("Rows loaded in this run", "Rows per table", "Validation (Great Expectations)", "dbt build"):
        assert heading in done.stdout
    assert "marts.fct_training_features" in done.stdout
    assert 'Load it with: mlflow.pyfunc.load_model("models:/cother_cases_forecaster@champion")' in done.stdout
