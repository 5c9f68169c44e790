"""The whole local stack under one daily run, for the 17 provinces and for the world set: each run's
wall time from triggering cother_ingest to the end of cother_retrain, the seconds each added region
costs (the slope between the two sets), and the peak memory of PostgreSQL plus the Airflow stack
(every process, proportional set size) while each runs (target: under 2 GiB). Then one weekly run of
the weekly world set (234 countries and areas): cother_ingest_weekly, run as its schedule runs it (no
dates), takes the one new week WHO's file has (a loopback server serves the bundled copy, first
through 2026-04-12, then through 2026-04-19), through cother_retrain (target: at most 60 s). Then the
first loads of three years of the world set and of the 17 provinces, each in one triggered run: wall
time, memory, the regions published and trained on, the corrections recorded.

The history (2021-01-01..2021-09-30) is published first, without Airflow: the provinces' cases from the
bundle, the countries' from the bundled Johns Hopkins series, everyone's weather from a loopback server
that answers in Open-Meteo's documented format, many places per request; the weekly set's weeks
through 2026-04-12 from the WHO stand-in. The daily run for
2021-10-01 then fetches the same way. Only the benchmark's own runs are measured: the Airflow metadata
database is made anew (a benchmark stopped half-way leaves its runs queued), the history is marked
announced, and unpausing cother_ingest makes the scheduler start its cron run for yesterday at once:
the benchmark waits for that run to end first (airflow_runner.unpause) and counts the runs after it.

Each run prints its tasks' timeline (queued, started, ran, in seconds from the trigger).

Run: .venv/bin/python bench/stack.py   (9 minutes on 2 cores with nothing else running); `bench/stack.py
korea` measures the provinces' daily run alone (about 4 minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import psutil
from bench_runtime import ROOT, empty_warehouse, load, open_meteo_stand_in, who_weekly_stand_in

from cother.ingest.load import claim_unannounced
from cother.local import postgres
from cother.orchestration.airflow_runner import (
    dag_runs,
    last_run_results,
    local_stack,
    migrate,
    unpause,
    wait_for,
)
from cother_core.database import metadata_rows
from cother_core.regions import get_set
from cother_core.settings import get_settings

HISTORY_START, DAY = date(2021, 1, 1), date(2021, 10, 1)
DAGS = ("cother_ingest", "cother_ingest_weekly", "cother_transform", "cother_retrain")
DAILY = {
    "korea": {"weather_source": "open_meteo", "cases_source": "sample_cases"},
    "world": {"weather_source": "open_meteo", "cases_source": "jhu"},
}
WEEKLY_SET, WEEKLY_HISTORY, NEW_WEEK = "world_weekly", (date(2020, 1, 5), date(2026, 4, 12)), date(2026, 4, 19)
# the first loads, each in one triggered run: three years of the world set, then of the 17 provinces
FIRST_LOADS = {
    "world": ((date(2020, 3, 1), date(2023, 2, 28)), {"weather_source": "sample_open_meteo", "cases_source": "jhu"}),
    "korea": (
        (date(2020, 10, 1), date(2023, 8, 31)),
        {"weather_source": "sample_open_meteo", "cases_source": "sample_cases"},
    ),
}


def stack_processes() -> list[psutil.Process]:
    """This benchmark's Airflow stack (the processes it started) and PostgreSQL, with all their children."""
    pid_file = get_settings().postgres_dir / "data" / "postmaster.pid"
    roots = psutil.Process().children()
    roots.append(psutil.Process(int(pid_file.read_text().split()[0])))
    return [process for root in roots for process in [root, *root.children(recursive=True)]]


def stack_memory() -> dict[str, int]:
    """PSS per kind of process (the first words of its title)."""
    kinds: dict[str, int] = {}
    for process in stack_processes():
        try:
            title = " ".join(process.cmdline()).replace(str(ROOT / ".venv"), "")[:70]
            kinds[title] = kinds.get(title, 0) + process.memory_full_info().pss
        except psutil.Error:
            pass  # it ended between the listing and the reading
    return kinds


def fresh_airflow_database() -> None:
    """The Airflow metadata database dropped and created again: no run of an earlier benchmark (one that
    was stopped half-way leaves its runs queued) may run before or beside the ones measured here."""
    import psycopg2
    from psycopg2 import sql

    from cother_core.database import airflow_url, libpq_url, parsed

    admin = psycopg2.connect(libpq_url(parsed(airflow_url()).set(database="postgres").render_as_string(False)))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(parsed(airflow_url()).database))
        )
    admin.close()
    postgres.ensure_databases()


def publish_history(region_sets=tuple(DAILY)) -> None:
    empty_warehouse()
    for region_set in region_sets:
        sources = DAILY[region_set]
        regions = get_set(region_set).ids
        for source in sources.values():
            load(source, regions, HISTORY_START, DAY - timedelta(days=1))
    load("who_weekly", get_set(WEEKLY_SET).ids, *WEEKLY_HISTORY)
    claim_unannounced()  # the history is no news: no run announces it to the downstream DAGs


def ended(dag_id: str, after: int) -> list | None:
    runs = dag_runs(dag_id)[after:]
    return runs if runs and all(state in ("success", "failed") for _, state in runs) else None


def timeline(dag_ids: tuple[str, ...], since: datetime) -> None:
    """Each task instance of these DAGs started since then: when it was queued and started, and how long
    it ran, in seconds from then; the critical path is where the time goes."""
    rows = metadata_rows(
        "select dag_id, task_id, map_index, queued_dttm, start_date, end_date, state from task_instance"
        " where dag_id = any(%s) and start_date >= %s order by start_date",
        (list(dag_ids), since),
    )
    print("  queued  started   ran  task")
    for dag_id, task_id, map_index, queued, started, ended_at, state in rows:
        offsets = [(moment - since).total_seconds() if moment else float("nan") for moment in (queued, started)]
        ran = (ended_at - started).total_seconds() if ended_at else float("nan")
        index = f"[{map_index}]" if map_index >= 0 else ""
        print(f"  {offsets[0]:6.1f}  {offsets[1]:6.1f}  {ran:5.1f}  {dag_id}.{task_id}{index} {state}")


