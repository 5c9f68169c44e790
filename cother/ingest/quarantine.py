"""`cother quarantine list | show | replay`: the batches that failed their gate, and publishing them once fixed.

A replay runs the landed payload (or, with refetch, a fresh one from the source) through the same
gate; if it passes it is published like any batch and announced by the next cother_ingest run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path

from cother.ingest import landing, stages
from cother.ingest.landing import LandedBatch
from cother.ingest.sources import get_source
from cother_core.database import connect
from cother_core.regions import get_region
from cother_core.warehouse import ensure_warehouse


def _select(batch_id: str | None = None, include_replayed: bool = False, region: str | None = None) -> list[dict]:
    """The regions of one batch by id (or one of them), or all of them (the replayed ones only when asked);
    `resolved_by` is another batch last published over the same source, region and days since, if any
    (a later fetch's; not the batch itself, whose other days publish while its held days wait)."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select batch_id, source, region, start_date::text as first_day, end_date::text as last_day, landed_file,"
            " suite, failures, validation_id, expectations_evaluated, jsonb_array_length(records) as rows,"
            " quarantined_at::text, replayed_at::text, replayed_as, ("
            "   select published.batch_id from raw.batch_log as published"
            "   where published.source = held.source and published.region = held.region"
            "   and published.batch_id <> held.batch_id"
            "   and published.start_date <= held.start_date and published.end_date >= held.end_date"
            "   and published.published_at > held.quarantined_at order by published.published_at desc limit 1"
            " ) as resolved_by from quarantine.batches as held"
            " where (batch_id = %(batch_id)s or (%(batch_id)s is null and (%(all)s or replayed_at is null)))"
            " and (%(region)s is null or region = %(region)s) order by quarantined_at, region",
            {"batch_id": batch_id, "all": include_replayed, "region": region},
        )
        keys = [column.name for column in cur.description]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def list_batches(include_replayed: bool = False) -> list[dict]:
    return _select(include_replayed=include_replayed)


def show(batch_id: str, region: str | None = None) -> dict:
    held = _select(batch_id, region=region)
    if len(held) != 1:
        regions = ", ".join(h["region"] for h in held) or "none"
        raise KeyError(
            f"quarantine: {len(held)} regions of batch {batch_id!r} are held ({regions}); name one with --region"
        )
    return held[0]


def replay(batch_id: str, refetch: bool = False, region_id: str | None = None) -> dict:
    """Validate the region's part of the batch again and publish it; RegionsFailed if it fails again."""
    held = show(batch_id, region_id)
    region = get_region(held["region"])
    if refetch:
        start, end = date.fromisoformat(held["first_day"]), date.fromisoformat(held["last_day"])
        batch = landing.land(get_source(held["source"]), [region], start, end, force=True)
    else:
        meta = Path(held["landed_file"]).with_name(f"{held['batch_id']}.meta.json")
        batch = replace(LandedBatch.from_dict(json.loads(meta.read_text(encoding="utf-8"))), regions=[region.id])
    published = stages.publish(stages.raise_failures(stages.validate(asdict(batch))))
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "update quarantine.batches set replayed_at = now(), replayed_as = %s"
            " where batch_id = %s and source = %s and region = %s",
            (batch.batch_id, held["batch_id"], held["source"], region.id),
        )
    return published
