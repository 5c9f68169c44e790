"""Publishing a validated batch into its raw table, and keeping a failed one in quarantine.

A publish replaces exactly the (source, region, date) partitions of every passing region of a batch
in one transaction: COPY into a temporary table, delete those partitions, insert. An advisory lock on
(table, source) keeps two runs of the same partitions from interleaving. Loading the same batch twice leaves
the same rows. A published row that a publish replaces with a row of different values (a source restating
a day) is kept in raw.replaced_rows, in the same transaction.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
from psycopg2 import sql
from psycopg2.extras import execute_values

from cother.ingest.landing import LandedBatch
from cother_core.database import connect
from cother_core.warehouse import ensure_warehouse, table_identifier


def with_lineage(frame: pd.DataFrame, batch: LandedBatch) -> pd.DataFrame:
    return frame.assign(source=batch.source, batch_id=batch.batch_id, landed_file=batch.path)


# A raw row's columns that say where and when it was loaded, not what the source sent: two rows that differ
# only in these are the same values.
LINEAGE_COLUMNS = ["batch_id", "landed_file", "loaded_at"]


def replace_partitions(cur, table: str, rows: pd.DataFrame) -> None:
    """COPY the rows into a temporary table, keep every published row of their (source, region, date)
    partitions that differs from its replacement in raw.replaced_rows, delete the partitions, insert them."""
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in rows.columns)
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    cur.execute(
        sql.SQL("create temp table batch_rows (like {} including defaults) on commit drop").format(
            table_identifier(table)
        )
    )
    cur.copy_expert(sql.SQL("copy batch_rows ({}) from stdin with (format csv)").format(columns).as_string(cur), buffer)
    cur.execute(
        sql.SQL(
            "insert into raw.replaced_rows (source, raw_table, region, date, replaced_row, batch_id, landed_file,"
            " replaced_by_batch_id) select published.source, %s, published.region, published.date,"
            " to_jsonb(published), published.batch_id, published.landed_file, replacing.batch_id"
            " from {table} as published join batch_rows as replacing on published.source = replacing.source"
            " and published.region = replacing.region and published.date = replacing.date"
            " where to_jsonb(published) - %s::text[] <> to_jsonb(replacing) - %s::text[]"
        ).format(table=table_identifier(table)),
        (table, LINEAGE_COLUMNS, LINEAGE_COLUMNS),
    )
    cur.execute(
        sql.SQL(
            "delete from {table} as published using (select distinct source, region, date from batch_rows) as partitions"
            " where published.source = partitions.source and published.region = partitions.region"
            " and published.date = partitions.date"
        ).format(table=table_identifier(table))
    )
    cur.execute(
        sql.SQL("insert into {} ({cols}) select {cols} from batch_rows").format(table_identifier(table), cols=columns)
    )


def _unchanged(cur, table: str, batch: LandedBatch, rows: pd.DataFrame) -> set[str]:
    """The regions whose partitions in `table` are exactly this batch's rows already."""
    cur.execute(
        sql.SQL(
            "select region, count(*), count(*) filter (where batch_id = %s) from {}"
            " where source = %s and region = any(%s) and date between %s and %s group by region"
        ).format(table_identifier(table)),
        (batch.batch_id, batch.source, sorted(rows["region"].unique()), batch.start, batch.end),
    )
    expected = rows.groupby("region").size()
    return {region for region, total, of_batch in cur.fetchall() if total == of_batch == expected.get(region)}


def publish(batch: LandedBatch, frame: pd.DataFrame, table: str, kind: str, validation_id: str) -> dict[str, int]:
    """Replace the partitions of every region in `frame` with its rows, all in one transaction; returns
    the rows written per region (0: that region already held exactly this batch)."""
    rows = with_lineage(frame, batch)
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{table}/{batch.source}",))
        unchanged = _unchanged(cur, table, batch, rows)
        changed = rows[~rows["region"].isin(unchanged)]
        if not changed.empty:
            replace_partitions(cur, table, changed)
        counts = changed.groupby("region").size()
        log = [
            (
                batch.source,
                region,
                batch.batch_id,
                table,
                kind,
                batch.start,
                batch.end,
                batch.path,
                int(count),
                validation_id,
            )
            for region, count in counts.items()
        ]
        execute_values(
            cur,
            "insert into raw.batch_log (source, region, batch_id, raw_table, kind, start_date, end_date,"
            " landed_file, row_count, validation_id) values %s"
            " on conflict (source, region, batch_id) do update set row_count = excluded.row_count,"
            " validation_id = excluded.validation_id, published_at = now(), announced_at = null",
            log,
        )
    return {region: (0 if region in unchanged else int(counts[region])) for region in rows["region"].unique()}


def last_published_day(table: str, source: str, regions: list[str]) -> date | None:
    """The latest day `source` has published into `table` for any of these regions; None when none."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("select max(date) from {} where source = %s and region = any(%s)").format(table_identifier(table)),
            (source, regions),
        )
        return cur.fetchone()[0]


def claim_unannounced(sources: list[str] | None = None) -> dict[str, list[dict]]:
    """Take every published batch of these sources (all when None) not yet announced, by kind, and mark
    it announced, atomically: two announcing runs never announce the same batch."""
    ensure_warehouse()
    keys = ["source", "region", "batch_id", "table", "start", "end", "rows"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "update raw.batch_log set announced_at = now() where announced_at is null"
            " and (%(sources)s::text[] is null or source = any(%(sources)s::text[])) returning"
            " kind, source, region, batch_id, raw_table, start_date::text, end_date::text, row_count",
            {"sources": sources},
        )
        by_kind: dict[str, list[dict]] = {}
        for kind, *values in sorted(cur.fetchall()):
            by_kind.setdefault(kind, []).append(dict(zip(keys, values, strict=True)))
    return by_kind


def quarantine(
    batch: LandedBatch,
    region: str,
    frame: pd.DataFrame,
    suite: str,
    failures: list[dict],
    validation: dict | None = None,
) -> None:
    """Keep one region's part of a batch that failed its gate, whole, with the failed expectations and
    the validation (id, expectations evaluated); a later try of the same batch replaces the earlier one."""
    records = with_lineage(frame, batch).to_json(orient="records", date_format="iso", force_ascii=False)
    validation = validation or {}
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into quarantine.batches (batch_id, source, region, start_date, end_date, landed_file, suite,"
            " failures, records, validation_id, expectations_evaluated) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (source, region, batch_id) do update set failures = excluded.failures,"
            " records = excluded.records, validation_id = excluded.validation_id,"
            " expectations_evaluated = excluded.expectations_evaluated, quarantined_at = now()",
            (
                batch.batch_id, batch.source, region, batch.start, batch.end, batch.path, suite,
                json.dumps(failures), records, validation.get("id"), validation.get("evaluated"),
            ),
        )  # fmt: skip
