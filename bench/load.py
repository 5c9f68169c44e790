"""Loading benchmarks, on an embedded PostgreSQL of their own (.runtime/bench, port 55434):

1. COPY (the platform's path) against row-by-row INSERT, 100,000 rows of raw.coronaboard_cases; prints the ratio.
2. 17 regions x 3 years of daily weather and cases from landing files into raw.*: the cases are the
   bundled Coronaboard series (2020-02-17..2023-02-16), the weather is Open-Meteo-format payloads made
   from the bundled Seoul observations. Prints the time to parse, validate and publish them all.

Run: .venv/bin/python bench/load.py
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd  # noqa: E402
from bench_runtime import ROOT  # sets the runtime before anything imports cother
from psycopg2 import sql  # noqa: E402

from cother import ingest, landing, loading, postgres  # noqa: E402
from cother.database import connect  # noqa: E402
from cother.quality import QualityGateError  # noqa: E402
from cother.regions import all_regions  # noqa: E402
from cother.sources import get_source  # noqa: E402
from cother.sources.open_meteo import DAILY  # noqa: E402

START, END = date(2020, 2, 17), date(2023, 2, 16)
ROWS = 100_000


def reset() -> None:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine cascade")
    loading.ensure_warehouse()


def copy_against_insert() -> None:
    regions = [region for region in all_regions().values() if "coronaboard" in region.case_names]
    source = get_source("sample_cases")
    frames = []
    for region in regions:
        batch = landing.land(source, region, date(2020, 2, 17), date(2023, 9, 4))
        frames.append(loading.with_lineage(ingest.parse(batch), batch))
    base = pd.concat(frames, ignore_index=True)
    copies = [base.assign(source=f"bench_{n}") for n in range(-(-ROWS // len(base)))]
    rows = pd.concat(copies, ignore_index=True).head(ROWS)
    columns = list(rows.columns)

    reset()
    started = time.perf_counter()
    loading.copy_rows("raw.coronaboard_cases", rows)
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


def weather_payload(days: list[date], seoul: pd.DataFrame) -> bytes:
    """An Open-Meteo answer for these days, its values cycled from the bundled Seoul observations."""
    take = seoul.iloc[[index % len(seoul) for index in range(len(days))]]
    daily = {
        "time": [day.isoformat() for day in days],
        "temperature_2m_mean": take["avgTa"].tolist(),
        "temperature_2m_min": take["minTa"].tolist(),
        "temperature_2m_max": take["maxTa"].tolist(),
        "precipitation_sum": take["sumRn"].tolist(),
        "rain_sum": take["sumRn"].tolist(),
        "wind_speed_10m_mean": take["avgWs"].tolist(),
        "wind_speed_10m_max": take["maxWs"].tolist(),
        "relative_humidity_2m_mean": take["avgRhm"].tolist(),
        "cloud_cover_mean": (take["avgTca"] * 10).tolist(),
        "sunshine_duration": (take["sumSsHr"] * 3600).tolist(),
        "pressure_msl_mean": take["avgPs"].tolist(),
        "dew_point_2m_mean": take["avgTd"].tolist(),
    }
    assert set(daily) == {"time", *DAILY}
    return json.dumps({"latitude": 0, "longitude": 0, "timezone": "Asia/Seoul", "daily": daily}).encode()


def land_weather(region, days: list[date], seoul: pd.DataFrame) -> dict:
    """Write a weather payload straight into the landing zone, as the Open-Meteo source would have."""
    payload = weather_payload(days, seoul)
    folder = Path(os.environ["COTHER_LANDING_DIR"]) / "open_meteo" / region.id
    folder.mkdir(parents=True, exist_ok=True)
    batch = landing.LandedBatch(
        batch_id=f"{START:%Y%m%d}-{END:%Y%m%d}-bench", source="open_meteo", region=region.id, start=str(START),
        end=str(END), path=str(folder / "bench.json"), sha256="", fetched_at="", params={},
    )  # fmt: skip
    Path(batch.path).write_bytes(payload)
    return batch.__dict__


def seventeen_regions_three_years() -> None:
    reset()
    seoul = pd.read_csv(ROOT / "data" / "sample" / "kma_asos_daily_stn108_seoul.csv")
    days = [START + timedelta(days=offset) for offset in range((END - START).days + 1)]
    regions = [region for region in all_regions().values() if "coronaboard" in region.case_names]
    batches = [land_weather(region, days, seoul) for region in regions]
    batches += [ingest.land("sample_cases", region.id, START, END) for region in regions]
    started = time.perf_counter()
    validated, quarantined = [], []
    for batch in batches:
        try:
            validated.append(ingest.validate(batch))
        except QualityGateError as failed:  # the real series have revisions: the gate must catch them
            quarantined.append(
                f"{batch['source']}/{batch['region']}: {failed.report.failures[0].expectation} {failed.report.failures[0].column}"
            )
    validate_s = time.perf_counter() - started
    published = sum(ingest.publish(item)["rows"] for item in validated)
    total_s = time.perf_counter() - started
    print(
        f"{len(regions)} regions x {len(days)} days, weather and cases: {published:,} rows published from"
        f" {len(validated)} landing files, {len(quarantined)} quarantined, in {total_s:.1f} s"
        f" (validation {validate_s:.1f} s, publish {total_s - validate_s:.1f} s; target: under 60 s)"
    )
    for line in quarantined:
        print(f"  quarantined {line}")


if __name__ == "__main__":
    postgres.start()
    try:
        copy_against_insert()
        seventeen_regions_three_years()
    finally:
        postgres.stop()
