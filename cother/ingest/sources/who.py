"""WHO COVID-19 global daily data (CSV, no key): the national series of every country asked for.

One request returns the whole global file, for every country: a run downloads it once, whatever the
number of countries; the landed payload is that file, gzip-compressed (the bytes inside are as
received). `New_cases` is blank where a country did not report. The source reads the daily file;
WHO's weekly file (one row per country and Sunday) is refused by the gate's daily-grain rule
(a row every day, or the region is refused by name), since the forecaster works on days.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, datetime, time, timedelta

from cother.core.regions import Region
from cother.ingest.sources.base import Payload, SourceError, where
from cother.ingest.sources.http import HttpSource

HEADER = [
    "Date_reported",
    "Country_code",
    "Country",
    "WHO_region",
    "New_cases",
    "Cumulative_cases",
    "New_deaths",
    "Cumulative_deaths",
]
FIELDS = {
    "New_cases": "new_cases",
    "Cumulative_cases": "cumulative_cases",
    "New_deaths": "new_deaths",
    "Cumulative_deaths": "cumulative_deaths",
}
COLUMNS = ["region", "date", "country_code", *FIELDS.values(), "record"]


class WhoCases(HttpSource):
    name = "who"
    kind = "cases"
    raw_table = "raw.who_covid_daily"
    suite = "raw_who_covid_daily"
    columns = COLUMNS
    dtypes = {column: "Int64" for column in FIELDS.values()}
    cumulative_column = "cumulative_cases"
    increasing_columns = ("cumulative_cases",)
    region_names = ("who", "WHO country code")
    url_setting = "who_url"

    def covers(self, region: Region) -> bool:
        return "who" in region.case_names  # WHO has no row for Taiwan

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        codes = sorted(self.names(regions))
        answer = self.client.get(self.url, {}, where(regions, start, end))
        params = {"url": self.url, "country_codes": codes, "start": start.isoformat(), "end": end.isoformat()}
        return Payload(gzip.compress(answer.content, mtime=0), "csv.gz", params)

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        named = self.names(regions)
        text, undecodable = decoded(gzip.decompress(payload))
        reader = csv.DictReader(io.StringIO(text))
        missing = [name for name in HEADER if name not in (reader.fieldnames or [])]
        if missing:
            raise self.error(
                None, "(payload)", f"schema change: expected columns {missing}; observed a header without them"
            )
        first, last = start.isoformat(), end.isoformat()
        grouped: dict[str, list | SourceError] = {}
        reported: dict[str, list[str]] = {}
        for row in reader:
            region = named.get(row["Country_code"])
            if region:
                reported.setdefault(region.id, []).append(row["Date_reported"][:10])
                if first <= row["Date_reported"][:10] <= last:
                    grouped.setdefault(region.id, []).append(row)
        for code, problem in undecodable.items():
            if code in named:
                grouped[named[code].id] = self.error(named[code], f"{start}..{end}", problem)
        for region in regions:
            if isinstance(grouped.get(region.id), SourceError):
                continue
            spacing = _spacing_days(reported.get(region.id, []))
            if spacing and spacing != 1:
                grouped[region.id] = self.error(
                    region,
                    f"{start}..{end}",
                    f"daily grain: expected a row every 1 day; observed one every {spacing} days (the weekly file?)",
                )
        return grouped

    def row(self, record: dict, region: Region) -> dict:
        day = reported_day(record["Date_reported"])
        if day is None:
            raise self.error(
                region,
                record["Date_reported"],
                f"Date_reported: expected an ISO date; observed {record['Date_reported']!r}",
            )
        values = {column: self.number(record[name], region, day, name) for name, column in FIELDS.items()}
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True)
        return {"region": region.id, "date": day, "country_code": record["Country_code"], **values, "record": raw}


def decoded(content: bytes) -> tuple[str, dict[str, str]]:
    """The file as text, and per country code the first of its lines that is not UTF-8. Such a line is
    read with the bad bytes replaced, so that it fails its own country alone, by name, not the file."""
    lines, undecodable = [], {}
    for number, line in enumerate(content.splitlines(keepends=True), start=1):
        try:
            lines.append(line.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError as error:
            text = line.decode("utf-8", errors="replace")
            country = text.split(",")[1] if text.count(",") else "(header)"
            undecodable.setdefault(
                country,
                f"encoding: expected UTF-8; observed byte 0x{line[error.start]:02x} at position {error.start} of line {number}",
            )
            lines.append(text)
    return "".join(lines), undecodable


def reported_day(text: str) -> date | None:
    """A Date_reported as a day: 2020-01-19, or the form of WHO's older files, 2020-01-19T00:00:00Z (a
    midnight in UTC); None for anything else."""
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    midnight = moment.utcoffset() == timedelta(0) and moment.time() == time(0)
    return moment.date() if midnight else None


def _spacing_days(days: list[str]) -> int | None:
    """The most common number of days between a country's consecutive rows (1 in the daily file, 7 in the weekly)."""
    try:
        ordered = sorted({date.fromisoformat(day) for day in days})
    except ValueError:
        return None  # the row parser names the bad date
    gaps = [(later - earlier).days for earlier, later in zip(ordered, ordered[1:], strict=False)]
    return max(set(gaps), key=gaps.count) if gaps else None
