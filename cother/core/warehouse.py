"""The warehouse's schemas and tables (cother/core/sql/warehouse.sql), created where missing, and the
region sets' configuration written into raw.regions."""

from __future__ import annotations

import json
from functools import cache

from psycopg2 import sql

from cother.core.database import connect
from cother.core.settings import PROJECT_ROOT

WAREHOUSE_SQL = PROJECT_ROOT / "cother" / "core" / "sql" / "warehouse.sql"


@cache
def _warehouse_ddl() -> str:
    return WAREHOUSE_SQL.read_text(encoding="utf-8")


def ensure_warehouse() -> None:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtextextended('cother.warehouse.ddl', 0))")
        cur.execute(_warehouse_ddl())


def table_identifier(qualified: str) -> sql.Identifier:
    """`schema.table` as a quoted identifier for psycopg2.sql."""
    return sql.Identifier(*qualified.split("."))


def sync_regions() -> None:
    """Write config/regions/*.yml into raw.regions, replacing what was there, in one transaction."""
    from cother.core.regions import region_sets

    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("delete from raw.regions")
        for region_set in region_sets().values():
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
