"""Open-Meteo historical weather (archive API, no key): one request per region and date range.

Units as requested: °C, mm, m/s (wind_speed_unit=ms), %, hPa; sunshine_duration in seconds.
Free tier: 600 calls a minute, 5,000 an hour, 10,000 a day, enforced client-side.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from cother.regions import Region
from cother.sources.base import Payload, parse_json, where
from cother.sources.http import HttpSource, RateLimiter

DAILY = [
    "temperature_2m_mean",
    "temperature_2m_min",
    "temperature_2m_max",
    "precipitation_sum",
    "rain_sum",
    "wind_speed_10m_mean",
    "wind_speed_10m_max",
    "relative_humidity_2m_mean",
    "cloud_cover_mean",
    "sunshine_duration",
    "pressure_msl_mean",
    "dew_point_2m_mean",
]
COLUMNS = ["region", "date", *DAILY, "record"]
LIMITER = RateLimiter([(600, 60), (5_000, 3_600), (10_000, 86_400)])


class OpenMeteoWeather(HttpSource):
    name = "open_meteo"
    kind = "weather"
    raw_table = "raw.open_meteo_daily"
    suite = "raw_open_meteo_daily"
    url_variable = "COTHER_OPEN_METEO_URL"
    default_url = "https://archive-api.open-meteo.com/v1/archive"
    limiter = LIMITER

    def fetch(self, region: Region, start: date, end: date) -> Payload:
        params = {
            "latitude": region.latitude,
            "longitude": region.longitude,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "daily": ",".join(DAILY),
            "timezone": "Asia/Seoul",
            "wind_speed_unit": "ms",
        }
        response = self.client.get(self.url, params, where(region, start, end))
        return Payload(response.content, "json", params)

    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        body = parse_json(self, payload.decode("utf-8"), region, "(payload)")
        if body.get("error"):
            raise self.error(region, "(payload)", f"the API answered an error: {body.get('reason')}")
        daily = body.get("daily")
        if not isinstance(daily, dict) or "time" not in daily:
            raise self.error(region, "(payload)", "schema change: no daily.time in the response")
        missing = [name for name in DAILY if name not in daily]
        if missing:
            raise self.error(
                region,
                daily["time"][0] if daily["time"] else "(payload)",
                f"schema change: daily fields {missing} are missing",
            )
        days = daily["time"]
        ragged = [name for name, values in daily.items() if not isinstance(values, list) or len(values) != len(days)]
        if ragged:
            raise self.error(region, "(payload)", f"daily fields {ragged} do not have one value per day")
        rows = []
        for index, day_text in enumerate(days):
            try:
                day = date.fromisoformat(day_text)
            except (TypeError, ValueError):
                raise self.error(region, day_text, "daily.time is not an ISO date") from None
            record = {name: values[index] for name, values in daily.items()}
            values = {name: self.number(record[name], region, day, name) for name in DAILY}
            rows.append({"region": region.id, "date": day, **values, "record": json.dumps(record, sort_keys=True)})
        frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
        return frame.astype({name: "float64" for name in DAILY})
