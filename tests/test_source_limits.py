"""The live sources are registered, and their client-side rate limits hold calls to their windows."""

from __future__ import annotations

import time

import pytest

from cother.ingest.sources import get_source

pytestmark = pytest.mark.unit


def test_every_live_source_is_registered():
    assert {name for name in ("open_meteo", "kma_asos", "kdca", "who") if get_source(name)} == {
        "open_meteo",
        "kma_asos",
        "kdca",
        "who",
    }


def test_the_rate_limiter_holds_calls_to_the_window():
    from cother.ingest.sources.http import RateLimiter

    limiter = RateLimiter([(3, 0.5)])
    started = time.monotonic()
    for _ in range(4):
        limiter.acquire()
    assert time.monotonic() - started >= 0.5  # the fourth call waited for the window to pass


def test_a_request_that_weighs_several_calls_counts_as_several():
    from cother.ingest.sources.http import RateLimiter
    from cother.ingest.sources.open_meteo import call_weight

    assert call_weight(places=50, days=1, variables=12) == 60.0  # 50 places, 12 variables: 1.2 calls each
    limiter = RateLimiter([(100, 0.5)])
    started = time.monotonic()
    limiter.acquire(60)
    limiter.acquire(60)  # 120 > 100 in the window: waits for it to pass
    assert time.monotonic() - started >= 0.5
