"""KDCA COVID-19 counts per province from data.go.kr (`ODMS_COVID_04/callCovid04Api`), one request a day.

`defCnt` is the cumulative count, `incDec` the day's change; numbers may arrive as strings. The API
was frozen on 2023-09-01. The service key comes from the environment or an Airflow connection.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pandas as pd

from cother.regions import Region
from cother.sources.base import Payload, parse_json, read_responses, responses_payload, where
from cother.sources.credentials import data_go_kr_service_key
from cother.sources.http import HttpSource

FIELDS = {
    "defCnt": "def_cnt",
    "incDec": "inc_dec",
    "deathCnt": "death_cnt",
    "isolClearCnt": "isol_clear_cnt",
    "localOccCnt": "local_occ_cnt",
    "overFlowCnt": "over_flow_cnt",
}
COLUMNS = ["region", "date", "gubun", *FIELDS.values(), "record"]


class KdcaCases(HttpSource):
    name = "kdca"
    kind = "cases"
    raw_table = "raw.kdca_covid_cases"
    suite = "raw_kdca_covid_cases"
    cumulative_column = "def_cnt"
    url_variable = "COTHER_KDCA_URL"
    default_url = "http://apis.data.go.kr/1352000/ODMS_COVID_04/callCovid04Api"

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        gubun = self.region_name(region, region.case_names.get("kdca"), "kdca name")
        key = data_go_kr_service_key(self.name)
        responses = []
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            params = {"pageNo": 1, "numOfRows": 10, "apiType": "JSON", "std_day": day.isoformat(), "gubun": gubun}
            responses.append(
                (params, self.client.get(self.url, {"serviceKey": key, **params}, where(region, day, day)).text)
            )
        return Payload(
            responses_payload(responses), "jsonl", {"gubun": gubun, "start": start.isoformat(), "end": end.isoformat()}
        )

    def day_of(self, value: object, region: Region) -> date:
        """stdDay as YYYY-MM-DD or in the Korean form the portal also uses (2021년 10월 05일 00시)."""
        found = re.match(r"\s*(\d{4})\D+(\d{1,2})\D+(\d{1,2})", str(value))
        try:
            return date(*(int(part) for part in found.groups()))
        except (AttributeError, ValueError):
            raise self.error(region, value, "stdDay is not a date") from None

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        rows = []
        for response in read_responses(payload):
            day_text = response["request"]["std_day"]
            body = parse_json(self, response["body"], region, day_text)
            if body.get("resultCode") not in (None, "00"):
                raise self.error(region, day_text, f"the API answered {body.get('resultCode')} {body.get('resultMsg')}")
            items = body.get("items")
            if items is None:
                raise self.error(region, day_text, "schema change: no items in the answer")
            items = [items] if isinstance(items, dict) else items
            for item in items:
                missing = [name for name in ["gubun", "stdDay", *FIELDS] if name not in item]
                if missing:
                    raise self.error(region, day_text, f"schema change: fields {missing} are missing")
                day = self.day_of(item["stdDay"], region)
                values = {column: self.number(item[name], region, day, name) for name, column in FIELDS.items()}
                record = json.dumps(item, ensure_ascii=False, sort_keys=True)
                rows.append({"region": region.id, "date": day, "gubun": item["gubun"], **values, "record": record})
        frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
        return frame.astype({column: "Int64" for column in FIELDS.values()})
