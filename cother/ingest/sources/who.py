"""WHO COVID-19 global data (CSV, no key): the national series of every country asked for.

One request returns the whole global file, for every country: a run downloads it once, whatever the
number of countries; the landed payload is that file, gzip-compressed (the bytes inside are as
received). `New_cases` is blank where a country did not report. Two files, the same columns: the
daily file (`who`, the daily sets; a country whose rows come every 7 days is refused by name) and the
weekly file WHO publishes today (`who_weekly`, one row per country or area and Sunday: the weekly
sets; a row on another day than a Sunday, or rows every day, refused by name). `sample_who_weekly`
replays the bundled copy of the weekly file (through 2026-04-19) as the live source would answer.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from cother.ingest.sources.base import Held, NothingToLoad, Payload, SourceError, where
from cother.ingest.sources.http import HttpSource
from cother_core.regions import Region
from cother_core.settings import PROJECT_ROOT

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
        self.client.expect(self.weights(regions, start, end))
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
            if spacing and spacing != self.step_days:
                other = "the weekly file?" if spacing == 7 else "the daily file?" if spacing == 1 else "neither file"
                grouped[region.id] = self.error(
                    region,
                    f"{start}..{end}",
                    f"{GRAINS[self.step_days]} grain: expected a row every {self.step_days} day"
                    f"{'s' if self.step_days > 1 else ''}; observed one every {spacing} days ({other})",
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


class WhoWeeklyCases(WhoCases):
    """WHO's weekly file. WHO publishes a week some days after its Sunday, and fills it in over some
    days: what a run takes is bounded by the file (held), and a Sunday no country has is a gap of the
    file (gaps), not a region's."""

    name = "who_weekly"
    raw_table = "raw.who_covid_weekly"
    suite = "raw_who_covid_weekly"
    url_setting = "who_weekly_url"
    step_days = 7
    first_day = date(2020, 1, 5)  # the file's first week

    def held(self, payload: bytes, regions: list[Region], start: date, end: date) -> Held:
        """start..end up to the file's newest Sunday. That Sunday is taken once every asked country that
        has the Sunday before it has it too: a country one week behind is waited for, by name (the week
        is being filled in). A country further behind has stopped reporting: it is not waited for, and
        the gate refuses it by name for the weeks it lacks. NothingToLoad when none of the range is held."""
        days = _days_by_code(gzip.decompress(payload))
        if not days:
            return Held(end)  # no row at all: the parser names every region as not answered
        newest = max(max(held) for held in days.values())
        if newest > end:
            return Held(end)
        week_before = newest - timedelta(days=7)
        named = self.names(regions)
        waited = [
            region.id
            for code, region in named.items()
            if newest not in days.get(code, ()) and week_before in days.get(code, ())
        ]
        waiting = (
            f"the week of {newest} is in the file for {len(named) - len(waited)} of the {len(named)} countries"
            f" asked: taken once they all have it; waiting for {', '.join(sorted(waited))}"
        )
        last = week_before if waited else newest
        if last < start:
            raise NothingToLoad(
                f"{self.name}: nothing new for {start}..{end}: the file's newest week ends on {newest}"
                f"{'; ' + waiting if waited else ''}; fetched, not landed"
            )
        return Held(last, f"{self.name}: {waiting}" if waited else None)

    def gaps(self, payload: bytes, start: date, end: date) -> list[date]:
        """The Sundays of start..end no line of the file has, for any country or area."""
        held = set().union(*_days_by_code(gzip.decompress(payload)).values())
        first_sunday = start + timedelta(days=(6 - start.weekday()))
        sundays = [first_sunday + timedelta(weeks=week) for week in range((end - first_sunday).days // 7 + 1)]
        return [sunday for sunday in sundays if sunday not in held]


class SampleWhoWeekly(WhoWeeklyCases):
    """The bundled copy of WHO's weekly file, answered whole as WHO's server answers (the payload is the
    file as it stood on its last Sunday; a run asks for a range of it, like the live source)."""

    name = "sample_who_weekly"
    file = PROJECT_ROOT / "data" / "sample" / "who_covid19_global_weekly.csv"

    def last_day(self) -> date:
        return _last_reported(self.file)

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        codes = sorted(self.names(regions))
        params = {"file": self.file.name, "country_codes": codes, "start": start.isoformat(), "end": end.isoformat()}
        return Payload(gzip.compress(self.file.read_bytes(), mtime=0), "csv.gz", params)


GRAINS = {1: "daily", 7: "weekly"}


@cache
def _last_reported(path: Path) -> date:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    return max(date.fromisoformat(line[:10]) for line in lines if line)


def _days_by_code(content: bytes) -> dict[str, set[date]]:
    """Each Country_code's days in the file, from the first two fields of its lines (written unquoted);
    a line whose date cannot be read is left to the parser, which names it."""
    days: dict[str, set[date]] = {}
    for line in content.splitlines()[1:]:
        fields = line.split(b",", 2)
        if len(fields) == 3 and (day := reported_day(fields[0].decode("ascii", errors="replace"))):
            days.setdefault(fields[1].decode("utf-8", errors="replace"), set()).add(day)
    return days


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
