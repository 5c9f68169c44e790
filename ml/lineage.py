"""What a model version learnt from: its training window, the raw partitions and batches behind those
rows with their GX validation ids, a hash of the training data, and the git commit of the code."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date

import pandas as pd
from psycopg2 import sql

from cother.database import connect
from cother.loading import table_identifier
from cother.settings import PROJECT_ROOT

CURRENT_BATCHES = "select distinct batch_id from {table} where region = any(%s) and date between %s and %s"


def batches_read(regions: list[str], start: date, end: date) -> list[dict]:
    """The published batches whose rows the raw tables hold for these regions and days, with the
    validation that let each one through."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select distinct raw_table from raw.batch_log order by raw_table")
        current = set()
        for (raw_table,) in cur.fetchall():
            query = sql.SQL(CURRENT_BATCHES).format(table=table_identifier(raw_table))
            cur.execute(query, (list(regions), start, end))
            current.update(batch_id for (batch_id,) in cur.fetchall())
        cur.execute(
            "select batch_id, source, region, raw_table, start_date::text, end_date::text, validation_id"
            " from raw.batch_log where batch_id = any(%s) order by raw_table, region, start_date",
            (sorted(current),),
        )
        keys = ["batch_id", "source", "region", "raw_table", "start", "end", "validation_id"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


HASH_BLOCK_ROWS = 5000


def data_hash(rows: pd.DataFrame) -> str:
    """sha256 of the training rows as CSV, in a stable order: the same rows give the same hash. The CSV
    is hashed a block of rows at a time, never held whole."""
    ordered = rows.sort_values(["region", "date_day"]).reset_index(drop=True)
    digest = hashlib.sha256()
    for start in range(0, len(ordered), HASH_BLOCK_ROWS):
        digest.update(ordered.iloc[start : start + HASH_BLOCK_ROWS].to_csv(index=False, header=start == 0).encode())
    return digest.hexdigest()


def git_commit() -> str:
    """The commit of the checked-out code ('+dirty' if it has uncommitted changes), or 'unknown'."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if status.strip() else "")
