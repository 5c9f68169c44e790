"""The bundled real data (data/sample), served per region and date range like a live source.

Weather: KMA ASOS daily observations in the data.go.kr field names; cases: Coronaboard's cumulative
counts per province. A payload is the slice of the bundled CSV for the request, header included.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd

from cother.regions import Region
from cother.settings import get_settings
from cother.sources.base import Payload, Source
from cother.sources.kma_format import kma_frame

WEATHER_FILE = "kma_asos_daily_stn108_seoul.csv"
CASES_FILE = "coronaboard_kr_regional_daily.csv"
WEATHER_STATION = "108"
CASE_FIELDS = ["date", "region", "confirmed", "death", "released"]


def _csv_slice(file_name: str, keep) -> bytes:
    """The header and the lines of a bundled CSV for which keep(row) holds, as they stand in the file."""
    text = (get_settings().sample_dir / file_name).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [line for line in lines[1:] if keep(dict(zip(header, next(csv.reader([line])), strict=True)))]
    return (lines[0] + "".join(kept)).encode("utf-8")


def _rows(payload: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8"))))


class SampleWeather(Source):
    name = "sample_weather"
    kind = "weather"
    raw_table = "raw.kma_asos_daily"
    suite = "raw_kma_asos_daily"

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        params = {
            "file": WEATHER_FILE,
            "station": region.kma_station,
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        if region.kma_station != WEATHER_STATION:
            return Payload(_csv_slice(WEATHER_FILE, lambda row: False), "csv", params)
        first, last = start.isoformat(), end.isoformat()
        return Payload(_csv_slice(WEATHER_FILE, lambda row: first <= row["date"] <= last), "csv", params)

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        records = [{**row, "tm": row["date"], "stnId": WEATHER_STATION} for row in _rows(payload)]
        return kma_frame(self, records, region)


class SampleCases(Source):
    name = "sample_cases"
    kind = "cases"
    raw_table = "raw.coronaboard_cases"
    suite = "raw_coronaboard_cases"
    cumulative_column = "confirmed"

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        name = region.case_names.get("coronaboard")
        params = {"file": CASES_FILE, "region": name, "start": start.isoformat(), "end": end.isoformat()}
        first, last = start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
        return Payload(
            _csv_slice(CASES_FILE, lambda row: row["region"] == name and first <= row["date"] <= last), "csv", params
        )

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        rows = _rows(payload)
        missing = [field for field in CASE_FIELDS if rows and field not in rows[0]]
        if missing:
            raise self.error(region, rows[0].get("date"), f"schema change: fields {missing} are missing")
        records = []
        for row in rows:
            try:
                day = date(int(row["date"][:4]), int(row["date"][4:6]), int(row["date"][6:8]))
            except (ValueError, KeyError):
                raise self.error(region, row.get("date"), "date is not YYYYMMDD") from None
            records.append(
                {
                    "region": region.id,
                    "date": day,
                    "region_name": row["region"],
                    **{field: self.number(row.get(field), region, day, field) for field in CASE_FIELDS[2:]},
                }
            )
        frame = pd.DataFrame.from_records(
            records, columns=["region", "date", "region_name", "confirmed", "death", "released"]
        )
        return frame.astype({"confirmed": "Int64", "death": "Int64", "released": "Int64"})


def bundled_period() -> tuple[date, date]:
    """The days the bundled weather covers (the bundled cases cover them and more)."""
    days = [row["date"] for row in _rows((get_settings().sample_dir / WEATHER_FILE).read_bytes())]
    return date.fromisoformat(min(days)), date.fromisoformat(max(days))