def measured_run(
    env: dict, conf: dict, label: str, limit_s: float, memory_target: str = "", dag_id: str = "cother_ingest"
) -> dict:
    """Trigger the ingest DAG with this conf and wait for the retrain it leads to: wall time, peak memory."""
    before = {dag_id: len(dag_runs(dag_id)) for dag_id in DAGS}
    idle = sum(stack_memory().values())
    started, triggered = time.perf_counter(), datetime.now(UTC)
    subprocess.run(["airflow", "dags", "trigger", dag_id, "-c", json.dumps(conf)], env=env, check=True)
    peak, at_peak = idle, {}

    def retrained():
        nonlocal peak, at_peak
        kinds = stack_memory()
        if sum(kinds.values()) > peak:
            peak, at_peak = sum(kinds.values()), kinds
        return ended("cother_retrain", before["cother_retrain"])

    wait_for(retrained, limit_s, f"the {label} run through cother_retrain", every_s=0.5)
    wall = time.perf_counter() - started
    # the transform's model statuses may still be running: the next measured run starts after them
    wait_for(lambda: ended("cother_transform", before["cother_transform"]), limit_s, f"the {label} transform")
    states = {dag_id: [state for _, state in dag_runs(dag_id)[before[dag_id] :]] for dag_id in DAGS}
    print(f"{label}: {wall:.1f} s from trigger to the end of cother_retrain; runs {states}")
    print(f"  stack memory: idle {idle / 2**30:.2f} GiB, peak {peak / 2**30:.2f} GiB{memory_target}; the largest:")
    for title, pss in sorted(at_peak.items(), key=lambda kind: -kind[1])[:10]:
        print(f"  {pss / 2**20:7.0f} MiB  {title}")
    timeline(DAGS, triggered)
    return {"wall": wall, "peak": peak, "states": states}


def print_first_load(region_set: str, cases_source: str, first: date, last: date) -> None:
    """How many regions of the set the load published cases for, how many the retrain trained on, and
    the corrections dbt recorded for them (marts.fct_case_revisions)."""
    from psycopg2 import sql

    from cother.ingest.sources import get_source
    from cother_core.database import connect
    from cother_core.warehouse import table_identifier

    regions = get_set(region_set).ids
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("select count(distinct region) from {} where region = any(%s) and date between %s and %s").format(
                table_identifier(get_source(cases_source).raw_table)
            ),
            (regions, first, last),
        )
        [[published]] = cur.fetchall()
        cur.execute(
            "select count(*), count(distinct region) from marts.fct_case_revisions"
            " where kind = 'fall' and region = any(%s) and date_day between %s and %s",
            (regions, first, last),
        )
        [[corrections, corrected]] = cur.fetchall()
    results = last_run_results("cother_retrain").get("train_and_register", [])
    trained = next((result["regions"] for result in results if result and result["region_set"] == region_set), [])
    print(
        f"  {region_set}: {published} of {len(regions)} regions published, {len(trained)} trained on by the retrain;"
        f" {corrections} corrections recorded in {corrected} regions"
    )


def main() -> None:
    settings = get_settings()
    postgres.start()
    try:
        with open_meteo_stand_in(), who_weekly_stand_in(WEEKLY_HISTORY[1]) as who:
            fresh_airflow_database()
            migrate(settings.runtime_dir / "logs" / "bench-stack.log")
            publish_history()
            with local_stack(settings.runtime_dir / "logs" / "bench-stack-airflow.log") as env:
                unpause(env, *DAGS)  # and wait for the scheduler's cron run for yesterday to end
                sizes, results = {}, {}
                for region_set, sources in DAILY.items():
                    if sys.argv[1:] and region_set not in sys.argv[1:]:
                        continue
                    sizes[region_set] = len(get_set(region_set).regions)
                    conf = {"start_date": str(DAY), "end_date": str(DAY), "region_set": region_set, **sources}
                    label = f"one daily run ({DAY}) of the {region_set} set, {sizes[region_set]} regions"
                    results[region_set] = measured_run(env, conf, label, 1800, " (target: under 2 GiB)")
                if len(results) < len(DAILY):
                    return
                slope = (results["world"]["wall"] - results["korea"]["wall"]) / (sizes["world"] - sizes["korea"])
                print(
                    f"each added region costs {slope:.3f} s (target: at most 0.3 s): {sizes['world'] - sizes['korea']}"
                    " more regions took"
                    f" {results['world']['wall'] - results['korea']['wall']:.1f} s more (targets: 45 s and 180 s)"
                )
                who.served = NEW_WEEK  # WHO publishes a week: the weekly DAG's run takes it, as scheduled
                label = (
                    f"one weekly run ({NEW_WEEK}) of the {WEEKLY_SET} set, {len(get_set(WEEKLY_SET).regions)} regions"
                )
                measured_run(env, {}, label + " (target: at most 60 s)", 1800, dag_id="cother_ingest_weekly")
                for region_set, ((first, last), sources) in FIRST_LOADS.items():
                    conf = {"start_date": str(first), "end_date": str(last), "region_set": region_set, **sources}
                    label = f"first load of the {region_set} set, {first}..{last}, in one triggered run"
                    measured_run(env, conf, label, 3600, " (targets: world under 300 s and 2 GiB)")
                    print_first_load(region_set, sources["cases_source"], first, last)
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
