"""The bundled real data (data/sample), served for a set of regions and a date range like a live source.

A payload is the slice of a bundled CSV for the request (its header and the lines of the regions and
days asked for, as they stand in the file): one file answers every region, as the global files of
the live sources do.

- sample_weather: KMA ASOS daily observations of Seoul station 108, in the data.go.kr field names;
- sample_open_meteo: Open-Meteo daily reanalysis of 30 Korean and 108 world cities (temperature,
  humidity, precipitation; no wind, pressure, sunshine or cloud), into raw.open_meteo_daily;
- sample_cases: Coronaboard's cumulative counts per Korean province;
- jhu: Johns Hopkins CSSE cumulative cases and deaths per country or province, wide (a column per day):
  a region named by a Country/Region is the sum of that country's rows (China's, Canada's and Australia's
  provinces, overseas territories), one named Country/Region/Province/State ("Canada/Ontario") is that row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, datetime
from functools import cache

from cother.ingest.sources.base import Answer, Payload, Source, SourceError, read_responses, responses_payload
from cother.ingest.sources.kma_format import KMA_COLUMNS, KMA_DTYPES, KMA_WEATHER_COLUMNS, kma_row
from cother.ingest.sources.open_meteo import DAILY, OpenMeteoTable
from cother_core.regions import Region
from cother_core.settings import get_settings

WEATHER_FILE = "kma_asos_daily_stn108_seoul.csv"
CASES_FILE = "coronaboard_kr_regional_daily.csv"
OPEN_METEO_FILES = ["open_meteo_kr_cities_daily_2020-2023.csv", "open_meteo_world_cities_daily_2020-2023.csv.gz"]
JHU_FILES = {"confirmed": "jhu_csse_confirmed_global.csv", "deaths": "jhu_csse_deaths_global.csv"}
WEATHER_STATION = "108"
CASE_FIELDS = ["date", "region", "confirmed", "death", "released"]
# The bundled Open-Meteo columns, as the archive API's daily variables (the others are not in the files)
OPEN_METEO_FIELDS = {
    "temp_avg_c": "temperature_2m_mean",
    "temp_min_c": "temperature_2m_min",
    "temp_max_c": "temperature_2m_max",
    "precip_mm": "precipitation_sum",
    "rh_mean_pct": "relative_humidity_2m_mean",
}
JHU_KEYS = ["Province/State", "Country/Region", "Lat", "Long"]


def _bundled_text(file_name: str) -> str:
    """A bundled file's text (a .gz one decompressed: the bytes inside are the file as published)."""
    path = get_settings().sample_dir / file_name
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as unpacked:
            return unpacked.read()
    return path.read_text(encoding="utf-8")


def _csv_slice(file_name: str, keep) -> str:
    """The header and the lines of a bundled CSV for which keep(row) holds, as they stand in the file."""
    text = _bundled_text(file_name)
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [
        line
        for line, row in zip(lines[1:], csv.reader(lines[1:]), strict=True)
        if keep(dict(zip(header, row, strict=False)))
    ]
    return lines[0] + "".join(kept)


def _answer(text: str) -> Answer:
    return Answer(text.encode("utf-8"))


@cache
def _period(file_name: str, form: str = "%Y-%m-%d") -> tuple[date, date]:
    """The first and last day in a bundled file's `date` column, written in `form`."""
    days = [datetime.strptime(row["date"], form).date() for row in _rows(_bundled_text(file_name))]
    return min(days), max(days)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _params(file_name, names: list[str], start: date, end: date) -> dict:
    return {"file": file_name, "names": names, "start": start.isoformat(), "end": end.isoformat()}


def _by_name(source: Source, rows: list[dict], key: str, named: dict[str, Region]) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for row in rows:
        region = named.get(row.get(key))
        if region:
            grouped.setdefault(region.id, []).append(row)
    return grouped


class SampleWeather(Source):
    name = "sample_weather"
    kind = "weather"
    raw_table = "raw.kma_asos_daily"
    suite = "raw_kma_asos_daily"
    columns = KMA_COLUMNS
    dtypes = KMA_DTYPES
    weather_columns = KMA_WEATHER_COLUMNS

    def last_day(self) -> date:
        return _period(WEATHER_FILE)[1]

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        first, last = start.isoformat(), end.isoformat()
        text = _csv_slice(WEATHER_FILE, lambda row: first <= row["date"] <= last)
        return Payload(text.encode("utf-8"), "csv", _params(WEATHER_FILE, [WEATHER_STATION], start, end))

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list]:
        rows = [{**row, "tm": row["date"], "stnId": WEATHER_STATION} for row in _rows(payload.decode("utf-8"))]
        return {region.id: rows for region in regions if region.kma_station == WEATHER_STATION}

    def row(self, record: dict, region: Region) -> dict:
        return kma_row(self, record, region)


