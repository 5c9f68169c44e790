"""The ingestion stages, as plain functions the DAG wires together: plan, land, validate, publish
(announcing what was published is the DAG's: cother.orchestration.announce).

Work goes by source, not by region: per kind (weather, cases) one payload is landed for every region
of the run, validated in one Great Expectations run with a verdict per region, and the passing
regions are published in one transaction; a failing region is quarantined alone.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

import pandas as pd

from cother.ingest import KINDS, landing, load
from cother.ingest.landing import LandedBatch
from cother.ingest.sources import SOURCES, NothingToLoad, Parsed, SourceError, get_source
from cother.quality.batch_checks import with_checks
from cother_core.clock import SOURCE_TIMEZONE, today
from cother_core.regions import RegionSet, get_region, get_set, select


class PlanError(ValueError):
    """A run asked for something that cannot be done: the message says what and why."""


class RegionsFailed(RuntimeError):
    """Regions of a batch failed their gate: one message per region, naming source, region, dates and rule."""


def raise_failures(verdict: dict) -> dict:
    """The verdict of validate(), or RegionsFailed when any region of it failed."""
    if verdict["failed"]:
        raise RegionsFailed("\n".join(verdict["failed"].values()))
    return verdict


def plan(params: dict, run_time: datetime) -> dict:
    """The run's request: a region set (or some of its regions), a date range and a source per kind;
    checked here, once, before anything is fetched. The range is the given one or, for a scheduled run,
    the day before the run in Asia/Seoul (a weekly set: the weeks not yet published, weeks_to_ask). When
    a source's calls are more than its quota windows allow at once, a line says so, with the least its
    land will wait in all (Source.quota_wait)."""
    yesterday = run_time.astimezone(SOURCE_TIMEZONE).date() - timedelta(days=1)
    scheduled = not params.get("start_date")
    start = yesterday if scheduled else date.fromisoformat(params["start_date"])
    end = date.fromisoformat(params["end_date"]) if params.get("end_date") else start
    if start > end:
        raise PlanError(f"start {start} is after end {end}")
    if end > today():
        raise PlanError(f"end {end} is in the future (today is {today()} in Asia/Seoul)")
    try:
        regions = select(params["region_set"], params.get("regions") or [])
    except (KeyError, ValueError) as error:
        raise PlanError(str(error).strip('"')) from None
    region_set = get_set(params["region_set"])
    request = {"region_set": region_set.name, "regions": [region.id for region in regions]}
    for kind in KINDS:
        name = params[f"{kind}_source"]
        if name not in SOURCES or SOURCES[name].kind != kind:
            known = sorted(n for n, s in SOURCES.items() if s.kind == kind)
            raise PlanError(f"{name!r} is not a {kind} source; known: {known}")
        request[f"{kind}_source"] = name
        if SOURCES[name].step_days != region_set.step_days:
            if kind == "weather":  # no weather source is weekly: a weekly set runs without weather
                request["weather_regions"] = []
                continue
            fitting = sorted(n for n, s in SOURCES.items() if s.kind == kind and s.step_days == region_set.step_days)
            raise PlanError(
                f"the {region_set.name} set reports {region_set.cadence}: expected a {kind} source with a row every"
                f" {region_set.step_days} day(s) ({', '.join(fitting)}); observed {name!r}"
            )
        days = (end - start).days + 1
        if SOURCES[name].max_days and days > SOURCES[name].max_days:
            raise PlanError(
                f"{name} is asked one request a day: {start}..{end} is {days} days, at most"
                f" {SOURCES[name].max_days} a run; split the range into runs, or backfill"
            )
        covered = [region for region in regions if SOURCES[name].covers(region)]
        if SOURCES[name].region_names:
            try:
                SOURCES[name].names(covered)  # what the source calls each region, from config/regions
            except SourceError as error:
                raise PlanError(str(error)) from None
        request[f"{kind}_regions"] = [region.id for region in covered]
    if not request["cases_regions"]:
        raise PlanError(f"the cases source {request['cases_source']} covers none of the regions {request['regions']}")
    if region_set.step_days > 1 and scheduled:
        start, end = weeks_to_ask(request, region_set, yesterday)
    if region_set.step_days > 1 and start + timedelta(days=6 - start.weekday()) > end:  # its first Sunday
        raise PlanError(f"{start}..{end} holds no Sunday: the {region_set.name} set's weeks are dated on their Sunday")
    if scheduled:
        past_end(request, start, end)
    for kind in KINDS:
        asked = [get_region(region) for region in request[f"{kind}_regions"]]
        if asked and (wait := SOURCES[request[f"{kind}_source"]].quota_wait(asked, start, end)):
            print(wait)
    return {
        **request,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "force_fetch": bool(params.get("force_fetch")),
    }


def weeks_to_ask(request: dict, region_set: RegionSet, yesterday: date) -> tuple[date, date]:
    """A scheduled run's weeks of a weekly set: the Sundays after the last one its cases source has
    published for the run's regions (from the source's first week on a fresh install) through the last
    Sunday on or before yesterday; NothingToLoad, before anything is fetched, when there is none. What
    the source's file holds of them is known once it is fetched (Source.held)."""
    source = SOURCES[request["cases_source"]]
    last_sunday = yesterday - timedelta(days=yesterday.isoweekday() % 7)
    published = load.last_published_day(source.raw_table, source.name, request["cases_regions"])
    first = published + timedelta(days=region_set.step_days) if published else source.first_day
    if first > last_sunday:
        raise NothingToLoad(
            f"nothing new to ask of {source.name}: the {region_set.name} set is published through {published};"
            f" its next week ends on {first}, and the last one ended on {last_sunday}"
        )
    return first, last_sunday


