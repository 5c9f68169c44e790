"""KMA ASOS daily observations from data.go.kr (`AsosDalyInfoService/getWthrDataList`), paged.

Every value arrives as a string, missing ones as ""; with a single result `item` is an object, not a
list. The service key comes from the environment or an Airflow connection and is never landed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from cother.regions import Region
from cother.sources.base import Payload, Source, parse_json, read_responses, responses_payload, where
from cother.sources.credentials import data_go_kr_service_key
from cother.sources.http import HttpSource
from cother.sources.kma_format import kma_frame

ROWS_PER_PAGE = 999


def items_of(source: Source, body: dict, region: Region, day: object) -> tuple[list[dict], int]:
    """The records of one data.go.kr response and the total count; raises on a service error."""
    response = body.get("response")
    if not isinstance(response, dict) or "header" not in response:
        raise source.error(region, day, "schema change: no response.header in the answer")
    header = response["header"]
    if header.get("resultCode") != "00":
        raise source.error(region, day, f"the API answered {header.get('resultCode')} {header.get('resultMsg')}")
    payload_body = response.get("body") or {}
    items = payload_body.get("items") or {}
    item = items.get("item", []) if isinstance(items, dict) else []
    records = [item] if isinstance(item, dict) else list(item)
    return records, int(payload_body.get("totalCount") or 0)


class KmaAsosWeather(HttpSource):
    name = "kma_asos"
    kind = "weather"
    raw_table = "raw.kma_asos_daily"
    suite = "raw_kma_asos_daily"
    url_variable = "COTHER_KMA_URL"
    default_url = "http://apis.data.go.kr/1360000/AsosDalyInfoService/getWthrDataList"

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        station = self.region_name(region, region.kma_station, "KMA station")
        key = data_go_kr_service_key(self.name)
        request = {
            "numOfRows": ROWS_PER_PAGE,
            "dataType": "JSON",
            "dataCd": "ASOS",
            "dateCd": "DAY",
            "startDt": start.strftime("%Y%m%d"),
            "endDt": end.strftime("%Y%m%d"),
            "stnIds": station,
        }
        responses, page, seen = [], 1, 0
        while True:
            params = {**request, "pageNo": page}
            text = self.client.get(self.url, {"serviceKey": key, **params}, where(region, start, end)).text
            responses.append((params, text))
            records, total = items_of(
                self, parse_json(self, text, region, f"{start}..{end}"), region, f"{start}..{end}"
            )
            seen += len(records)
            if not records or seen >= total:
                break
            page += 1
        return Payload(responses_payload(responses), "jsonl", {**request, "pages": page})

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        records = []
        for response in read_responses(payload):
            body = parse_json(self, response["body"], region, "(payload)")
            records.extend(items_of(self, body, region, "(payload)")[0])
        return kma_frame(self, records, region)
