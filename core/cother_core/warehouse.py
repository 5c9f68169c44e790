"""The warehouse's schemas and tables (core/cother_core/sql/warehouse.sql), created where missing, the
region sets' configuration written into raw.regions, and a set retired from all of it.

The schema is applied once per process and warehouse: the first read or write of the warehouse in a
process applies it (ensure_warehouse), the others find it applied. Applying it is not free even where
nothing is missing: each `alter table ... add column if not exists` takes its table's exclusive lock,
which waits for every open transaction on the table (a publish, a dbt build reading it) and holds up
every reader after it. An Airflow task is a process of its own (`airflow dags test`: one for the whole
run), so a task applies it at most once. A process does not notice the warehouse's schemas dropped
under it (a database recreated while it runs): the next process applies the schema again, and
apply_schema applies it at once (the tests' empty warehouse, the benches' fresh one)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

from psycopg2 import sql

from cother_core.database import connect, parsed, warehouse_url

WAREHOUSE_SQL = Path(__file__).resolve().parent / "sql" / "warehouse.sql"

_applied: set[str] = set()  # the warehouse URLs this process has applied the schema to
_applying = threading.Lock()


@cache
def _warehouse_ddl() -> str:
    return WAREHOUSE_SQL.read_text(encoding="utf-8")


def apply_schema() -> None:
    """Apply the warehouse schema now, under an advisory lock (two processes never run it at once), and
    say so in the log: one line per application, naming the database and the process."""
    url = warehouse_url()
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended('cother.warehouse.ddl', 0))")
        cur.execute(_warehouse_ddl())
    _applied.add(url)
    print(f"applied the warehouse schema to database {parsed(url).database} (process {os.getpid()})")


def ensure_warehouse() -> None:
    """The warehouse schema applied, once per process and warehouse URL (see the module's doc)."""
    with _applying:
        if warehouse_url() not in _applied:
            apply_schema()


def table_identifier(qualified: str) -> sql.Identifier:
    """`schema.table` as a quoted identifier for psycopg2.sql."""
    return sql.Identifier(*qualified.split("."))


def sync_regions() -> None:
    """Write the region sets into raw.regions, in one transaction: each set's rows replaced by its file's.
    A set in raw.regions without a file that passes its rules (removed, or refused: cother_core.regions)
    keeps the rows it had, named here, so that the rows it published keep their regions (dbt's
    relationships tests) until `cother regions retire SET` deletes them."""
    from cother_core.regions import registry

    found = registry()
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "delete from raw.regions where region_set = any(%s) or region = any(%s)",
            (list(found.sets), list(found.regions)),
        )
        for region_set in found.sets.values():
            for region in region_set.regions:
                cur.execute(
                    "insert into raw.regions (region, region_set, cadence, region_name, latitude, longitude,"
                    " kma_station, case_names) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        region.id,
                        region_set.name,
                        region_set.cadence,
                        region.name,
                        region.latitude,
                        region.longitude,
                        region.kma_station,
                        json.dumps(region.case_names, ensure_ascii=False),
                    ),
                )
        cur.execute("select region_set, count(*) from raw.regions group by region_set order by region_set")
        for name, count in cur.fetchall():
            if name not in found.sets:
                why = "its file is refused" if name in found.refused else "it has no file"
                print(
                    f"raw.regions: set {name} ({count} regions) kept as it was: {why} in {found.directory};"
                    f" `cother regions retire {name}` deletes it and its rows"
                )


# The tables a set's rows are deleted from when it is retired: every table of these schemas with a region
# column (the raw tables, raw.batch_log, raw.replaced_rows, raw.regions, quarantine.batches, the marts:
# the incremental ones keep rows until deleted, the others are rebuilt by the next dbt build anyway), and
# ml.forecasts; the registry's versions and their record (ml.model_promotions, ml.field_accuracy_alerts) stay.
RETIRED_FROM = """
select table_schema || '.' || table_name from information_schema.columns
join information_schema.tables using (table_schema, table_name)
where column_name = 'region' and table_type = 'BASE TABLE'
    and (table_schema in ('raw', 'quarantine', 'marts') or (table_schema, table_name) = ('ml', 'forecasts'))
order by 1
"""


def retire_set(name: str, confirm: Callable[[list[str], dict[str, int]], bool]) -> dict[str, int] | None:
    """Delete a region set from the warehouse, in one transaction: the rows of its regions (those
    raw.regions lists for it) from every table of RETIRED_FROM. `confirm(regions, rows per table)` decides
    before anything is deleted (None: it declined). A set whose file still passes its rules is refused
    (its next run would publish it again); a set already retired has nothing left to delete."""
    from cother_core.regions import registry

    found = registry()
    if name in found.sets:
        raise ValueError(
            f"retire: set {name} still has its file {found.sets[name].path}: expected no file, or a refused one;"
            " remove it first (its runs would publish the set again)"
        )
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select region from raw.regions where region_set = %s order by region", (name,))
        regions = [region for (region,) in cur.fetchall()]
        cur.execute(RETIRED_FROM)
        tables = [table for (table,) in cur.fetchall()]
        rows = {}
        for table in tables:
            cur.execute(
                sql.SQL("select count(*) from {} where region = any(%s)").format(table_identifier(table)), (regions,)
            )
            rows[table] = cur.fetchone()[0]
        if not confirm(regions, rows):
            conn.rollback()
            return None
        for table in tables:
            cur.execute(sql.SQL("delete from {} where region = any(%s)").format(table_identifier(table)), (regions,))
            rows[table] = cur.rowcount
    return rows
