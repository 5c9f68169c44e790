"""The ingestion stages, as plain functions the DAG wires together: land, validate, publish."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from cother import landing, loading
from cother.batch_checks import with_checks
from cother.landing import LandedBatch
from cother.regions import get_region
from cother.sources import SourceError, get_source

SOURCE_TIMEZONE = ZoneInfo("Asia/Seoul")


def today() -> date:
    return datetime.now(SOURCE_TIMEZONE).date()


def plan_requests(params: dict, run_time: datetime) -> list[dict]:
    """One request per region: the given range, or the day before the run (Asia/Seoul)."""
    default_day = run_time.astimezone(SOURCE_TIMEZONE).date() - timedelta(days=1)
    start = date.fromisoformat(params["start_date"]) if params.get("start_date") else default_day
    end = date.fromisoformat(params["end_date"]) if params.get("end_date") else start
    sources = {
        "weather_source": params["weather_source"],
        "cases_source": params["cases_source"],
        "force_fetch": bool(params.get("force_fetch")),
    }
    return [
        {"region": get_region(region).id, "start": start.isoformat(), "end": end.isoformat(), **sources}
        for region in params["regions"]
    ]


def land(source_name: str, region_id: str, start: date, end: date, force: bool = False) -> dict:
    """Fetch the payload for the range and keep it as received (unless it has landed before and not forced)."""
    if start > end:
        raise ValueError(f"{source_name}: region {region_id}: start {start} is after end {end}")
    if end > today():
        raise ValueError(
            f"{source_name}: region {region_id}: end {end} is in the future (today is {today()} in Asia/Seoul)"
        )
    return asdict(landing.land(get_source(source_name), get_region(region_id), start, end, force))


def parse(batch: LandedBatch) -> pd.DataFrame:
    source = get_source(batch.source)
    try:
        frame = source.parse(batch.read(), get_region(batch.region), batch.first_day, batch.last_day)
    except SourceError as error:
        raise SourceError(
            f"{error} (batch {batch.batch_id}, dates {batch.start}..{batch.end}, landed at {batch.path})"
        ) from None
    return frame.sort_values("date", ignore_index=True)


def validate(batch_values: dict) -> dict:
    """Run the batch through its suite; a failing batch goes to quarantine and the error names it."""
    from cother.quality import QualityGateError
    from cother.quality import validate as run_suite

    batch = LandedBatch.from_dict(batch_values)
    source = get_source(batch.source)
    try:
        frame = parse(batch)
    except SourceError as error:
        loading.quarantine(
            batch,
            pd.DataFrame(),
            source.suite,
            [{"expectation": "readable payload", "severity": "error", "observed": str(error)}],
        )
        raise
    checked, parameters = with_checks(source, batch, frame)
    subject = f"source {batch.source}, region {batch.region}, dates {batch.start}..{batch.end}, batch {batch.batch_id}"
    report = run_suite(checked, source.suite, subject, batch.first_day, batch.last_day, parameters)
    if not report.passed:
        validation = {"id": report.run_id, "evaluated": len(report.outcomes)}
        loading.quarantine(batch, frame, source.suite, [o.as_dict() for o in report.failures], validation)
        raise QualityGateError(report)
    return {
        "batch": batch_values,
        "suite": source.suite,
        "validation_id": report.run_id,
        "warnings": len(report.warnings),
    }


def publish(validated: dict) -> dict:
    """Replace the batch's partitions in its raw table; returns what was written."""
    batch = LandedBatch.from_dict(validated["batch"])
    source = get_source(batch.source)
    rows = loading.publish(batch, parse(batch), source.raw_table, source.kind, validated["validation_id"])
    return {
        "table": source.raw_table,
        "source": batch.source,
        "region": batch.region,
        "start": batch.start,
        "end": batch.end,
        "batch_id": batch.batch_id,
        "validation_id": validated["validation_id"],
        "rows": rows,
        "unchanged": rows == 0,
    }


def announce(dag_run, task_instance, alias_events) -> dict:
    """Emit the raw assets once for everything published since the last announcement, from the last
    pending run of the DAG only: a backfill's runs queue up and its last run announces them all (run
    backfills with --max-active-runs 1; with more, the announcement may wait for the next run)."""
    from cother.assets import RAW_BY_KIND

    pending = task_instance.get_dr_count(dag_id=dag_run.dag_id, states=["queued", "running"])
    if pending > 1:
        print(f"{pending - 1} more run(s) of {dag_run.dag_id} to go: the last one announces their partitions")
        return {"announced": {}}
    partitions = loading.claim_unannounced()
    for kind, published in partitions.items():
        alias_events.add(RAW_BY_KIND[kind], extra={"partitions": published})
        print(f"announcing {RAW_BY_KIND[kind].name}: {len(published)} batch(es)")
    return {"announced": {kind: len(published) for kind, published in partitions.items()}}
