"""WHO COVID-19 global daily data (CSV, no key): the national series of the region's country code.

One request returns the whole global file; the landed payload is that file, gzip-compressed (the
bytes inside are as received). `New_cases` is blank where a country did not report.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date

import pandas as pd

from cother.regions import Region
from cother.sources.base import Payload, where
from cother.sources.http import HttpSource

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
    cumulative_column = "cumulative_cases"
    url_variable = "COTHER_WHO_URL"
    default_url = "https://srhdpeuwpubsa.blob.core.windows.net/whdh/COVID/WHO-COVID-19-global-daily-data.csv"

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        code = self.region_name(region, region.case_names.get("who"), "who country code")
        response = self.client.get(self.url, {}, where(region, start, end))
        params = {"url": self.url, "country_code": code, "start": start.isoformat(), "end": end.isoformat()}
        return Payload(gzip.compress(response.content, mtime=0), "csv.gz", params)

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        code = region.case_names.get("who")
        reader = csv.DictReader(io.StringIO(gzip.decompress(payload).decode("utf-8-sig")))
        missing = [name for name in HEADER if name not in (reader.fieldnames or [])]
        if missing:
            raise self.error(region, "(payload)", f"schema change: columns {missing} are missing")
        rows = []
        for row in reader:
            if row["Country_code"] != code:
                continue
            try:
                day = date.fromisoformat(row["Date_reported"])
            except ValueError:
                raise self.error(region, row["Date_reported"], "Date_reported is not an ISO date") from None
            if not start <= day <= end:
                continue
            values = {column: self.number(row[name], region, day, name) for name, column in FIELDS.items()}
            record = json.dumps(row, ensure_ascii=False, sort_keys=True)
            rows.append({"region": region.id, "date": day, "country_code": code, **values, "record": record})
        frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
        return frame.astype({column: "Int64" for column in FIELDS.values()})
