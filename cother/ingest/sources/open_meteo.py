"""Open-Meteo historical weather (archive API, no key): many places per request.

Comma-separated latitudes and longitudes ask for up to PLACES_PER_REQUEST places at once; the answer
is then a JSON array of the one-place answers, in the order asked (a single place: one object), each
with the coordinates of the grid cell it was read from, which must lie within GRID_TOLERANCE_DEG of the
point asked (an answer out of order gives no region another's weather). The requests of a batch land
together, one JSON line each. Units as requested: °C, mm, m/s
(wind_speed_unit=ms), %, hPa; sunshine_duration in seconds. Free tier: 600 calls a minute, 5,000 an
hour, 10,000 a day, where Open-Meteo counts a request as several calls: one per place, times the
number of 14-day spans, times the tenths of variables over 10. The client-side limiter counts the same.
"""

from __future__ import annotations

import json
import math
from datetime import date
from urllib.parse import urlsplit, urlunsplit

from cother.ingest.sources.base import Payload, SourceError, parse_json, read_responses, responses_payload, where
from cother.ingest.sources.http import HttpSource, RateLimiter
from cother_core.regions import Region

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
# The units asked for (wind_speed_unit=ms; the others are the API's defaults), as daily_units names them.
UNITS = {
    **dict.fromkeys(["temperature_2m_mean", "temperature_2m_min", "temperature_2m_max", "dew_point_2m_mean"], "°C"),
    **dict.fromkeys(["precipitation_sum", "rain_sum"], "mm"),
    **dict.fromkeys(["wind_speed_10m_mean", "wind_speed_10m_max"], "m/s"),
    **dict.fromkeys(["relative_humidity_2m_mean", "cloud_cover_mean"], "%"),
    "sunshine_duration": "s",
    "pressure_msl_mean": "hPa",
}
COLUMNS = ["region", "date", *DAILY, "record"]
# The variables the model's weather features come from, by canonical column (stg_open_meteo__weather_daily)
WEATHER_COLUMNS = {
    "temperature_mean_c": "temperature_2m_mean",
    "temperature_min_c": "temperature_2m_min",
    "temperature_max_c": "temperature_2m_max",
    "precipitation_mm": "precipitation_sum",
    "wind_speed_mean_ms": "wind_speed_10m_mean",
    "relative_humidity_mean_pct": "relative_humidity_2m_mean",
    "pressure_msl_hpa": "pressure_msl_mean",
    "sunshine_hours": "sunshine_duration",
    "cloud_cover_mean_pct": "cloud_cover_mean",
}
# How far, in degrees of latitude and of longitude, the grid cell an answer was read from may lie from the
# point asked. The archive's default model (best_match) reads ERA5, on a 0.25° grid, and ERA5-Land, on
# 0.1° (https://open-meteo.com/en/docs/historical-weather-api, "Data Sources"); its default
# cell_selection=land takes, of the 3x3 cells around the nearest one, the one whose elevation is closest
# to the point's (same page, "cell_selection"; findPointTerrainOptimised in open-meteo/open-meteo):
# half a cell to the nearest and one more cell, 0.125° + 0.25° on the coarser grid.
GRID_TOLERANCE_DEG = 0.375
LIMITER = RateLimiter("open_meteo", "open_meteo_rate_limit", "weighted calls")
PLACES_PER_REQUEST = 50
ARCHIVE_PATH = "/v1/archive"


def archive_endpoint(url: str) -> str:
    """The URL as given when it names a path, else the archive API's path on that host."""
    parts = urlsplit(url)
    return url if parts.path.strip("/") else urlunsplit(parts._replace(path=ARCHIVE_PATH))


def call_weight(places: int, days: int, variables: int) -> float:
    """How many calls Open-Meteo counts for one request."""
    return places * max(1.0, days / 14) * max(1.0, variables / 10)


def chunks(regions: list[Region]) -> list[list[Region]]:
    """The regions of each request, PLACES_PER_REQUEST at most."""
    return [regions[first : first + PLACES_PER_REQUEST] for first in range(0, len(regions), PLACES_PER_REQUEST)]


class OpenMeteoTable:
    """Where a source in Open-Meteo's daily variables publishes, and its suite (the archive API, the bundle)."""

    kind = "weather"
    raw_table = "raw.open_meteo_daily"
    suite = "raw_open_meteo_daily"
    columns = COLUMNS
    dtypes = dict.fromkeys(DAILY, "float64")
    weather_columns = WEATHER_COLUMNS


