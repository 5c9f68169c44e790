"""Connection URLs for the three databases (warehouse, Airflow metadata, MLflow) and warehouse connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from sqlalchemy.engine import URL, make_url

from cother_core.private_files import generated_secret
from cother_core.settings import AIRFLOW_DB, MLFLOW_DB, WAREHOUSE_DB, get_settings

PASSWORD_FILE = "password"


def embedded_password() -> str:
    """The embedded server's password for `postgres`, generated once into its runtime folder (mode 0600):
    only the user who runs the project can read it. cother.local.postgres gives it to the server."""
    return generated_secret(get_settings().postgres_dir / PASSWORD_FILE)


def warehouse_url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    url = URL.create(
        "postgresql",
        username="postgres",
        password=embedded_password(),
        host="127.0.0.1",
        port=settings.pg_port,
        database=WAREHOUSE_DB,
    )
    return url.render_as_string(hide_password=False)


def _same_server(database: str) -> str:
    url = make_url(warehouse_url()).set(database=database)
    return url.render_as_string(hide_password=False)


def airflow_url() -> str:
    return get_settings().airflow_database_url or _same_server(AIRFLOW_DB)


def mlflow_url() -> str:
    return get_settings().mlflow_database_url or _same_server(MLFLOW_DB)


def parsed(url: str) -> URL:
    return make_url(url)


def libpq_url(url: str) -> str:
    """psycopg2 takes a plain libpq URI: drop a SQLAlchemy driver suffix if there is one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection to the warehouse (or to `url`); commits on success, rolls back on error, always closes."""
    conn = psycopg2.connect(libpq_url(url or warehouse_url()))
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def metadata_rows(statement: str, params: tuple = ()) -> list[tuple]:
    """The rows of a query of Airflow's metadata database."""
    with connect(airflow_url()) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()
