"""Imported first by every benchmark: the project on sys.path, and a runtime of its own
(.runtime/bench, embedded PostgreSQL on COTHER_BENCH_PG_PORT, 55434) so no benchmark touches the
demo's or the tests' data."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    COTHER_RUNTIME_DIR=str(ROOT / ".runtime" / "bench"),
    COTHER_LANDING_DIR=str(ROOT / ".runtime" / "bench" / "landing"),
    COTHER_PG_PORT=os.environ.get("COTHER_BENCH_PG_PORT", "55434"),
)
os.environ.pop("COTHER_DATABASE_URL", None)


def empty_warehouse() -> None:
    """Every schema the warehouse DDL and dbt create, dropped and the raw tables created again."""
    from cother.database import connect
    from cother.loading import ensure_warehouse

    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine, ml, reference, staging, intermediate, marts cascade")
    ensure_warehouse()