class SampleOpenMeteo(OpenMeteoTable, Source):
    name = "sample_open_meteo"
    region_names = ("sample_open_meteo", "bundled Open-Meteo city")

    def covers(self, region: Region) -> bool:
        return self.name in region.weather_names  # 21 countries of the world set, every province

    def last_day(self) -> date:
        return min(_period(file_name)[1] for file_name in OPEN_METEO_FILES)

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        cities = set(self.names(regions))
        first, last = start.isoformat(), end.isoformat()
        responses = [
            (
                _params(file_name, sorted(cities), start, end),
                _answer(
                    _csv_slice(
                        file_name, lambda r: f"{r['country']}/{r['city']}" in cities and first <= r["date"] <= last
                    )
                ),
            )
            for file_name in OPEN_METEO_FILES
        ]
        return Payload(responses_payload(responses), "jsonl", _params(OPEN_METEO_FILES, sorted(cities), start, end))

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list]:
        rows = [
            {**row, "place": f"{row.get('country')}/{row.get('city')}"}
            for _, answer in read_responses(payload)
            for row in _rows(answer.text(self, None, "(payload)"))
        ]
        grouped: dict[str, list] = {}
        for region in regions:  # two regions may share a city (South Chungcheong takes Daejeon's)
            city = region.weather_names.get(self.name)
            grouped[region.id] = [row for row in rows if row["place"] == city]
        return grouped

    def row(self, record: dict, region: Region) -> dict:
        try:
            day = date.fromisoformat(record["date"])
        except (KeyError, TypeError, ValueError):
            raise self.error(
                region, record.get("date"), f"date: expected an ISO date; observed {record.get('date')!r}"
            ) from None
        missing = [field for field in OPEN_METEO_FIELDS if field not in record]
        if missing:
            raise self.error(region, day, f"schema change: expected fields {missing}; observed a row without them")
        values = dict.fromkeys(DAILY)
        for field, column in OPEN_METEO_FIELDS.items():
            values[column] = self.number(record[field], region, day, field)
        original = {key: value for key, value in record.items() if key != "place"}
        return {"region": region.id, "date": day, **values, "record": json.dumps(original, sort_keys=True)}


class SampleCases(Source):
    name = "sample_cases"
    region_names = ("coronaboard", "coronaboard name")
    kind = "cases"
    raw_table = "raw.coronaboard_cases"
    suite = "raw_coronaboard_cases"
    columns = ["region", "date", "region_name", "confirmed", "death", "released"]
    dtypes = {"confirmed": "Int64", "death": "Int64", "released": "Int64"}
    cumulative_column = "confirmed"
    increasing_columns = ("confirmed", "death")

    def last_day(self) -> date:
        return _period(CASES_FILE, "%Y%m%d")[1]

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        names = set(self.names(regions))
        first, last = start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
        text = _csv_slice(CASES_FILE, lambda row: row["region"] in names and first <= row["date"] <= last)
        return Payload(text.encode("utf-8"), "csv", _params(CASES_FILE, sorted(names), start, end))

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list]:
        rows = _rows(payload.decode("utf-8"))
        missing = [field for field in CASE_FIELDS if rows and field not in rows[0]]
        if missing:
            raise self.error(
                None, rows[0].get("date"), f"schema change: expected fields {missing}; observed a file without them"
            )
        return _by_name(self, rows, "region", self.names(regions))

    def row(self, record: dict, region: Region) -> dict:
        try:
            day = datetime.strptime(record["date"], "%Y%m%d").date()
        except (ValueError, KeyError, TypeError):
            raise self.error(
                region, record.get("date"), f"date: expected YYYYMMDD; observed {record.get('date')!r}"
            ) from None
        values = {field: self.number(record.get(field), region, day, field) for field in CASE_FIELDS[2:]}
        return {"region": region.id, "date": day, "region_name": record["region"], **values}


