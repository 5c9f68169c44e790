"""Long waits say how long: a task waiting for a quota window or a retry prints a progress line (what it
waits for, the calls done and left, when it expects to go on) as the wait starts and again every
interval while it lasts, and the plan of a run whose calls exceed the quota windows says so before it
starts, with the least the waits take in all. The interval is 60 s; these tests make it short."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from answers import END, START, open_meteo_body, open_meteo_places
from fake_api import OPEN_METEO, Answer

from cother.ingest import landing, stages
from cother.ingest.sources import get_source
from cother.ingest.sources.open_meteo import OpenMeteoWeather
from cother_core.database import connect
from cother_core.regions import get_region, select

pytestmark = pytest.mark.integration

EVERY_S = 0.5
CLOCK = r"(?:\d{4}-\d\d-\d\d )?(\d\d:\d\d:\d\d) UTC"
QUOTA_LINE = re.compile(
    r"open_meteo: waiting for the quota window of 60 weighted calls in 2 s: (\d+) of 144 weighted calls done,"
    rf" (\d+) left, resuming at {CLOCK} \(in ([\d.]+) s\)"
)


def seconds_of_day(moment: datetime) -> float:
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def test_a_task_waiting_for_its_quota_window_says_so_every_interval(warehouse, api, monkeypatch, capsys):
    """120 places for three days are three requests, of 60, 60 and 24 weighted calls (50, 50 and 20
    places, 12 variables: 1.2 calls a place), against a window of 60 calls in 2 s: the second and the
    third each wait about 2 s for the one before to leave the window, four intervals, each wait saying
    so again after each."""
    assert get_source("open_meteo").client.progress_every_s == 60  # a task's interval; this test's is shorter
    monkeypatch.setenv("COTHER_OPEN_METEO_RATE_LIMIT", "60/2")
    arrivals = []

    def answer(params: dict) -> Answer:
        arrivals.append(datetime.now(UTC))
        return Answer(open_meteo_places(params))

    api.respond(OPEN_METEO, answer)
    regions = select("world", [])[:120]
    batch = landing.land(OpenMeteoWeather(progress_every_s=EVERY_S), regions, START, END)
    assert len(batch.regions) == 120 and len(arrivals) == 3

    lines = [line for line in capsys.readouterr().out.splitlines() if "waiting" in line]
    said = [QUOTA_LINE.fullmatch(line) for line in lines]
    assert all(said), lines  # every line of the wait says what for, done, left, when and how far off
    for done, left, request in ((60, 84, 1), (120, 24, 2)):
        waits = [match for match in said if (int(match[1]), int(match[2])) == (done, left)]
        assert len(waits) >= 2, lines  # a wait of four intervals says so more than once
        ins = [float(match[4]) for match in waits]
        assert ins == sorted(ins, reverse=True) and ins[0] <= 2.0, lines
        # the time it expects to go on (shown to the second, rounded down) is when the request went
        expected = datetime.strptime(waits[0][3], "%H:%M:%S")
        late = (seconds_of_day(arrivals[request]) - seconds_of_day(expected) + 43200) % 86400 - 43200
        assert 0 <= late < 10, (lines, arrivals)


def test_a_task_waiting_to_retry_says_so(warehouse, api, capsys):
    """A 429 asking for 1.5 s: the wait before the second attempt says why, what is done and when it
    goes on, and again after each interval."""
    api.script(OPEN_METEO, Answer("busy", 429, {"Retry-After": "1.5"}), Answer(open_meteo_body()))
    landing.land(OpenMeteoWeather(progress_every_s=EVERY_S), [get_region("seoul")], START, END)
    lines = [line for line in capsys.readouterr().out.splitlines() if "waiting" in line]
    retry = re.compile(
        rf"open_meteo: waiting to retry region seoul, dates {START}..{END} \(attempt 1 of 3: HTTP 429\):"
        rf" 0 of 1.2 weighted calls done, 1.2 left, resuming at {CLOCK} \(in [\d.]+ s\)"
    )
    assert len(lines) >= 2 and all(retry.fullmatch(line) for line in lines), lines


def test_the_plan_of_a_run_that_will_wait_for_its_quota_says_so_with_the_estimate(warehouse, monkeypatch, capsys):
    """Three years of the world set's weather are 4 requests of Open-Meteo, 18,396 weighted calls: the
    hourly window lets one through an hour and the daily window two a day, so the last goes 25 hours
    after the first. A day of it (235.2 weighted calls) fits, unless the windows are nearly full."""
    monkeypatch.setenv("COTHER_OPEN_METEO_RATE_LIMIT", "600/60,5000/3600,10000/86400")
    now = datetime.now(stages.SOURCE_TIMEZONE)
    params = {"region_set": "world", "weather_source": "open_meteo", "cases_source": "jhu"}
    stages.plan({**params, "start_date": "2020-03-01", "end_date": "2023-02-28"}, now)
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("open_meteo:")]
    assert re.fullmatch(
        r"open_meteo: 18,396 weighted calls in 4 request\(s\) for regions \w+,\w+,\w+,\w+,\w+ and 191 more, dates"
        r" 2020-03-01..2023-02-28, more than its quota windows allow at once \(600 weighted calls a minute, 5,000"
        r" weighted calls an hour, 10,000 weighted calls a day\): its land task will wait for them, at least 1 d 1 h"
        r" in all, its last request going at \d{4}-\d\d-\d\d \d\d:\d\d UTC at the earliest",
        line,
    ), line

    stages.plan({**params, "start_date": "2021-01-01"}, now)
    assert "open_meteo:" not in capsys.readouterr().out  # 235.2 calls: no window is exceeded

    with connect() as conn, conn.cursor() as cur:  # another run's calls, a moment ago
        cur.execute("insert into raw.source_calls (source, weight) values ('open_meteo', 9900)")
    stages.plan({**params, "start_date": "2021-01-01"}, now)
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("open_meteo:")]
    assert "235.2 weighted calls in 4 request(s)" in line and "at least 1 d 0 h in all" in line, line
