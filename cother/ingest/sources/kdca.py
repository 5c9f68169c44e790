"""KDCA COVID-19 counts per province from data.go.kr (`ODMS_COVID_04/callCovid04Api`), one request a day
answers every province (no `gubun`).

`defCnt` is the cumulative count, `incDec` the day's change; numbers may arrive as strings. The API
was frozen on 2023-09-01. The service key comes from the environment or an Airflow connection. Two
items for one province and day: the latest correction wins, the other kept in its record
(`latest_corrections`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

from cother.ingest.sources.base import Payload, SourceError, parse_json, read_responses, responses_payload, where
from cother.ingest.sources.credentials import data_go_kr_service_key
from cother.ingest.sources.http import HttpSource
from cother_core.regions import Region

FIELDS = {
    "defCnt": "def_cnt",
    "incDec": "inc_dec",
    "deathCnt": "death_cnt",
    "isolClearCnt": "isol_clear_cnt",
    "localOccCnt": "local_occ_cnt",
    "overFlowCnt": "over_flow_cnt",
}
# The fields the platform reads (the cumulative cases and deaths). KDCA's items from 2022 on leave out
# isolClearCnt, and omit empty fields (overFlowCnt on a day without cases): the others are read when
# present, and kept in `record` as sent. KDCA also leaves deathCnt out while a province has had no death (Seoul
# in March 2020, Jeju in February 2021; Coronaboard's series says 0 on those days): such an item counts 0 deaths.
REQUIRED = ["gubun", "stdDay", "defCnt"]
COLUMNS = ["region", "date", "gubun", *FIELDS.values(), "record"]
ROWS_PER_DAY = 30  # every province, the national total and the airport quarantine on one page


class KdcaCases(HttpSource):
    name = "kdca"
    kind = "cases"
    raw_table = "raw.kdca_covid_cases"
    suite = "raw_kdca_covid_cases"
    columns = COLUMNS
    dtypes = {column: "Int64" for column in FIELDS.values()}
    cumulative_column = "def_cnt"
    increasing_columns = ("def_cnt", "death_cnt")
    region_names = ("kdca", "kdca name")
    url_setting = "kdca_url"
    max_days = 366  # one request a day: a year is 366 of a development key's 10,000 a day

    def weights(self, regions: list[Region], start: date, end: date) -> list[float]:
        return [1.0] * ((end - start).days + 1)

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        self.names(regions)
        key = data_go_kr_service_key(self.name)
        self.client.expect(self.weights(regions, start, end))
        responses = []
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            params = {"pageNo": 1, "numOfRows": ROWS_PER_DAY, "apiType": "JSON", "std_day": day.isoformat()}
            answer = self.client.get(self.url, params, where(regions, day, day), secret={"serviceKey": key})
            responses.append((params, answer))
        return Payload(responses_payload(responses), "jsonl", {"start": start.isoformat(), "end": end.isoformat()})

    def day_of(self, value: object, region: Region) -> date:
        """stdDay as YYYY-MM-DD or in the Korean form the portal also uses (2021년 10월 05일 00시)."""
        found = re.match(r"\s*(\d{4})\D+(\d{1,2})\D+(\d{1,2})", str(value))
        try:
            return date(*(int(part) for part in found.groups()))
        except (AttributeError, ValueError):
            raise self.error(region, value, f"stdDay: expected a date; observed {value!r}") from None

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        named = self.names(regions)
        grouped: dict[str, list] = {}
        for request, answer in read_responses(payload):
            day_text = request["std_day"]
            body = parse_json(self, answer, None, day_text)
            if body.get("resultCode") not in (None, "00"):
                raise self.error(
                    None,
                    day_text,
                    f"service error: expected resultCode 00; observed {body.get('resultCode')} {body.get('resultMsg')}",
                )
            items = body.get("items")
            if items is None:
                raise self.error(None, day_text, "schema change: expected items in the answer; observed none")
            for item in [items] if isinstance(items, dict) else items:
                if not isinstance(item, dict):
                    continue
                if not isinstance(item.get("gubun"), str):
                    raise self.error(
                        None, day_text, f"gubun: expected a province name, a string; observed {item.get('gubun')!r}"
                    )
                if region := named.get(item["gubun"]):
                    grouped.setdefault(region.id, []).append(item)
        kept: dict[str, list | SourceError] = {}
        for region in named.values():
            if region.id in grouped:
                try:
                    kept[region.id] = self.latest_corrections(grouped[region.id], region)
                except SourceError as error:
                    kept[region.id] = error
        return kept

    def row(self, item: dict, region: Region) -> dict:
        missing = [name for name in REQUIRED if name not in item]
        if missing:
            raise self.error(
                region, item.get("stdDay"), f"schema change: expected fields {missing}; observed an item without them"
            )
        day = self.day_of(item["stdDay"], region)
        values = {column: self.number(item.get(name), region, day, name) for name, column in FIELDS.items()}
        if "deathCnt" not in item:  # left out while it is 0 (REQUIRED)
            values["death_cnt"] = 0
        record = json.dumps(item, ensure_ascii=False, sort_keys=True)
        return {"region": region.id, "date": day, "gubun": item["gubun"], **values, "record": record}

    def latest_corrections(self, items: list[dict], region: Region) -> list[dict]:
        """One item per day: where KDCA sent two for the same province and day (it did in December 2020, one
        with a count it corrected later), the latest correction wins, by updateDt, else createDt, else the
        order of the answer; the items it replaced are kept in its record, under `superseded`."""
        by_day: dict[str, list[dict]] = {}
        for item in items:
            by_day.setdefault(str(item.get("stdDay")), []).append(item)
        kept = []
        for day, same_day in by_day.items():
            stamped = [(self.written_at(item, region, day), item) for item in same_day]
            # sorted() is stable: the answer's order breaks a tie; an item with neither date-time comes first
            *replaced, (_, latest) = sorted(stamped, key=lambda pair: (pair[0] is not None, pair[0] or datetime.min))
            kept.append({**latest, "superseded": [item for _, item in replaced]} if replaced else latest)
        return kept

    def written_at(self, item: dict, region: Region, day: str) -> datetime | None:
        """When KDCA last wrote the item: updateDt, else createDt. KDCA sends the string "null" for a
        date-time it has not set (the updateDt of an item it never corrected), like null and ""."""
        for name in ("updateDt", "createDt"):
            value = item.get(name)
            if value in (None, "", "null"):
                continue
            try:
                return datetime.fromisoformat(str(value))
            except ValueError:
                raise self.error(region, day, f"{name}: expected a date-time (or null); observed {value!r}") from None
        return None