def past_end(request: dict, start: date, end: date) -> None:
    """NothingToLoad when a bundled source of the run ends before `start` (a scheduled run's first day):
    a fresh install on the sample sources then says so instead of failing its gate every day. (A weekly
    range the bundle holds in part is bounded by the bundled file itself, as the live file bounds it.)"""
    ended = [
        f"{name} through {last}"
        for kind in KINDS
        if request[f"{kind}_regions"]
        and (last := SOURCES[name := request[f"{kind}_source"]].last_day())
        and last < start
    ]
    if ended:
        span = f"{start}" if start == end else f"{start}..{end}"
        raise NothingToLoad(
            f"nothing to load for {span}: the bundled sample data ends earlier ({', '.join(ended)}); for new"
            " data set COTHER_WEATHER_SOURCE and COTHER_CASES_SOURCE to live sources (docs/sources.md),"
            " or trigger a range of the bundle with start_date and end_date"
        )


def land(request: dict, kind: str) -> dict | None:
    """Fetch one payload for every region of the request the kind's source covers and keep it as received
    (unless it has landed before and the run does not force a fetch); None when it covers none, and
    NothingToLoad when the source holds none of the range yet (a weekly file without a new week)."""
    source = get_source(request[f"{kind}_source"])
    regions = [get_region(region) for region in request[f"{kind}_regions"]]
    if not regions:
        region_set = get_set(request["region_set"])
        if source.step_days != region_set.step_days:
            print(f"the {region_set.name} set runs without {kind} (it reports {region_set.cadence}): nothing to fetch")
        else:
            print(f"{source.name} covers none of the regions {request['regions']}: nothing to fetch")
        return None
    start, end = date.fromisoformat(request["start"]), date.fromisoformat(request["end"])
    return asdict(landing.land(source, regions, start, end, request["force_fetch"]))


def parse(batch: LandedBatch) -> Parsed:
    """The batch's rows per region; a payload that cannot be read at all fails every region by name."""
    source = get_source(batch.source)
    regions = [get_region(region) for region in batch.regions]
    try:
        parsed = source.parse(batch.read(), regions, batch.first_day, batch.last_day)
    except SourceError as error:
        parsed = Parsed(pd.DataFrame(columns=source.columns), dict.fromkeys(batch.regions, str(error)))
    where = {region: f" ({batch.describe(region)}, landed at {batch.path})" for region in parsed.errors}
    errors = {region: error + where[region] for region, error in parsed.errors.items()}
    return Parsed(parsed.frame, errors, parsed.gaps)


