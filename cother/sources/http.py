"""HTTP for the live sources: timeouts, retries with backoff and jitter, Retry-After, a client-side rate limit.

Retried: timeouts, connection errors, 429 and 5xx (honouring Retry-After, capped). Not retried: other
4xx, which are the request's fault. When the attempts are spent, SourceError names the source, the
region, the dates and what went wrong. The rate limit is per process; across Airflow workers the
ingestion DAG runs at most four `land` tasks at once (max_active_tis_per_dag), far below Open-Meteo's
published limits.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests

from cother.regions import Region
from cother.sources.base import Source, SourceError


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = field(default_factory=lambda: int(os.environ.get("COTHER_HTTP_ATTEMPTS", 5)))
    backoff_base_s: float = field(default_factory=lambda: _env_float("COTHER_HTTP_BACKOFF_BASE_S", 1.0))
    backoff_cap_s: float = field(default_factory=lambda: _env_float("COTHER_HTTP_BACKOFF_CAP_S", 60.0))
    connect_timeout_s: float = field(default_factory=lambda: _env_float("COTHER_HTTP_CONNECT_TIMEOUT_S", 5.0))
    read_timeout_s: float = field(default_factory=lambda: _env_float("COTHER_HTTP_READ_TIMEOUT_S", 60.0))

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform wait up to base * 2^attempt, capped."""
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))


class RateLimiter:
    """At most `calls` calls in any `period_s` seconds, for each (calls, period_s) window; blocks until allowed."""

    def __init__(self, windows: list[tuple[int, float]]) -> None:
        self.windows = [(calls, period, deque()) for calls, period in windows]
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                wait = 0.0
                for calls, period, stamps in self.windows:
                    while stamps and now - stamps[0] >= period:
                        stamps.popleft()
                    if len(stamps) >= calls:
                        wait = max(wait, period - (now - stamps[0]))
                if wait == 0.0:
                    for _, _, stamps in self.windows:
                        stamps.append(now)
                    return
            time.sleep(wait)


RETRIED_STATUS = {429, 500, 502, 503, 504}


def _retry_after(response: requests.Response, cap: float) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), cap)


class HttpClient:
    def __init__(self, source: str, policy: RetryPolicy | None = None, limiter: RateLimiter | None = None) -> None:
        self.source = source
        self.policy = policy  # None: read from the environment at each request
        self.limiter = limiter
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "co-ther/0.1 (+data pipeline)"

    def get(self, url: str, params: dict, where: str) -> requests.Response:
        """GET with retries; `where` ("region R, dates A..B") goes into every error."""
        policy = self.policy or RetryPolicy()
        problem = ""
        for attempt in range(policy.attempts):
            if self.limiter:
                self.limiter.acquire()
            wait = policy.backoff(attempt)
            try:
                response = self.session.get(
                    url, params=params, timeout=(policy.connect_timeout_s, policy.read_timeout_s)
                )
            except requests.Timeout:
                problem = f"timed out after {policy.read_timeout_s:g} s"
            except requests.ConnectionError as error:
                problem = f"connection failed: {error.__class__.__name__}"
            else:
                if response.status_code < 400:
                    return response
                problem = f"HTTP {response.status_code}: {response.text[:200]!r}"
                if response.status_code not in RETRIED_STATUS:
                    raise SourceError(f"{self.source}: {where}: {problem}")
                wait = _retry_after(response, policy.backoff_cap_s) or wait
            if attempt + 1 < policy.attempts:
                time.sleep(wait)
        raise SourceError(f"{self.source}: {where}: gave up after {policy.attempts} attempts, last: {problem}")


class HttpSource(Source):
    """A live source: its base URL from an environment variable (tests point it at loopback), one client."""

    url_variable: str
    default_url: str
    limiter: RateLimiter | None = None

    def __init__(self) -> None:
        self.client = HttpClient(self.name, limiter=self.limiter)

    @property
    def url(self) -> str:
        return os.environ.get(self.url_variable, self.default_url)

    def region_name(self, region: Region, value: str | None, what: str) -> str:
        """What this source calls the region (from config/regions.yml), or an error saying it has none."""
        if not value:
            raise SourceError(f"{self.name}: region {region.id}: no {what} in config/regions.yml")
        return value
