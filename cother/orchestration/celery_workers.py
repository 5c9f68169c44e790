"""Airflow on Celery workers, on one machine: the broker, the workers' commands, and the workers themselves.

`make celery` runs the local stack with Airflow's CeleryExecutor: the project's Redis as the broker
(or COTHER_CELERY_BROKER_URL), COTHER_CELERY_WORKERS workers named worker-1, worker-2, ... each
running COTHER_CELERY_CONCURRENCY tasks at once. Each worker reports its name as the host of the
tasks it runs (task_instance.hostname), as separate machines would report theirs.

A worker starts with the task libraries imported (cother.orchestration.executor.preload), as the
LocalExecutor's workers do: every task process is forked from it.

What every worker must share with the others, on one machine or many: the PostgreSQL server (the
warehouse, where the sources' rate limits are counted, and Airflow's metadata), the broker, and the
landing zone and runtime folder (COTHER_LANDING_DIR, COTHER_RUNTIME_DIR: a shared volume or a network
file system when the workers are on several machines).
"""

from __future__ import annotations

import gc
import os
import socket
import sys

from cother.local import redis_server
from cother_core.database import airflow_url, parsed
from cother_core.settings import get_settings


class BrokerUnreachable(RuntimeError):
    pass


def broker_url() -> str:
    return get_settings().celery_broker_url or redis_server.broker_url()


def shown(url: str) -> str:
    """The URL without its password."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def check_broker(url: str, timeout_s: float = 5.0) -> None:
    """BrokerUnreachable naming the broker when it does not answer within the timeout, instead of the
    scheduler and the workers waiting for it without end."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout_s) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout_s)
    except Exception as error:  # kombu raises many kinds: a refused connection, a bad password, an unknown scheme
        raise BrokerUnreachable(
            f"the Celery broker {shown(url)} is not reachable: {error.__class__.__name__}: {error}"
            " (COTHER_CELERY_BROKER_URL, or the project's Redis on COTHER_REDIS_PORT)"
        ) from None


def environment(url: str) -> dict[str, str]:
    """Airflow's configuration for the CeleryExecutor on this broker, results in Airflow's database."""
    backend = parsed(airflow_url()).set(drivername="db+postgresql").render_as_string(hide_password=False)
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": url,
        "AIRFLOW__CELERY__RESULT_BACKEND": backend,
    }


def names() -> list[str]:
    return [f"worker-{number}" for number in range(1, get_settings().celery_workers + 1)]


def node(name: str) -> str:
    """The worker's Celery node name, also the host its task instances report."""
    return f"{name}@{socket.gethostname()}"


def worker_command(name: str) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment of one named worker (its logs are read from the shared log
    folder, so it serves none)."""
    return [sys.executable, "-m", "cother.orchestration.celery_workers", name], {
        "CELERY_WORKER_NODE": node(name),  # the stack's own marker, not a setting
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cother.orchestration.celery_workers.hostname",
    }


def hostname() -> str:
    """Airflow's hostname_callable in a worker: its node name."""
    return os.environ["CELERY_WORKER_NODE"]


def answering(url: str, nodes: list[str]) -> bool:
    """Whether every one of these workers answers a ping through the broker."""
    from celery import Celery

    app = Celery(broker=url)
    try:
        replies = app.control.ping(destination=nodes, timeout=1.0)
    finally:
        app.close()
    return {name for reply in replies for name in reply} == set(nodes)


def main() -> None:
    """`python -m cother.orchestration.celery_workers NAME`: the task libraries imported, then
    `airflow celery worker` under the worker's node name."""
    from cother.orchestration.executor import preload

    name = sys.argv[1]
    preload()
    gc.freeze()  # the pool's processes and the tasks forked from them leave the preloaded pages shared
    from airflow.__main__ import main as airflow_main

    concurrency = str(get_settings().celery_concurrency)
    sys.argv = ["airflow", "celery", "worker", "-H", node(name), "-c", concurrency, "--skip-serve-logs"]
    airflow_main()


if __name__ == "__main__":
    main()
