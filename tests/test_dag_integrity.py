"""Every DAG file imports without errors, quickly, without heavy libraries, and documents itself."""

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
HEAVY = ["pandas", "great_expectations", "mlflow", "lightgbm", "dbt", "sklearn"]

PROBE = """
import importlib.util, json, sys, time
import airflow.sdk  # Airflow itself is loaded before any DAG file, as in the DAG processor
timings = {}  # CPU seconds: what a file costs the DAG processor (wall time on a busy machine measures the machine)
for path in sys.argv[1:]:
    started = time.process_time()
    spec = importlib.util.spec_from_file_location(path.rsplit("/", 1)[1][:-3], path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    timings[path] = time.process_time() - started
print(json.dumps({"timings": timings, "modules": sorted(name.split(".")[0] for name in sys.modules)}))
"""


@pytest.fixture(scope="module")
def import_probe():
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, DAG_FILES)], capture_output=True, text=True, env=os.environ, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_files_exist():
    assert {path.stem for path in DAG_FILES} == {
        "cother_ingest",
        "cother_ingest_weekly",
        "cother_transform",
        "cother_retrain",
    }


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.stem)
def test_dag_file_imports_in_under_half_a_second_of_cpu(import_probe, path):
    assert import_probe["timings"][str(path)] < 0.5


def test_dag_files_import_no_heavy_library(import_probe):
    assert not set(HEAVY) & set(import_probe["modules"])


def test_dagbag_has_no_import_errors_and_every_dag_is_documented():
    from airflow.dag_processing.dagbag import DagBag

    from cother_core.settings import get_settings

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"cother_ingest", "cother_ingest_weekly", "cother_transform", "cother_retrain"}
    for dag in bag.dags.values():
        assert dag.doc_md and dag.tags and "cother" in dag.tags
        assert dag.dagrun_timeout == timedelta(hours=get_settings().dagrun_timeout_hours)  # a stale run ends
        for task in dag.tasks:
            assert task.owner == "cother"
            assert task.retries >= 1
            assert task.execution_timeout == timedelta(hours=get_settings().task_timeout_hours)  # a stuck task ends


def test_the_source_names_a_run_may_pick_are_the_registered_sources_of_each_kind():
    """The names a run may pick (cother_core.settings.SOURCE_NAMES, which the ingest DAGs' params and the
    settings' documentation read) are the registered sources (SOURCES) of each kind: a source registered
    and not named could not be picked, one named and not registered would be picked and fail."""
    from airflow.dag_processing.dagbag import DagBag

    from cother.ingest import KINDS
    from cother.ingest.sources import SOURCES
    from cother_core.settings import SOURCE_NAMES, Settings

    assert list(SOURCE_NAMES) == list(KINDS)
    documented = {f.name: f.metadata["variable"].doc for f in fields(Settings)}
    for kind, names in SOURCE_NAMES.items():
        assert sorted(names) == sorted(name for name, source in SOURCES.items() if source.kind == kind), kind
        assert re.findall(r"[a-z_]+", documented[f"{kind}_source"]) == [*names[:-1], "or", names[-1]]
    for dag_id in ("cother_ingest", "cother_ingest_weekly"):
        dag = DagBag(dag_folder=str(DAGS_DIR / f"{dag_id}.py")).dags[dag_id]
        for kind, names in SOURCE_NAMES.items():
            assert dag.params.get_param(f"{kind}_source").schema["enum"] == list(names), (dag_id, kind)


def test_the_weekly_ingest_dag_is_the_ingest_dag_with_the_weekly_sets_defaults():
    """Both are built by cother/orchestration/ingest_dag.py: the same tasks, their own schedule and defaults."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    daily, weekly = bag.dags["cother_ingest"], bag.dags["cother_ingest_weekly"]
    assert [task.task_id for task in weekly.tasks] == [task.task_id for task in daily.tasks]
    assert (weekly.params["region_set"], weekly.params["cases_source"], weekly.params["regions"]) == (
        "world_weekly",
        "who_weekly",
        [],
    )
    assert weekly.timetable.summary != daily.timetable.summary  # each its own daily hour
