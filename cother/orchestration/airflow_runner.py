"""Running Airflow commands with the project's configuration, and reading what a DAG run returned."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from cother.orchestration.airflow_env import airflow_environment
from cother_core.database import airflow_url, metadata_rows
from cother_core.settings import get_settings


class DagRunFailed(RuntimeError):
    pass


def airflow(*args: str, log: Path | None = None, check: bool = True) -> int:
    """Run the `airflow` command line with the project's environment; output to `log` when given."""
    env = {**os.environ, **airflow_environment()}
    if log is None:
        return subprocess.run(["airflow", *args], env=env, check=check).returncode
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ airflow {' '.join(args)}\n")
        out.flush()
        return subprocess.run(["airflow", *args], env=env, stdout=out, stderr=subprocess.STDOUT, check=check).returncode


def migrate(log: Path | None = None) -> None:
    """`airflow db migrate`, once per Airflow version and metadata database (again if the database was
    dropped since)."""
    home = Path(airflow_environment()["AIRFLOW_HOME"])
    key = hashlib.sha256(f"{version('apache-airflow')} {airflow_url()}".encode()).hexdigest()[:16]
    marker = home / f".migrated-{key}"
    if marker.exists() and _migrated():
        return
    airflow("db", "migrate", log=log)
    marker.touch()


def _migrated() -> bool:
    """Whether the metadata database holds Airflow's schema (its migrations table)."""
    return metadata_rows("select to_regclass('public.alembic_version') is not null")[0][0]


def test_dag(dag_id: str, conf: dict, log: Path) -> dict[str, list]:
    """`airflow dags test` one DAG run (after ending the runs a killed task left running:
    cother.orchestration.stale_runs); returns the tasks' return values, raises DagRunFailed naming the log."""
    from cother.orchestration.stale_runs import end_stale_runs

    end_stale_runs()
    code = airflow("dags", "test", dag_id, "-c", json.dumps(conf), log=log, check=False)
    if code != 0:
        raise DagRunFailed(f"{dag_id} failed; its task logs are in {log}")
    return last_run_results(dag_id)


def last_run_results(dag_id: str) -> dict[str, list]:
    """task_id -> return values (one per mapped index) of the DAG's latest run."""
    rows = metadata_rows(
        "select x.task_id, x.map_index, x.value from xcom as x"
        " where x.dag_id = %s and x.key = 'return_value' and x.run_id ="
        " (select r.run_id from dag_run as r where r.dag_id = %s order by r.id desc limit 1)"
        " order by x.task_id, x.map_index",
        (dag_id, dag_id),
    )
    results: dict[str, list] = {}
    for task_id, _, value in rows:  # xcom.value is jsonb: psycopg2 decodes it
        results.setdefault(task_id, []).append(value)
    return results


def latest_run_id() -> int:
    """The id of the newest run of any DAG in the metadata database, 0 if there is none."""
    return metadata_rows("select coalesce(max(id), 0) from dag_run")[0][0]


def dag_runs(dag_id: str, after: int = 0) -> list[tuple[str, str]]:
    """(run_type, state) of the DAG's runs newer than the run id `after` (latest_run_id), oldest first,
    from the metadata database."""
    return metadata_rows(
        "select run_type, state from dag_run where dag_id = %s and id > %s order by id", (dag_id, after)
    )


def set_paused(env: dict[str, str], paused: bool, *dag_ids: str) -> None:
    """Pause or unpause the DAGs on a running stack, in one `airflow` command (each takes seconds to start)."""
    pattern = "^(" + "|".join(re.escape(dag_id) for dag_id in dag_ids) + ")$"
    command = ["airflow", "dags", "pause" if paused else "unpause", "--treat-dag-id-as-regex", "-y", pattern]
    subprocess.run(command, env=env, check=True, capture_output=True)


