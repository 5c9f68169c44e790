"""KMA ASOS daily observations from data.go.kr (`AsosDalyInfoService/getWthrDataList`), paged.

The API answers one station per request: a batch asks for its stations concurrently (four at a
time, within the rate limit) and lands every page of every station in one file, one JSON line each.
Pages are asked until the answer's `totalCount`, but never beyond the items the request can hold, one
a day of the range.

Every value arrives as a string, missing ones as "" (but an empty `sumRn` is a dry day: 0 mm); with a
single result `item` is an object, not a list. Every item must be of the station asked for (`stnId`, the
region's `kma_station`). The service key comes from the environment or an Airflow connection and is
never landed.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from cother.ingest.sources.base import (
    Answer,
    Payload,
    Source,
    SourceError,
    parse_json,
    read_responses,
    responses_payload,
    where,
)
from cother.ingest.sources.credentials import data_go_kr_service_key
from cother.ingest.sources.http import HttpSource, RateLimiter
from cother.ingest.sources.kma_format import KMA_COLUMNS, KMA_DTYPES, KMA_WEATHER_COLUMNS, kma_row
from cother_core.regions import Region

ROWS_PER_PAGE = 999
CONCURRENT_REQUESTS = 4  # one station per request: at most four in flight
LIMITER = RateLimiter("kma_asos", "kma_rate_limit")


def items_of(source: Source, body: dict, region: Region, day: object) -> tuple[list[dict], int]:
    """The records of one data.go.kr response and the total count; raises on a service error."""
    response = body.get("response")
    if not isinstance(response, dict) or "header" not in response:
        raise source.error(region, day, "schema change: expected response.header in the answer; observed none")
    header = response["header"]
    if header.get("resultCode") != "00":
        raise source.error(
            region,
            day,
            f"service error: expected resultCode 00; observed {header.get('resultCode')} {header.get('resultMsg')}",
        )
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
    columns = KMA_COLUMNS
    dtypes = KMA_DTYPES
    weather_columns = KMA_WEATHER_COLUMNS
    url_setting = "kma_url"
    limiter = LIMITER

    def weights(self, regions: list[Region], start: date, end: date) -> list[float]:
        pages = math.ceil(((end - start).days + 1) / ROWS_PER_PAGE)  # at most: one item a day
        return [1.0] * (len(regions) * pages)

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        stations = {region.id: self.station(region) for region in regions}
        key = data_go_kr_service_key(self.name)
        self.client.expect(self.weights(regions, start, end))
        with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
            pages = pool.map(lambda region: self.pages(region, stations[region.id], key, start, end), regions)
            responses = [response for station_pages in pages for response in station_pages]
        return Payload(
            responses_payload(responses), "jsonl", {"stations": stations, "start": str(start), "end": str(end)}
        )

    def asked_as(self, region: Region) -> str | None:
        return region.kma_station

    def station(self, region: Region) -> str:
        if not region.kma_station:
            raise SourceError(f"{self.name}: region {region.id}: no KMA station in config/regions")
        return region.kma_station

    def pages(self, region: Region, station: str, key: str, start: date, end: date) -> list[tuple[dict, Answer]]:
        """Every page of one station's answer, with the region it was asked for."""
        request = {
            "numOfRows": ROWS_PER_PAGE,
            "dataType": "JSON",
            "dataCd": "ASOS",
            "dateCd": "DAY",
            "startDt": start.strftime("%Y%m%d"),
            "endDt": end.strftime("%Y%m%d"),
            "stnIds": station,
        }
        days = (end - start).days + 1  # the most items the request can hold: one a day
        responses, page, seen = [], 1, 0
        while True:
            params = {**request, "pageNo": page}
            answer = self.client.get(self.url, params, where([region], start, end), secret={"serviceKey": key})
            responses.append(({**params, "region": region.id}, answer))
            try:
                records, total = items_of(
                    self, parse_json(self, answer, region, f"{start}..{end}"), region, f"{start}..{end}"
                )
            except SourceError:
                break  # landed as received; the parser fails this region by name
            seen += len(records)
            if not records or seen >= min(total, days):  # a totalCount beyond the days asked is not paged for
                break
            page += 1
        return responses

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        by_id = {region.id: region for region in regions}
        grouped: dict[str, list | SourceError] = {}
        for request, answer in read_responses(payload):
            region = by_id.get(request.get("region"))
            if region is None or isinstance(grouped.get(region.id), SourceError):
                continue
            try:
                body = parse_json(self, answer, region, f"{start}..{end}")
                grouped.setdefault(region.id, []).extend(items_of(self, body, region, f"{start}..{end}")[0])
            except SourceError as error:
                grouped[region.id] = error
        return grouped

    def row(self, record: dict, region: Region) -> dict:
        return kma_row(self, record, region)
