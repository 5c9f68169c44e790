import time

import psycopg2
import pytest

from cother.core.database import airflow_url, libpq_url, mlflow_url, warehouse_url
from cother.local import postgres

pytestmark = pytest.mark.integration


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


def test_an_existing_server_is_used_when_cother_database_url_is_set(postgres_server, monkeypatch):
    """With COTHER_DATABASE_URL nothing is started; the databases are created on that server."""
    from cother.core.settings import get_settings

    port = get_settings().pg_port
    monkeypatch.setenv("COTHER_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/external_warehouse")
    monkeypatch.setenv("COTHER_MLFLOW_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/external_registry")
    monkeypatch.setattr(postgres.EmbeddedPostgres, "start", lambda self: pytest.fail("the embedded server was started"))
    try:
        assert postgres.start().endswith("/external_warehouse")
        assert postgres.status().startswith("external server")
        assert airflow_url().endswith("/airflow")
        with psycopg2.connect(libpq_url(mlflow_url())) as conn, conn.cursor() as cur:
            cur.execute("select current_database()")
            assert cur.fetchone()[0] == "external_registry"
    finally:
        monkeypatch.undo()