class OpenMeteoWeather(OpenMeteoTable, HttpSource):
    name = "open_meteo"
    url_setting = "open_meteo_url"
    limiter = LIMITER

    @property
    def url(self) -> str:
        """The archive endpoint; a base URL (https://archive-api.open-meteo.com) is taken as its host's."""
        return archive_endpoint(super().url)

    def asked_as(self, region: Region) -> str | None:
        return f"{region.latitude:g},{region.longitude:g}"  # the point, as the request writes it

    def weights(self, regions: list[Region], start: date, end: date) -> list[float]:
        days = (end - start).days + 1
        return [call_weight(len(chunk), days, len(DAILY)) for chunk in chunks(regions)]

    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        responses = []
        weights = self.weights(regions, start, end)
        self.client.expect(weights)
        for chunk, weight in zip(chunks(regions), weights, strict=True):
            params = {
                "latitude": ",".join(f"{region.latitude:g}" for region in chunk),
                "longitude": ",".join(f"{region.longitude:g}" for region in chunk),
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "daily": ",".join(DAILY),
                "timezone": "auto",
                "wind_speed_unit": "ms",
            }
            answer = self.client.get(self.url, params, where(chunk, start, end), weight)
            responses.append(({**params, "regions": [region.id for region in chunk]}, answer))
        return Payload(responses_payload(responses), "jsonl", {"requests": len(responses), "places": len(regions)})

    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        grouped: dict[str, list | SourceError] = {}
        for request, answer in read_responses(payload):
            asked = request["regions"]
            body = parse_json(self, answer, None, f"{start}..{end}", expect=(dict, list))
            if isinstance(body, dict) and body.get("error"):
                raise self.error(
                    None, f"{start}..{end}", f"service error: expected data; observed the error {body.get('reason')}"
                )
            places = body if isinstance(body, list) else [body]
            if len(places) != len(asked):
                raise self.error(
                    None,
                    f"{start}..{end}",
                    f"places: expected {len(asked)}, as asked; observed {len(places)} in the answer",
                )
            points = zip(request["latitude"].split(","), request["longitude"].split(","), strict=True)
            for region_id, place, point in zip(asked, places, points, strict=True):
                try:
                    self.located(place, region_id, tuple(map(float, point)), f"{start}..{end}")
                    grouped[region_id] = self.days(place, region_id)
                except SourceError as error:
                    grouped[region_id] = error
        return grouped

    def located(self, place: object, region_id: str, asked: tuple[float, float], dates: str) -> None:
        """SourceError unless the place's answer was read from a grid cell within GRID_TOLERANCE_DEG of
        the point asked for the region (the answers of a request come in the order asked)."""
        region = Region(region_id, region_id, *asked)  # for the messages only
        latitude, longitude = (
            (place.get("latitude"), place.get("longitude")) if isinstance(place, dict) else (None, None)
        )
        if not all(isinstance(value, int | float) for value in (latitude, longitude)):
            raise self.error(
                region,
                dates,
                f"coordinates: expected the latitude and longitude of the grid cell answered for; observed"
                f" {latitude!r}, {longitude!r}",
            )
        off_latitude = abs(latitude - asked[0])
        off_longitude = abs((longitude - asked[1] + 180) % 360 - 180)  # across the antimeridian too
        if not (off_latitude <= GRID_TOLERANCE_DEG and off_longitude <= GRID_TOLERANCE_DEG):  # NaN is not within
            raise self.error(
                region,
                dates,
                f"coordinates: expected a grid cell within {GRID_TOLERANCE_DEG}° of {asked[0]:g}, {asked[1]:g},"
                f" as asked; observed {latitude:g}, {longitude:g}",
            )

    def days(self, place: object, region_id: str) -> list[dict]:
        region = Region(region_id, region_id, math.nan, math.nan)  # for the messages only
        daily = place.get("daily") if isinstance(place, dict) else None
        if not isinstance(daily, dict) or "time" not in daily:
            raise self.error(region, "(payload)", "schema change: expected daily.time in the answer; observed none")
        first = daily["time"][0] if daily["time"] else "(payload)"
        missing = [name for name in DAILY if name not in daily]
        if missing:
            raise self.error(
                region, first, f"schema change: expected daily fields {missing}; observed an answer without them"
            )
        units = place.get("daily_units") or {}
        wrong = [
            f"expected {name} in {unit}; observed {units[name]}"
            for name, unit in UNITS.items()
            if units.get(name) not in (None, "", unit)
        ]
        if wrong:
            raise self.error(region, first, f"unit change: {'; '.join(wrong)}")
        ragged = [
            name for name, values in daily.items() if not isinstance(values, list) or len(values) != len(daily["time"])
        ]
        if ragged:
            raise self.error(
                region,
                "(payload)",
                f"daily fields {ragged}: expected one value per day ({len(daily['time'])}); observed"
                f" {[len(daily[name]) if isinstance(daily[name], list) else daily[name] for name in ragged]}",
            )
        return [{name: values[index] for name, values in daily.items()} for index in range(len(daily["time"]))]

    def row(self, record: dict, region: Region) -> dict:
        try:
            day = date.fromisoformat(record["time"])
        except (TypeError, ValueError):
            raise self.error(
                region, record["time"], f"daily.time: expected an ISO date; observed {record['time']!r}"
            ) from None
        values = {name: self.number(record[name], region, day, name) for name in DAILY}
        for name, value in record.items():  # kept whole in `record`, a jsonb column: JSON has no NaN or Infinity
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                raise self.error(
                    region, day, f"field {name!r}: expected a number or null; observed {json.dumps(value)}, not JSON"
                ) from None
        return {"region": region.id, "date": day, **values, "record": json.dumps(record, sort_keys=True)}