class SampleJhu(Source):
    name = "jhu"
    region_names = ("jhu", "Johns Hopkins name (Country/Region, or Country/Region/Province/State)")
    kind = "cases"
    raw_table = "raw.jhu_covid_cases"
    suite = "raw_jhu_covid_cases"
    columns = ["region", "date", "country_region", "confirmed", "deaths", "record"]
    dtypes = {"confirmed": "Int64", "deaths": "Int64"}
    cumulative_column = "confirmed"
    increasing_columns = ("confirmed",)

    def last_day(self) -> date:
        return max(
            _jhu_day(self, name)
            for name in _bundled_text(JHU_FILES["confirmed"]).split("\n", 1)[0].split(",")[len(JHU_KEYS) :]
        )

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        names = sorted(self.names(regions))
        responses = []
        for measure, file_name in JHU_FILES.items():
            text = _bundled_text(file_name)
            header, *rows = list(csv.reader(io.StringIO(text)))
            keep = [i for i, name in enumerate(header) if i < len(JHU_KEYS) or _in_range(name, start, end)]
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([header[i] for i in keep])
            writer.writerows(
                [row[i] for i in keep] for row in rows if len(row) > 1 and set(_jhu_names(row)) & set(names)
            )
            responses.append(({**_params(file_name, names, start, end), "measure": measure}, _answer(out.getvalue())))
        return Payload(responses_payload(responses), "jsonl", _params(list(JHU_FILES.values()), names, start, end))

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        named = self.names(regions)
        values: dict[str, dict] = {}  # region -> day -> measure -> province -> value
        found: set[str] = set()  # the names some row answers to
        problems: dict[str, SourceError] = {}
        for request, answer in read_responses(payload):
            measure = request.get("measure")
            reader = csv.reader(io.StringIO(answer.text(self, None, "(payload)")))
            header = next(reader, [])
            if header[: len(JHU_KEYS)] != JHU_KEYS or measure not in JHU_FILES:
                raise self.error(
                    None,
                    "(payload)",
                    f"schema change: expected the {measure} file to start with {JHU_KEYS}; observed {header[:4]}",
                )
            days = [_jhu_day(self, name) for name in header[len(JHU_KEYS) :]]
            seen = set()
            for row in reader:
                answered = [name for name in _jhu_names(row) if name in named]
                found.update(answered)
                for region in (named[name] for name in answered):
                    if (row[0], row[1]) in seen:
                        problems[region.id] = self.error(
                            region, "(payload)", f"expected one row per province; observed {row[1]!r} {row[0]!r} twice"
                        )
                    for day, value in zip(days, row[len(JHU_KEYS) :], strict=False):
                        if start <= day <= end:
                            by_day = values.setdefault(region.id, {}).setdefault(day, {"confirmed": {}, "deaths": {}})
                            by_day[measure][row[0]] = value
                seen.add((row[0], row[1]))
        for name in named.keys() - found:
            problems[named[name].id] = self.error(
                named[name],
                f"{start}..{end}",
                f"case_names.jhu: expected a Country/Region of the JHU files (its rows summed) or a"
                f" Country/Region/Province/State ('Canada/Ontario': that row); observed {name!r}, which no row has",
            )
        grouped: dict[str, list | SourceError] = {
            region_id: [{"date": day, "country": region_id, **measures} for day, measures in sorted(days.items())]
            for region_id, days in values.items()
        }
        return grouped | problems

    def row(self, record: dict, region: Region) -> dict:
        day = record["date"]
        totals = {}
        for measure in JHU_FILES:
            numbers = [self.number(value, region, day, measure) for value in record[measure].values()]
            totals[measure] = None if not numbers or None in numbers else sum(numbers)
        provinces = {measure: record[measure] for measure in JHU_FILES}
        return {
            "region": region.id,
            "date": day,
            "country_region": region.case_names["jhu"],
            **totals,
            "record": json.dumps(provinces, ensure_ascii=False, sort_keys=True),
        }


def _jhu_names(row: list[str]) -> tuple[str, str]:
    """The names a row of the JHU files answers to: its Country/Region, and Country/Region/Province/State."""
    return row[1], f"{row[1]}/{row[0]}"


def _jhu_day(source: Source, name: str) -> date:
    try:
        return datetime.strptime(name, "%m/%d/%y").date()
    except ValueError:
        raise source.error(None, name, f"a column of days: expected M/D/YY; observed {name!r}") from None


def _in_range(name: str, start: date, end: date) -> bool:
    try:
        return start <= datetime.strptime(name, "%m/%d/%y").date() <= end
    except ValueError:
        return True  # kept, for the parser to refuse by name


def bundled_period() -> tuple[date, date]:
    """The days the bundled Seoul station observations cover (the bundled cases cover them and more)."""
    return _period(WEATHER_FILE)
