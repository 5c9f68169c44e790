"""Airflow's LocalExecutor, with the libraries CO-THER's tasks share imported once, before it forks.

Every task runs in a process forked from a LocalExecutor worker, which is forked from the scheduler.
Imported in the scheduler before its workers are forked, Great Expectations, dbt, pandas, LightGBM and
the project's own modules are in every task process from its first instruction (copy-on-write pages,
one copy in memory) instead of being imported again by each task: Great Expectations alone took 3 to
5 s a process, so a validation that works for one second ran eight.

What only the retrain uses besides (MLflow's tracking store, matplotlib) it imports itself: a shared
page is copied when a process writes to it, so each preloaded megabyte costs more than its one copy,
and `bench/stack.py` holds the stack's peak under 2 GiB. The garbage collector is frozen over the
preloaded objects, so no collection writes to their pages.

Code under `cother/` is read when the scheduler starts: restart it (`make airflow`) after changing
that code, as one restarts a Celery worker (which preloads the same: `celery_workers`). DAG files
are parsed anew as always.
"""

from __future__ import annotations

import gc
import importlib

from airflow.executors.local_executor import LocalExecutor

TASK_LIBRARIES = (
    "great_expectations",
    "dbt.cli.main",
    "cother.ingest.stages",
    "cother_core.gate",
    "cother.transform.dbt",
    "cother_ml.retrain",
    "cother.forecast_page.app",  # FastAPI: every task process imports the plugins, plugins/cother_ui.py this
)


def preload() -> None:
    """Import TASK_LIBRARIES into this process, to be forked from (here and by the Celery workers)."""
    for name in TASK_LIBRARIES:
        importlib.import_module(name)


class PreloadingLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers start with TASK_LIBRARIES imported."""

    def start(self) -> None:
        preload()
        super().start()  # forks the workers with the collector frozen (they inherit it so), then unfreezes
        gc.freeze()  # the scheduler's collections leave the preloaded objects, and the pages it shares, alone
