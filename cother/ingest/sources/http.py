"""HTTP for the live sources: timeouts, retries with backoff and jitter, Retry-After, a client-side rate limit.

Retried: timeouts, connection errors, answers cut short (fewer bytes than the server announced, a gzip
stream without its end), 429 and 5xx (honouring Retry-After, capped). Not retried: other 4xx, which
are the request's fault. An answer is its bytes as received (`Answer`), never text decoded on the way. When the attempts are spent, SourceError names the source, the
region, the dates and what went wrong. The rate limit is shared: every process and worker counts its
calls in the same table.
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime

import requests
import urllib3

from cother.core.database import connect
from cother.core.settings import get_settings
from cother.core.warehouse import ensure_warehouse
from cother.ingest.sources.base import Answer, Source, SourceDidNotAnswer, SourceError


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = field(default_factory=lambda: get_settings().http_attempts)
    backoff_base_s: float = field(default_factory=lambda: get_settings().http_backoff_base_s)
    backoff_cap_s: float = field(default_factory=lambda: get_settings().http_backoff_cap_s)
    connect_timeout_s: float = field(default_factory=lambda: get_settings().http_connect_timeout_s)
    read_timeout_s: float = field(default_factory=lambda: get_settings().http_read_timeout_s)

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform wait up to base * 2^attempt, capped."""
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))


def windows(limit: str) -> list[tuple[float, float]]:
    """A rate-limit setting, "calls/seconds" windows separated by commas, as (calls, seconds) pairs."""
    try:
        pairs = [tuple(float(number) for number in window.split("/")) for window in limit.split(",")]
    except ValueError:
        pairs = []
    if not pairs or any(len(pair) != 2 or min(pair) <= 0 for pair in pairs):
        raise ValueError(f"a rate limit is calls/seconds windows separated by commas, e.g. 600/60,5000/3600: {limit!r}")
    return pairs


class RateLimiter:
    """At most `calls` calls in any `seconds`, for each window of the source's limit setting; blocks until
    allowed. The calls are counted in the warehouse (raw.source_calls, on PostgreSQL's clock), so one limit
    holds for every task process and every worker, on one machine or many. A request may weigh more than
    one call (Open-Meteo counts a request for many places, many variables or many weeks as several)."""

    def __init__(self, name: str, setting: str) -> None:
        self.name = name
        self.setting = setting  # the field of Settings that holds the windows
        self.ready = False

    def acquire(self, weight: float = 1.0) -> None:
        limits = windows(getattr(get_settings(), self.setting))
        if not self.ready:
            ensure_warehouse()
            self.ready = True
        while (wait := self._take(limits, weight)) > 0:
            time.sleep(wait)

    def _take(self, limits: list[tuple[float, float]], weight: float) -> float:
        """Count the call and return 0 if every window allows it; else the seconds until the oldest call of
        the fullest window leaves it."""
        with connect() as conn, conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"rate limit {self.name}",))
            cur.execute(
                "delete from raw.source_calls where source = %s and called_at < clock_timestamp() - make_interval(secs => %s)",
                (self.name, max(seconds for _, seconds in limits)),
            )
            wait = 0.0
            for calls, seconds in limits:
                cur.execute(
                    "select coalesce(sum(weight), 0), extract(epoch from clock_timestamp() - min(called_at))::float"
                    " from raw.source_calls where source = %s and called_at > clock_timestamp() - make_interval(secs => %s)",
                    (self.name, seconds),
                )
                used, age = cur.fetchone()
                if age is not None and used + weight > calls:
                    wait = max(wait, seconds - age, 0.01)
            if wait == 0.0:
                cur.execute("insert into raw.source_calls (source, weight) values (%s, %s)", (self.name, weight))
        return wait


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


class CutShort(Exception):
    """The answer ended before the length its server announced, or before its gzip stream's end."""


def received(response: requests.Response) -> Answer:
    """The body as received, whole: as many bytes as the server announced, a gzip stream to its end."""
    try:
        raw = response.raw.read(decode_content=False)
    except urllib3.exceptions.ProtocolError as error:
        raise CutShort(f"the answer was cut short: {error}") from None
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and len(raw) != int(announced):
        raise CutShort(f"the answer was cut short: expected the {announced} bytes announced, observed {len(raw)}")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            content = unzip.decompress(raw) + unzip.flush()
        except zlib.error as error:
            raise CutShort(f"the gzip answer cannot be read: {error}") from None
        if not unzip.eof:
            raise CutShort(f"the answer was cut short: its gzip stream ends early, after {len(raw)} bytes")
    elif encoding == "identity":
        content = raw
    else:
        raise CutShort(f"the answer is in {encoding}, where gzip or none was asked for")
    header = Message()
    header["Content-Type"] = response.headers.get("Content-Type", "")
    return Answer(content, header.get_param("charset") or "utf-8")


class HttpClient:
    def __init__(self, source: str, policy: RetryPolicy | None = None, limiter: RateLimiter | None = None) -> None:
        self.source = source
        self.policy = policy  # None: read from the environment at each request
        self.limiter = limiter
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "co-ther/0.1 (+data pipeline)"
        self.session.headers["Accept-Encoding"] = "gzip"

    def get(self, url: str, params: dict, where: str, weight: float = 1.0) -> Answer:
        """GET with retries, the answer whole; `where` ("region R, dates A..B") goes into every error."""
        policy = self.policy or RetryPolicy()
        problem = ""
        for attempt in range(policy.attempts):
            if self.limiter:
                self.limiter.acquire(weight)
            wait = policy.backoff(attempt)
            try:
                with self.session.get(
                    url, params=params, timeout=(policy.connect_timeout_s, policy.read_timeout_s), stream=True
                ) as response:
                    answer = received(response)
            except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
                problem = f"timed out after {policy.read_timeout_s:g} s"
            except requests.ConnectionError as error:
                problem = f"connection failed: {error.__class__.__name__}"
            except CutShort as error:
                problem = str(error)
            else:
                if response.status_code < 400:
                    return answer
                problem = f"HTTP {response.status_code}: {answer.content[:200].decode('utf-8', errors='replace')!r}"
                if response.status_code not in RETRIED_STATUS:
                    raise SourceError(f"{self.source}: {where}: {problem}")
                wait = _retry_after(response, policy.backoff_cap_s) or wait
            if attempt + 1 < policy.attempts:
                time.sleep(wait)
        raise SourceDidNotAnswer(f"{self.source}: {where}: gave up after {policy.attempts} attempts, last: {problem}")


class HttpSource(Source):
    """A live source: its base URL from a setting (tests point it at loopback), one client."""

    url_setting: str  # the field of Settings that holds it
    limiter: RateLimiter | None = None

    def __init__(self) -> None:
        self.client = HttpClient(self.name, limiter=self.limiter)

    @property
    def url(self) -> str:
        return getattr(get_settings(), self.url_setting)