def validate(batch_values: dict | None) -> dict | None:
    """Run every region of the batch through its suite in one run; each failing region goes to quarantine
    with its reasons. Returns the verdicts: the passing regions and, per failed region, why."""
    from cother_core.gate import Outcome
    from cother_core.gate import validate as run_suite

    if batch_values is None:  # nothing was landed: the source covers none of the run's regions
        return None
    batch = LandedBatch.from_dict(batch_values)
    source = get_source(batch.source)
    parsed = parse(batch)
    readable = [region for region in batch.regions if region not in parsed.errors]
    reports = {}
    if parsed.gaps:
        print(
            f"{source.name}: no row of any country or area for {', '.join(map(str, parsed.gaps))}: a gap of the"
            f" file, which no region is refused for ({batch.describe()})"
        )
    if readable:
        checked = with_checks(source, parsed.frame, batch.first_day, batch.last_day, parsed.gaps)
        reports = run_suite(checked, source.suite, {region: batch.describe(region) for region in readable})
    failed, warnings, held = {}, {}, {}
    for region, error in parsed.errors.items():
        print(error)
        unreadable = Outcome("readable payload", None, "error", False, error)
        load.quarantine(batch, region, pd.DataFrame(), source.suite, [unreadable.as_dict()])
        failed[region] = error
    for region, report in reports.items():
        warnings[region] = len(report.warnings)
        validation = {"id": report.run_id, "evaluated": len(report.outcomes)}
        if not report.passed:
            rows = parsed.frame[parsed.frame["region"] == region]
            load.quarantine(batch, region, rows, source.suite, [o.as_dict() for o in report.failures], validation)
            failed[region] = report.describe()
        elif report.held:
            held[region] = held_back(report.held, parsed.frame)
            rows = parsed.frame.loc[sorted({row for outcome in report.held for row in outcome.rows})]
            load.quarantine(batch, region, rows, source.suite, [o.as_dict() for o in report.held], validation)
    passed = [region for region in batch.regions if region not in failed]
    run_id = next(iter(reports.values())).run_id if reports else None
    return {
        "batch": batch_values,
        "suite": source.suite,
        "validation_id": run_id,
        "passed": passed,
        "failed": failed,
        "held": held,
        "warnings": warnings,
        "gaps": [day.isoformat() for day in parsed.gaps],
    }


def held_back(outcomes: list, frame: pd.DataFrame) -> dict:
    """What a passing region's batch publishes without: the days a day rule failed on, and per column
    the days a cell rule failed on (ISO dates: the verdict travels as JSON between tasks)."""

    def days(rows) -> set[str]:
        return set(frame.loc[list(rows), "date"].astype(str))

    cells: dict[str, set[str]] = {}
    for outcome in outcomes:
        if outcome.grain == "cell":
            cells.setdefault(outcome.column, set()).update(days(outcome.rows))
    return {
        "days": sorted(days(row for outcome in outcomes if outcome.grain == "day" for row in outcome.rows)),
        "cells": {column: sorted(held) for column, held in cells.items()},
    }


def without_held(frame: pd.DataFrame, held: dict) -> pd.DataFrame:
    """The parsed rows to publish: the held days left out, the held cells null."""
    kept = frame.copy()
    day = kept["date"].astype(str)
    for region, parts in held.items():
        of_region = kept["region"] == region
        for column, days in parts["cells"].items():
            kept[column] = kept[column].mask(of_region & day.isin(days))
        kept = kept[~(of_region & day.isin(parts["days"]))]
        day = day[kept.index]
    return kept.reset_index(drop=True)


def publish(validated: dict | None) -> dict | None:
    """Replace the partitions of the batch's passing regions in its raw table, in one transaction;
    returns the rows written per region (0: already there)."""
    if validated is None:
        return None
    batch = LandedBatch.from_dict(validated["batch"])
    source = get_source(batch.source)
    rows: dict[str, int] = {}
    if validated["passed"]:
        frame = parse(LandedBatch.from_dict({**validated["batch"], "regions": validated["passed"]})).frame
        frame = without_held(frame, validated.get("held", {}))
        rows = load.publish(batch, frame, source.raw_table, source.kind, validated["validation_id"])
    return {
        "table": source.raw_table,
        "source": batch.source,
        "start": batch.start,
        "end": batch.end,
        "batch_id": batch.batch_id,
        "validation_id": validated["validation_id"],
        "rows": rows,
        "failed": sorted(validated["failed"]),
    }


def failures(verdicts: list[dict]) -> str | None:
    """What failed in a run's validations, one line per source and region (with its first rule); None
    when nothing did."""
    lines = [
        f"{verdict['batch']['source']} {region}: {' / '.join(line.strip() for line in reason.splitlines()[:2])}"
        for verdict in verdicts
        for region, reason in verdict["failed"].items()
    ]
    return "\n".join(lines) if lines else None