def unpause(env: dict[str, str], *dag_ids: str) -> None:
    """Unpause the DAGs on a running stack, then wait for what the scheduler starts of its own at once (a
    cron DAG's run for its latest interval) to end: runs triggered after this are the only ones running."""
    set_paused(env, False, *dag_ids)

    def settled() -> bool:
        due = metadata_rows(
            "select count(*) from dag where dag_id = any(%s)"
            " and not exists (select 1 from dag_run as r where r.dag_id = dag.dag_id and r.state in ('queued', 'running'))"
            " and (next_dagrun_create_after is null or next_dagrun_create_after > now())",
            (list(dag_ids),),
        )
        return due[0][0] == len(dag_ids)

    wait_for(settled, 600, f"the scheduler's own runs of {', '.join(dag_ids)} to end", every_s=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable, timeout_s: float, what: str, every_s: float = 2):
    """Poll `condition` until it returns something true; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def components() -> tuple[tuple[str, ...], ...]:
    """The local stack: what `airflow standalone` starts, without its supervising process (an Airflow
    import of about 150 MiB) and without log servers (Airflow's bind every interface; the API server
    reads the task logs from the log folder, on this machine): the API server on COTHER_AIRFLOW_HOST."""
    return (
        ("api-server", "--host", get_settings().airflow_host),
        ("scheduler", "--skip-serve-logs"),
        ("dag-processor",),
        ("triggerer", "--skip-serve-logs"),
    )


Part = tuple[str, list[str], dict[str, str]]  # a process of the stack: its name, command, extra environment


def _celery(url: str) -> tuple[list[Part], list[Part]]:
    """The processes the stack starts on Celery: before Airflow's, the project's Redis (unless a broker
    of one's own is configured, then checked: BrokerUnreachable names it); after, the workers."""
    from cother.local import redis_server
    from cother.orchestration import celery_workers

    broker = []
    if get_settings().celery_broker_url:
        celery_workers.check_broker(url)
    else:
        broker.append(("redis-server", redis_server.command(), {}))
    return broker, [(f"celery {name}", *celery_workers.worker_command(name)) for name in celery_workers.names()]


@contextmanager
def local_stack(
    log: Path | None = None, port: int | None = None, celery: bool = False, **settings: str
) -> Iterator[dict[str, str]]:
    """Airflow's API server (on 127.0.0.1 and `port`, a free one if None), scheduler, DAG processor and
    triggerer, and with `celery` the broker and the Celery workers besides, each its own process in one
    process group, until the block ends; their output goes to `log` (or to this terminal). Yields the
    environment that `airflow` commands need to reach them. First, the runs a killed task left running
    are ended (cother.orchestration.stale_runs), so none holds the DAGs' next runs queued."""
    from cother.orchestration import celery_workers
    from cother.orchestration.stale_runs import end_stale_runs

    end_stale_runs()

    port = port or free_port()
    url = celery_workers.broker_url() if celery else ""
    before, after = _celery(url) if celery else ([], [])
    env = {
        **os.environ,
        **airflow_environment(),
        **(celery_workers.environment(url) if celery else {}),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        **settings,
    }
    parts = [*before, *[(name, ["airflow", name, *args], {}) for name, *args in components()], *after]
    nodes = [celery_workers.node(name) for name in celery_workers.names()] if celery else []
    out = None
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("w")
    group = None
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command, extra_env in parts:
            processes[name] = subprocess.Popen(
                command, env={**env, **extra_env}, stdout=out, stderr=subprocess.STDOUT, process_group=group or 0
            )
            group = group or processes[name].pid
        wait_for(
            lambda: _healthy(port, processes) and (not nodes or celery_workers.answering(url, nodes)),
            600,
            f"the Airflow stack to be healthy (log: {log or 'above'})",
        )
        yield env
    finally:
        if group:
            os.killpg(group, signal.SIGTERM)
            try:
                for process in processes.values():
                    process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
        if out:
            out.close()


def _healthy(port: int, processes: dict[str, subprocess.Popen]) -> bool:
    """Scheduler and DAG processor healthy, by the API server's health endpoint; RuntimeError if a
    component has exited."""
    for name, process in processes.items():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as answer:
            health = json.load(answer)
        return health["scheduler"]["status"] == "healthy" and health["dag_processor"]["status"] == "healthy"
    except (OSError, ValueError, KeyError):
        return False
