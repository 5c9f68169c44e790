import time

import psycopg2

from cother import postgres
from cother.database import airflow_url, libpq_url, mlflow_url, warehouse_url


def test_start_is_idempotent_and_quick_once_running(postgres_server):
    started = time.monotonic()
    assert postgres.start() == warehouse_url()
    assert time.monotonic() - started < 5
    assert "running" in postgres.status()


def test_the_three_databases_exist_and_accept_connections(postgres_server):
    for url in (warehouse_url(), airflow_url(), mlflow_url()):
        with psycopg2.connect(libpq_url(url)) as conn, conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone()[0] == url.rsplit("/", 1)[1]


def test_the_server_does_not_run_as_root(postgres_server):
    with psycopg2.connect(libpq_url(warehouse_url())) as conn, conn.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        pid = cur.fetchone()[0]
    uid = int(next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("Uid:")))
    assert uid != 0
