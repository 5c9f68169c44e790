"""`cother quarantine list | show | replay`: the batches that failed their gate, and publishing them once fixed.

A replay runs the landed payload (or, with refetch, a fresh one from the source) through the same
gate; if it passes it is published like any batch and announced by the next cother_ingest run.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

from cother import ingest, landing
from cother.database import connect
from cother.landing import LandedBatch
from cother.loading import ensure_warehouse
from cother.regions import get_region
from cother.sources import get_source


def list_batches(include_replayed: bool = False) -> list[dict]:
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select batch_id, source, region, start_date::text, end_date::text, suite, failures,"
            " quarantined_at::text, replayed_as from quarantine.batches"
            " where %s or replayed_at is null order by quarantined_at",
            (include_replayed,),
        )
        keys = ["batch_id", "source", "region", "start", "end", "suite", "failures", "quarantined_at", "replayed_as"]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def show(batch_id: str) -> dict:
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select batch_id, source, region, start_date::text, end_date::text, landed_file, suite, failures,"
            " jsonb_array_length(records), quarantined_at::text, replayed_at::text, replayed_as"
            " from quarantine.batches where batch_id = %s",
            (batch_id,),
        )
        rows = cur.fetchall()
    if len(rows) != 1:
        raise KeyError(f"quarantine: {len(rows)} batches have the id {batch_id!r}; `cother quarantine list` shows them")
    keys = [
        "batch_id",
        "source",
        "region",
        "start",
        "end",
        "landed_file",
        "suite",
        "failures",
        "rows",
        "quarantined_at",
        "replayed_at",
        "replayed_as",
    ]
    return dict(zip(keys, rows[0], strict=True))


def replay(batch_id: str, refetch: bool = False) -> dict:
    """Validate the batch again (raises QualityGateError / SourceError if it still fails) and publish it."""
    held = show(batch_id)
    if refetch:
        start, end = date.fromisoformat(held["start"]), date.fromisoformat(held["end"])
        batch = landing.land(get_source(held["source"]), get_region(held["region"]), start, end, force=True)
    else:
        landed = Path(held["landed_file"])
        batch = LandedBatch.from_dict(json.loads((landed.parent / f"{held['batch_id']}.meta.json").read_text()))
    published = ingest.publish(ingest.validate(asdict(batch)))
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "update quarantine.batches set replayed_at = now(), replayed_as = %s where batch_id = %s and source = %s",
            (batch.batch_id, held["batch_id"], held["source"]),
        )
    return published
