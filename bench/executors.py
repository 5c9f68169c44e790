"""The same daily run of the 17 provinces on the LocalExecutor and on two Celery workers (`make celery`):
wall time from triggering cother_ingest to the end of cother_retrain, and the peak memory of PostgreSQL
plus the whole stack (Redis and the workers included on Celery), side by side, measured in one run.

Each executor starts from the same state: a fresh Airflow metadata database and the same history
published anew (bench/stack.py's, for the provinces), then the daily run for the same day, its weather
from the loopback Open-Meteo stand-in. On this 2-core machine no speed-up is expected from two workers:
what they prove is distribution and fault isolation (tests/test_celery.py), not speed.

Run: .venv/bin/python bench/executors.py   (about 10 minutes)
"""

from __future__ import annotations

from bench_runtime import open_meteo_stand_in
from stack import DAGS, DAILY, DAY, fresh_airflow_database, measured_run, publish_history

from cother.local import postgres
from cother.orchestration.airflow_runner import local_stack, migrate, unpause
from cother_core.regions import get_set
from cother_core.settings import get_settings

EXECUTORS = {"LocalExecutor": False, "CeleryExecutor, two workers": True}


def main() -> None:
    settings = get_settings()
    postgres.start()
    conf = {"start_date": str(DAY), "end_date": str(DAY), "region_set": "korea", **DAILY["korea"]}
    regions = len(get_set("korea").regions)
    results = {}
    try:
        with open_meteo_stand_in():
            for executor, celery in EXECUTORS.items():
                fresh_airflow_database()
                migrate(settings.runtime_dir / "logs" / "bench-celery.log")
                publish_history(["korea"])
                log = settings.runtime_dir / "logs" / f"bench-celery-{'celery' if celery else 'local'}-airflow.log"
                with local_stack(log, celery=celery) as env:
                    unpause(env, *DAGS)  # and wait for the scheduler's cron run for yesterday to end
                    label = f"one daily run ({DAY}) of the {regions} provinces on the {executor}"
                    results[executor] = measured_run(env, conf, label, 1800)
    finally:
        postgres.stop()
    print(f"\n{'executor':<30} {'wall (s)':>9} {'peak (GiB)':>11}  runs")
    for executor, result in results.items():
        states = {dag_id: states[-1] for dag_id, states in result["states"].items()}
        print(f"{executor:<30} {result['wall']:>9.1f} {result['peak'] / 2**30:>11.2f}  {states}")
    local, celery = results.values()
    print(
        f"Celery / Local: wall {celery['wall'] / local['wall']:.2f}x, peak memory {celery['peak'] / local['peak']:.2f}x"
        " (2 cores: no speed-up expected; the workers prove distribution and fault isolation)"
    )


if __name__ == "__main__":
    main()
