"""Runs left `running` by a task process that died with no one to report it, ended (failed) at once.

`airflow dags test` (`cother airflow dags test`, `make demo`, dag.test()) runs each task inside its own
process, queued by no scheduler. Killed there (SIGKILL, the machine's OOM killer), it leaves its task
instance `running` for good: no scheduler ever fails it (Airflow's task heartbeat timeout covers only
the tasks a scheduler queued itself, and a starting scheduler adopts or resets only those a dead
scheduler queued), so the run stays `running` and, the DAGs allowing one active run, every later run
of the DAG stays queued behind it. Under a scheduler the DAGs' `dagrun_timeout`
(COTHER_DAGRUN_TIMEOUT_HOURS, cother.orchestration.dag_defaults) ends it in the end; the project's
entry points that start Airflow or a run (the local stack, `cother airflow dags test | trigger`, the
demo, the benchmarks through the local stack) end it at once, here.

A run is ended only when each of its active task instances ran in such a process, on this machine,
and that process is gone: a run any scheduler queued a task of is left to Airflow, and so is one
whose process lives or runs elsewhere. Ended as the UI's "mark failed" ends a run: its dead task
failed, its tasks yet to run skipped, the run failed; one warning line per run, naming it and why.
"""

from __future__ import annotations

import logging
import socket
from contextlib import suppress
from datetime import datetime

import psutil

from cother_core.database import airflow_url, connect, metadata_rows

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "restarting", "deferred", "awaiting_input")
PENDING = ("scheduled", "queued", "up_for_retry", "up_for_reschedule", "deferred", "awaiting_input")


def this_host() -> set[str]:
    """The names a task instance run on this machine records as its hostname: the host name, and the
    resolver's first canonical name for it (Airflow's default hostname_callable, airflow.utils.net.getfqdn,
    which this module does not import: importing Airflow takes seconds)."""
    name = socket.gethostname()
    with suppress(OSError):
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
        return {name, next((info[3] for info in infos if info[3]), name)}
    return {name}


def gone(pid: int | None, since: datetime | None) -> bool:
    """Whether the process `pid`, running a task since `since`, is no more: ended, a zombie, or its pid
    now another's (a process started after the task did)."""
    if pid is None or since is None:
        return False  # never started: nothing to tell
    try:
        process = psutil.Process(pid)
        return process.status() == psutil.STATUS_ZOMBIE or process.create_time() > since.timestamp() + 1
    except psutil.NoSuchProcess:
        return True


def stale_runs() -> dict[tuple[str, str], str]:
    """(dag_id, run_id) -> why, for each running run whose active task instances all ran, on this
    machine, in a process no scheduler queued and which is gone."""
    rows = metadata_rows(
        "select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state, ti.queued_by_job_id, ti.hostname, ti.pid,"
        " ti.start_date from task_instance as ti join dag_run as r on r.dag_id = ti.dag_id and r.run_id = ti.run_id"
        " where r.state = 'running' and ti.state = any(%s) order by ti.dag_id, ti.run_id",
        (list(ACTIVE),),
    )
    host, runs = this_host(), {}
    for dag_id, run_id, task_id, map_index, state, job_id, hostname, pid, started in rows:
        dead = state in ("running", "restarting") and job_id is None and hostname in host and gone(pid, started)
        task = f"{task_id}[{map_index}]" if map_index >= 0 else task_id
        why = f"its task {task} was running in process {pid} on {hostname}, which is gone, and no scheduler queued it"
        runs.setdefault((dag_id, run_id), []).append(why if dead else None)
    return {run: whys[0] for run, whys in runs.items() if all(whys)}


def end_stale_runs() -> list[tuple[str, str, str]]:
    """End (fail) every stale run: its dead tasks failed, those yet to run skipped, as the UI's "mark
    failed" does, and the DAG's count of active runs brought up to date; one warning a run. Returns
    (dag_id, run_id, why) for each."""
    ended = []
    for (dag_id, run_id), why in stale_runs().items():
        with connect(airflow_url()) as conn, conn.cursor() as cur:  # one transaction a run
            cur.execute(
                "select 1 from dag_run where dag_id = %s and run_id = %s and state = 'running' for update",
                (dag_id, run_id),
            )
            if not cur.fetchone():
                continue  # ended meanwhile
            cur.execute(
                "update task_instance set state = 'failed', end_date = now(),"
                " duration = extract(epoch from now() - start_date)"
                " where dag_id = %s and run_id = %s and state in ('running', 'restarting')",
                (dag_id, run_id),
            )
            cur.execute(
                "update task_instance set state = 'skipped', end_date = now()"
                " where dag_id = %s and run_id = %s and (state is null or state = any(%s))",
                (dag_id, run_id, list(PENDING)),
            )
            cur.execute(
                "update dag_run set state = 'failed', end_date = now() where dag_id = %s and run_id = %s",
                (dag_id, run_id),
            )
            cur.execute(  # as the scheduler does when a run ends: the DAG may start or create its next run
                "update dag set exceeds_max_non_backfill = (select count(*) from dag_run as r"
                " where r.dag_id = dag.dag_id and r.state in ('queued', 'running') and r.run_type <> 'backfill')"
                " >= coalesce(max_active_runs, 0) where dag_id = %s",
                (dag_id,),
            )
        log.warning("ended the stale run %s of %s (failed): %s", run_id, dag_id, why)
        ended.append((dag_id, run_id, why))
    return ended
