"""Answers in the documented formats of the live APIs (see shared/data and docs/sources.md), for the
loopback stand-in (fake_api.py): Open-Meteo's archive, KMA ASOS, KDCA, WHO's daily CSV, and WHO's weekly
file (cut from the real one)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from cother.ingest.sources.open_meteo import UNITS

START, END = date(2022, 1, 1), date(2022, 1, 3)
DAYS = [START + timedelta(days=offset) for offset in range((END - START).days + 1)]


def open_meteo_body(days=DAYS, drop=(), rename=None, extra=None, units=None, latitude=37.6, longitude=127.0) -> str:
    """One place's answer; by default from the cell of ERA5-Land's 0.1° grid nearest Seoul's point (37.5714, 126.9658)."""
    daily = {
        "time": [day.isoformat() for day in days],
        "temperature_2m_mean": [-4.3] * len(days),
        "temperature_2m_min": [-10.2] * len(days),
        "temperature_2m_max": [2.3] * len(days),
        "precipitation_sum": [0.0] * len(days),
        "rain_sum": [None] * len(days),
        "wind_speed_10m_mean": [1.5] * len(days),
        "wind_speed_10m_max": [4.1] * len(days),
        "relative_humidity_2m_mean": [46.3] * len(days),
        "cloud_cover_mean": [14.0] * len(days),
        "sunshine_duration": [32400.0] * len(days),
        "pressure_msl_mean": [1030.9] * len(days),
        "dew_point_2m_mean": [-14.1] * len(days),
        **(extra or {}),
    }
    for name in drop:
        daily.pop(name)
    for old, new in (rename or {}).items():
        daily[new] = daily.pop(old)
    return json.dumps(
        {
            "latitude": latitude,
            "longitude": longitude,
            "elevation": 38.0,
            "generationtime_ms": 0.5,
            "utc_offset_seconds": 32400,
            "timezone": "Asia/Seoul",
            "timezone_abbreviation": "KST",
            "daily_units": {"time": "iso8601", **UNITS, **(units or {})},
            "daily": daily,
        }
    )


def open_meteo_places(params: dict, days=DAYS) -> str:
    """The answer to a request's query: one place's answer for each point asked, in the order asked, from
    the point itself (an array when it asked for several)."""
    points = zip(params["latitude"].split(","), params["longitude"].split(","), strict=True)
    places = [json.loads(open_meteo_body(days, latitude=float(lat), longitude=float(lon))) for lat, lon in points]
    return json.dumps(places if len(places) > 1 else places[0])


def kma_item(day: date, **changes) -> dict:
    item = {
        "stnId": "108", "stnNm": "서울", "tm": day.isoformat(), "avgTa": "-4.3", "minTa": "-10.2", "maxTa": "2.3",
        "sumRn": "", "avgWs": "1.5", "maxWs": "4.1", "avgRhm": "46.3", "avgTd": "-14.1", "avgPs": "1030.9",
        "sumSsHr": "9.0", "avgTca": "1.4",
    }  # fmt: skip
    return {**item, **changes}


def kma_body(items, total: int, page: int = 1, code: str = "00", message: str = "NORMAL_SERVICE") -> str:
    body = {"dataType": "JSON", "items": {"item": items}, "pageNo": page, "numOfRows": 999, "totalCount": total}
    return json.dumps(
        {"response": {"header": {"resultCode": code, "resultMsg": message}, "body": body}}, ensure_ascii=False
    )


def kdca_item(day: date, def_cnt: str, **changes) -> dict:
    """Seoul's item of the day (another province's with `gubun`). KDCA writes "null" for a date-time it
    has not set: the updateDt of an item it never corrected."""
    item = {
        "gubun": "서울", "gubunEn": "", "stdDay": f"{day:%Y}년 {day:%m}월 {day:%d}일 00시", "defCnt": def_cnt,
        "incDec": "100", "deathCnt": "10", "isolClearCnt": "5", "localOccCnt": "99", "overFlowCnt": "1",
        "createDt": f"{day} 09:30:00.000", "updateDt": "null",
    }  # fmt: skip
    return {**item, **changes}


def kdca_answer(items: list[dict]) -> str:
    return json.dumps(
        {"items": items, "pageNo": 1, "numOfRows": 30, "totalCount": len(items), "resultCode": "00"}, ensure_ascii=False
    )


def kdca_body(day: date, def_cnt: str, provinces=("서울", "부산", "합계")) -> str:
    return kdca_answer([kdca_item(day, def_cnt, gubun=name) for name in provinces])


def who_csv(days=DAYS) -> bytes:
    lines = ["Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,New_deaths,Cumulative_deaths"]
    for day in [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]:
        lines.append(f"{day},KR,Republic of Korea,WPR,5,{day.day * 10},0,1")
        lines.append(f"{day},JP,Japan,WPR,7,{day.day * 20},0,2")
    lines[3] = lines[3].replace(",5,", ",,")  # KR did not report on 2022-01-01
    return ("\n".join(lines) + "\n").encode()


PORTAL_ERROR = (
    "<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
    "<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg><returnReasonCode>30</returnReasonCode>"
    "</cmmMsgHeader></OpenAPI_ServiceResponse>"
)


def who_weekly_file(through: date, keep=lambda day, code: True, edit=lambda line: line) -> bytes:
    """WHO's real weekly file (the bundled copy) as it stood when `through` was its newest Sunday: its
    lines up to then, but for those `keep(day, country_code)` leaves out, each passed through `edit`."""
    from cother_core.settings import get_settings

    header, *lines = (get_settings().sample_dir / "who_covid19_global_weekly.csv").read_text("utf-8").splitlines()
    kept = [
        edit(line)
        for line in lines
        if (day := date.fromisoformat(line[:10])) <= through and keep(day, line.split(",", 2)[1])
    ]
    return ("\n".join([header, *kept]) + "\n").encode("utf-8")
