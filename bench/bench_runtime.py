"""Imported first by every benchmark: the project on sys.path, and a runtime of its own
(.runtime/bench, embedded PostgreSQL on COTHER_BENCH_PG_PORT, 55434, Redis on COTHER_BENCH_REDIS_PORT,
56381) so no benchmark touches the demo's or the tests' data."""

import json
import os
import shutil
import sys
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    COTHER_RUNTIME_DIR=str(ROOT / ".runtime" / "bench"),
    COTHER_LANDING_DIR=str(ROOT / ".runtime" / "bench" / "landing"),
    COTHER_PG_PORT=os.environ.get("COTHER_BENCH_PG_PORT", "55434"),
    COTHER_REDIS_PORT=os.environ.get("COTHER_BENCH_REDIS_PORT", "56381"),
)
os.environ.pop("COTHER_DATABASE_URL", None)


def empty_warehouse() -> None:
    """Every schema the warehouse DDL and dbt create, dropped and the raw tables created again; the
    landing zone emptied, so that every payload is fetched anew from what the benchmark serves now."""
    from cother_core.database import connect
    from cother_core.settings import get_settings
    from cother_core.warehouse import apply_schema

    with connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists raw, quarantine, ml, reference, staging, intermediate, marts cascade")
    apply_schema()
    shutil.rmtree(get_settings().landing_dir, ignore_errors=True)


def load(source: str, regions: list[str], start, end) -> dict:
    """Land one batch of a source for these regions and days, validate it and publish what passed, as a
    run of cother_ingest does; returns the verdict, after printing each region refused and each region
    with days or values held back."""
    from cother.ingest import stages
    from cother.ingest.sources import get_source

    kind = get_source(source).kind
    request = {f"{kind}_source": source, f"{kind}_regions": regions, "regions": regions}
    batch = stages.land({**request, "start": str(start), "end": str(end), "force_fetch": False}, kind)
    verdict = stages.validate(batch)
    for region, reason in verdict["failed"].items():
        rule = reason.splitlines()[1:2] or [reason]  # a gate's first failure, or the payload's one line
        print(f"  quarantined {source}/{region} {start}..{end}: {rule[0].strip()[:100]}")
    for region, held in verdict["held"].items():
        cells = sum(len(days) for days in held["cells"].values())
        print(f"  held back {source}/{region} {start}..{end}: {len(held['days'])} day(s), {cells} value(s)")
    stages.publish(verdict)
    return verdict


def weather_payload(days: list[date], points: list[tuple[float, float]]) -> list[dict]:
    """Open-Meteo's answer for each point asked, over these days, from the grid cell at that point, the
    values of each cycled from the bundled Seoul observations."""
    import pandas as pd

    seoul = pd.read_csv(ROOT / "data" / "sample" / "kma_asos_daily_stn108_seoul.csv")
    take = seoul.iloc[[day.toordinal() % len(seoul) for day in days]]
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
    return [{"latitude": lat, "longitude": lon, "timezone": "Asia/Seoul", "daily": daily} for lat, lon in points]


class StandIn(BaseHTTPRequestHandler):
    """A loopback stand-in for a public API: answers with a body, logs nothing."""

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(handler: type[StandIn], url_setting: str, path: str, **state):
    """The stand-in on a free loopback port (the server carrying `state` as attributes), with the
    setting's environment variable pointing at `path` on it, until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in state.items():
        setattr(server, name, value)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ[url_setting] = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield server
    finally:
        server.shutdown()


class OpenMeteo(StandIn):
    """A loopback stand-in for the Open-Meteo archive API in its documented format: many places per
    request (an array in the order asked, each from the point asked), values from the bundled Seoul
    observations."""

    def do_GET(self) -> None:  # noqa: N802 -- the http.server API
        query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
        start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        points = zip(query["latitude"].split(","), query["longitude"].split(","), strict=True)
        places = weather_payload(days, [(float(latitude), float(longitude)) for latitude, longitude in points])
        self.answer(json.dumps(places[0] if len(places) == 1 else places).encode())


class WhoWeekly(StandIn):
    """A loopback stand-in for WHO's weekly file: the bundled copy as it stood on the server's `served`
    Sunday (its rows up to that day), the whole file in one answer, as WHO's server sends it."""

    def do_GET(self) -> None:  # noqa: N802 -- the http.server API
        header, *rows = (ROOT / "data" / "sample" / "who_covid19_global_weekly.csv").read_bytes().splitlines(True)
        served = self.server.served.isoformat().encode()
        self.answer(header + b"".join(row for row in rows if row[:10] <= served))


def who_weekly_stand_in(served: date):
    """WHO's weekly file as it stood on `served` (set the server's `served` to move on), with
    COTHER_WHO_WEEKLY_URL pointing at it, until the block ends."""
    return serving(WhoWeekly, "COTHER_WHO_WEEKLY_URL", "/WHO-COVID-19-global-data.csv", served=served)


def open_meteo_stand_in():
    """The Open-Meteo stand-in, with COTHER_OPEN_METEO_URL pointing at it, until the block ends.
    Open-Meteo's quota is the real API's, not the stand-in's: the limiter is set past anything a benchmark
    asks (counted against the free tier, the stack benchmark's world history waited out the hourly window)."""
    os.environ["COTHER_OPEN_METEO_RATE_LIMIT"] = "1000000000/60"
    return serving(OpenMeteo, "COTHER_OPEN_METEO_URL", "/v1/archive")
