"""The live sources are registered, and their rate limits hold calls to their windows: counted in the
warehouse, so that one limit holds for every process and worker (the Celery test shows it across two
workers under Airflow)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from cother.ingest.sources import get_source
from cother.ingest.sources.http import RateLimiter, windows
from cother_core.database import connect


@pytest.mark.unit
def test_every_live_source_is_registered():
    assert {name for name in ("open_meteo", "kma_asos", "kdca", "who") if get_source(name)} == {
        "open_meteo",
        "kma_asos",
        "kdca",
        "who",
    }


@pytest.mark.unit
def test_a_rate_limit_setting_reads_as_windows_or_is_refused_by_its_form():
    assert windows("600/60,5000/3600") == [(600.0, 60.0), (5000.0, 3600.0)]
    for wrong in ("600", "600/60/2", "600/0", "many/60", ""):
        with pytest.raises(ValueError, match="calls/seconds windows"):
            windows(wrong)


@pytest.mark.integration
def test_the_rate_limiter_holds_calls_to_the_window(warehouse, monkeypatch):
    monkeypatch.setenv("COTHER_KMA_RATE_LIMIT", "3/0.5")
    limiter = RateLimiter("test_window", "kma_rate_limit")
    started = time.monotonic()
    for _ in range(4):
        limiter.acquire()
    assert time.monotonic() - started >= 0.5  # the fourth call waited for the window to pass


@pytest.mark.integration
def test_a_request_that_weighs_several_calls_counts_as_several(warehouse, monkeypatch):
    from cother.ingest.sources.open_meteo import call_weight

    assert call_weight(places=50, days=1, variables=12) == 60.0  # 50 places, 12 variables: 1.2 calls each
    monkeypatch.setenv("COTHER_OPEN_METEO_RATE_LIMIT", "100/0.5")
    limiter = RateLimiter("test_weight", "open_meteo_rate_limit")
    started = time.monotonic()
    limiter.acquire(60)
    limiter.acquire(60)  # 120 > 100 in the window: waits for it to pass
    assert time.monotonic() - started >= 0.5


CALLER = """
import sys
from cother.ingest.sources.http import RateLimiter
limiter = RateLimiter("test_shared", "kma_rate_limit")
for _ in range(int(sys.argv[1])):
    limiter.acquire()
"""


@pytest.mark.integration
def test_processes_share_one_limit(warehouse, monkeypatch):
    """Three processes ask for 4 calls each at once with 3 allowed a second: by the times the calls were
    counted (PostgreSQL's clock), no second holds more than 3 of the 12, which take at least 3 s in all (a
    limit per process would let 9 through in the first)."""
    monkeypatch.setenv("COTHER_KMA_RATE_LIMIT", "3/1,1000/3600")  # the hour window keeps every call on record
    callers = [subprocess.Popen([sys.executable, "-c", CALLER, "4"]) for _ in range(3)]
    assert [caller.wait(timeout=120) for caller in callers] == [0, 0, 0]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select extract(epoch from called_at)::float from raw.source_calls where source = 'test_shared'")
        stamps = sorted(stamp for (stamp,) in cur.fetchall())
    assert len(stamps) == 12
    assert max(sum(1 for t in stamps if start <= t < start + 1) for start in stamps) == 3
    assert stamps[-1] - stamps[0] >= 3
