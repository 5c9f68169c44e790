"""The quality gate's cost: validation time per batch beside the load time of the same batch, and the
DAG-parse time with and without the gate's module (and so Great Expectations) imported.

Runs on an embedded PostgreSQL of its own (.runtime/bench, port 55434).
Run: .venv/bin/python bench/quality.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import date

from bench_runtime import ROOT, load  # sets the runtime before anything imports cother

from cother.ingest import stages  # noqa: E402
from cother.local import postgres
from cother.orchestration.airflow_env import airflow_environment  # noqa: E402
from cother_core import warehouse
from cother_core.database import connect  # noqa: E402

KIND = {"sample_weather": "weather", "sample_cases": "cases"}
BATCHES = [
    ("1 day", date(2021, 3, 1), date(2021, 3, 1)),
    ("31 days", date(2021, 3, 1), date(2021, 3, 31)),
    ("366 days", date(2020, 10, 5), date(2021, 10, 5)),
]
PARSE = """
import importlib.util, json, sys, time
import airflow.sdk
started = time.perf_counter()
if sys.argv[1] == "with-gate":
    import cother_core.gate, great_expectations  # what a DAG importing the gate at module level would pay
for path in sys.argv[2:]:
    spec = importlib.util.spec_from_file_location(path.rsplit("/", 1)[1][:-3], path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps({"seconds": time.perf_counter() - started, "gx_loaded": "great_expectations" in sys.modules}))
"""


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def validation_against_load() -> None:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine cascade")
    warehouse.apply_schema()
    load("sample_weather", ["seoul"], date(2021, 1, 1), date(2021, 1, 2))  # GX import and context
    print(f"{'batch':<22} {'validate s':>10} {'publish s':>10} {'ratio':>7}")
    for source in ("sample_weather", "sample_cases"):
        for label, start, end in BATCHES:
            request = {f"{KIND[source]}_source": source, f"{KIND[source]}_regions": ["seoul"], "force_fetch": False}
            batch = stages.land({**request, "start": str(start), "end": str(end)}, KIND[source])
            validate_s, validated = timed(lambda batch=batch: stages.validate(batch))
            publish_s, _ = timed(lambda validated=validated: stages.publish(validated))
            print(
                f"{source.split('_')[1] + ' ' + label:<22} {validate_s:>10.3f} {publish_s:>10.3f} {validate_s / publish_s:>6.1f}x"
            )


def parse_with_and_without_gate() -> None:
    env = airflow_environment()
    dags = [str(path) for path in sorted((ROOT / "dags").glob("*.py"))]
    results = {}
    for variant in ("without-gate", "with-gate"):
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", PARSE, variant, *dags], env=env, capture_output=True, text=True, check=True
                ).stdout.splitlines()[-1]
            )
            for _ in range(3)
        ]
        results[variant] = statistics.median(run["seconds"] for run in runs), runs[0]["gx_loaded"]
    (without, gx_without), (with_gate, _) = results["without-gate"], results["with-gate"]
    print(f"parse of the 3 DAG files: {without:.3f} s as they are (GX imported: {gx_without}),")
    print(f"  {with_gate:.3f} s if the gate were imported at parse time: {with_gate / without:.0f}x slower")


if __name__ == "__main__":
    postgres.start()
    try:
        validation_against_load()
    finally:
        postgres.stop()
    parse_with_and_without_gate()
