"""Loading benchmarks, on an embedded PostgreSQL of their own (.runtime/bench, port 55434):

1. COPY (the platform's path) against row-by-row INSERT, 100,000 rows of raw.coronaboard_cases; prints the ratio.
2. Three years of daily weather and cases into raw.*, by source: the 17 provinces (the bundled Coronaboard
   series, Open-Meteo answers from a loopback stand-in) and the world set (the bundled Johns Hopkins series,
   the bundled Open-Meteo cities). One batch per source and kind: land, validate (one Great Expectations
   run, a verdict per region), publish. Prints the time of each step.

Run: .venv/bin/python bench/load.py
"""

from __future__ import annotations

import time
from datetime import date

import pandas as pd  # noqa: E402
from bench_runtime import open_meteo_stand_in  # sets the runtime before anything imports cother
from psycopg2 import sql  # noqa: E402

from cother.ingest import landing, load, stages  # noqa: E402
from cother.ingest.sources import get_source  # noqa: E402
from cother.local import postgres
from cother_core import warehouse
from cother_core.database import connect  # noqa: E402
from cother_core.regions import get_set, select  # noqa: E402

START, END = date(2020, 2, 17), date(2023, 2, 16)
ROWS = 100_000


def reset() -> None:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine cascade")
    warehouse.apply_schema()


def copy_against_insert() -> None:
    batch = landing.land(get_source("sample_cases"), select("korea"), date(2020, 2, 17), date(2023, 9, 4))
    base = load.with_lineage(stages.parse(batch).frame, batch)
    copies = [base.assign(source=f"bench_{n}") for n in range(-(-ROWS // len(base)))]
    rows = pd.concat(copies, ignore_index=True).head(ROWS)
    columns = list(rows.columns)

    reset()
    started = time.perf_counter()
    with connect() as conn, conn.cursor() as cur:
        load.replace_partitions(cur, "raw.coronaboard_cases", rows)
    copy_s = time.perf_counter() - started

    reset()
    insert = sql.SQL("insert into raw.coronaboard_cases ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
    )
    values = [
        tuple(None if pd.isna(v) else (int(v) if isinstance(v, int) or hasattr(v, "item") else v) for v in row)
        for row in rows.itertuples(index=False)
    ]
    started = time.perf_counter()
    with connect() as conn, conn.cursor() as cur:
        for row in values:
            cur.execute(insert, row)
    insert_s = time.perf_counter() - started
    print(
        f"{len(rows):,} rows: COPY {copy_s:.2f} s, row-by-row INSERT {insert_s:.2f} s, COPY is {insert_s / copy_s:.1f}x faster (target: 10x)"
    )


def timed(step, *args):
    started = time.perf_counter()
    result = step(*args)
    return time.perf_counter() - started, result


def three_years(region_set: str, sources: dict[str, str]) -> None:
    """Land, validate and publish three years of a region set, one batch per kind."""
    regions = get_set(region_set).regions
    request = {"regions": [r.id for r in regions], "start": str(START), "end": str(END), "force_fetch": False}
    for kind, name in sources.items():
        covered = [region.id for region in regions if get_source(name).covers(region)]
        request |= {f"{kind}_source": name, f"{kind}_regions": covered}
    print(f"{region_set}: {len(regions)} regions x {(END - START).days + 1} days")
    for kind in sources:
        land_s, batch = timed(stages.land, request, kind)
        validate_s, verdict = timed(stages.validate, batch)
        publish_s, published = timed(stages.publish, verdict)
        rows = sum(published["rows"].values())
        print(
            f"  {kind:<8} {request[kind + '_source']:<18} {rows:>9,} rows, {len(verdict['passed']):>3} regions passed,"
            f" {len(verdict['failed']):>3} quarantined: land {land_s:.1f} s, validate {validate_s:.1f} s,"
            f" publish {publish_s:.1f} s"
        )


if __name__ == "__main__":
    postgres.start()
    try:
        copy_against_insert()
        reset()
        with open_meteo_stand_in():
            three_years("korea", {"weather": "open_meteo", "cases": "sample_cases"})
        three_years("world", {"weather": "sample_open_meteo", "cases": "jhu"})
    finally:
        postgres.stop()
