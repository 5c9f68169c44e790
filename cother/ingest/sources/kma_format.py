"""KMA ASOS daily records (data.go.kr `AsosDalyInfoService` field names) to rows of raw.kma_asos_daily."""

from __future__ import annotations

import json
from datetime import date

from cother.ingest.sources.base import Source
from cother_core.regions import Region

# The fields typed in the raw table (the whole record is kept as received in `record`).
# °C, °C, °C, mm, m/s, m/s, %, °C, hPa, hours, tenths of sky.
KMA_FIELDS = ["avgTa", "minTa", "maxTa", "sumRn", "avgWs", "maxWs", "avgRhm", "avgTd", "avgPs", "sumSsHr", "avgTca"]
KMA_COLUMNS = ["region", "date", "stn_id", *(field.lower() for field in KMA_FIELDS), "record"]
KMA_DTYPES = {field.lower(): "float64" for field in KMA_FIELDS}
# The fields the model's weather features come from, by canonical column (stg_kma__weather_daily)
KMA_WEATHER_COLUMNS = {
    "temperature_mean_c": "avgta",
    "temperature_min_c": "minta",
    "temperature_max_c": "maxta",
    "precipitation_mm": "sumrn",
    "wind_speed_mean_ms": "avgws",
    "relative_humidity_mean_pct": "avgrhm",
    "pressure_msl_hpa": "avgps",
    "sunshine_hours": "sumsshr",
    "cloud_cover_mean_pct": "avgtca",
}


def kma_row(source: Source, record: dict, region: Region) -> dict:
    missing = [field for field in ["tm", "stnId", *KMA_FIELDS] if field not in record]
    if missing:
        raise source.error(
            region, record.get("tm"), f"schema change: expected fields {missing}; observed a record without them"
        )
    try:
        day = date.fromisoformat(record["tm"])
    except (TypeError, ValueError):
        raise source.error(region, record["tm"], f"tm: expected an ISO date; observed {record['tm']!r}") from None
    if str(record["stnId"]) != region.kma_station:
        raise source.error(
            region,
            day,
            f"station: expected stnId {region.kma_station!r}, the region's kma_station; observed {record['stnId']!r}",
        )
    values = {field.lower(): source.number(record[field], region, day, field) for field in KMA_FIELDS}
    if isinstance(record["sumRn"], str) and not record["sumRn"].strip():
        # KMA records a daily amount only when precipitation fell: its empty sumRn is a dry day, 0 mm (its
        # portal's exports say the same: a blank precipitation is no rain), not a missing observation
        values["sumrn"] = 0.0
    return {
        "region": region.id,
        "date": day,
        "stn_id": str(record["stnId"]),
        **values,
        "record": json.dumps(record, ensure_ascii=False, sort_keys=True),
    }
