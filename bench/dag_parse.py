"""DAG-file parse time: each DAG file's import after Airflow is loaded, beside the 0.5 s target.

Run: .venv/bin/python bench/dag_parse.py   (each file is timed in a fresh interpreter, 5 times)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cother.orchestration.airflow_env import airflow_environment  # noqa: E402

DAGS = sorted((Path(__file__).resolve().parent.parent / "dags").glob("*.py"))
TARGET_S = 0.5
PROBE = """
import importlib.util, json, sys, time
import airflow.sdk
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(time.perf_counter() - started))
"""


def parse_seconds(path: Path, runs: int = 5) -> list[float]:
    """The DAG file's import time, once per fresh interpreter."""
    env = airflow_environment()
    command = [sys.executable, "-c", PROBE, str(path)]
    return [
        json.loads(subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout.splitlines()[-1])
        for _ in range(runs)
    ]


def main() -> None:
    print(f"{'DAG file':<24} {'median s':>9} {'max s':>7} {'target ratio':>13}")
    for path in DAGS:
        runs = parse_seconds(path)
        median = statistics.median(runs)
        print(f"{path.name:<24} {median:>9.3f} {max(runs):>7.3f} {median / TARGET_S:>12.2f}x")


if __name__ == "__main__":
    main()
