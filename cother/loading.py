"""Publishing a validated batch into its raw table, and keeping a failed one in quarantine.

A publish replaces exactly the (source, region, date) partitions of the batch in one transaction:
COPY into a temporary table, delete those partitions, insert. An advisory lock on (table, source,
region) keeps two runs of the same partitions from interleaving. Loading the same batch twice leaves
the same rows.
"""

from __future__ import annotations

import io
import json
from functools import cache

import pandas as pd
from psycopg2 import sql

from cother.database import connect
from cother.landing import LandedBatch
from cother.settings import PROJECT_ROOT

WAREHOUSE_SQL = PROJECT_ROOT / "cother" / "sql" / "warehouse.sql"


@cache
def _warehouse_ddl() -> str:
    return WAREHOUSE_SQL.read_text(encoding="utf-8")


def ensure_warehouse() -> None:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended('cother.warehouse.ddl', 0))")
        cur.execute(_warehouse_ddl())


def _table(qualified: str) -> sql.Identifier:
    return sql.Identifier(*qualified.split("."))


def with_lineage(frame: pd.DataFrame, batch: LandedBatch) -> pd.DataFrame:
    return frame.assign(source=batch.source, batch_id=batch.batch_id, landed_file=batch.path)


def publish(batch: LandedBatch, frame: pd.DataFrame, table: str) -> int:
    """Replace the batch's partitions of `table` with its rows; returns the rows written."""
    rows = with_lineage(frame, batch)
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in rows.columns)
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{table}/{batch.source}/{batch.region}",)
        )
        cur.execute(
            sql.SQL("create temp table batch_rows (like {} including defaults) on commit drop").format(_table(table))
        )
        cur.copy_expert(
            sql.SQL("copy batch_rows ({}) from stdin with (format csv)").format(columns).as_string(cur), buffer
        )
        cur.execute(
            sql.SQL(
                "delete from {table} as published using (select distinct source, region, date from batch_rows) as partitions"
                " where published.source = partitions.source and published.region = partitions.region"
                " and published.date = partitions.date"
            ).format(table=_table(table))
        )
        cur.execute(
            sql.SQL("insert into {} ({cols}) select {cols} from batch_rows").format(_table(table), cols=columns)
        )
    return len(rows)


def quarantine(batch: LandedBatch, frame: pd.DataFrame, suite: str, failures: list[dict]) -> None:
    """Keep a batch that failed its gate, whole, with the reasons; replacing an earlier try of the same batch."""
    records = with_lineage(frame, batch).to_json(orient="records", date_format="iso", force_ascii=False)
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into quarantine.batches"
            " (batch_id, source, region, start_date, end_date, landed_file, suite, failures, records)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (source, region, batch_id) do update set"
            " failures = excluded.failures, records = excluded.records, quarantined_at = now()",
            (
                batch.batch_id,
                batch.source,
                batch.region,
                batch.start,
                batch.end,
                batch.path,
                suite,
                json.dumps(failures),
                records,
            ),
        )
