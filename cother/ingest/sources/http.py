"""HTTP for the live sources: timeouts, a deadline, retries with backoff and jitter, Retry-After, a
size limit, redirects kept to where a key may go, a client-side rate limit.

Retried: timeouts, connection errors, answers cut short (fewer bytes than the server announced, a gzip
stream without its end), an attempt past its deadline (COTHER_HTTP_DEADLINE_S, from sending the request
to the answer's last byte: the read timeout bounds each read only, and a server may send a byte at a
time), more than MAX_REDIRECTS redirects (a loop: a server misconfigured, which may pass as an outage
does), 429 and 5xx (honouring Retry-After, capped). Not retried: other 4xx, which are the request's
fault, and what the client refuses: an answer larger than COTHER_HTTP_MAX_ANSWER_MB as received or once
inflated (refused as it streams in, never held whole), a redirect away from the configured origin of a request that carries a secret (the data.go.kr key goes to
the configured host only). Redirects are followed by the client, each recorded (status, from, to,
without the query, which may hold the key) for the landing file's metadata. An answer is its bytes as
received (`Answer`), never text decoded on the way. When the attempts are spent, SourceError names the
source, the region, the dates and what went wrong. The rate limit is shared: every process and worker
counts its calls in the same table.

A wait, for a quota window or before a retry, prints a line to the task's log (`Progress`): what it
waits for, how many of the fetch's calls are done and left, and when it expects to go on, as it starts
and at least every PROGRESS_EVERY_S (60 s) while it lasts: a live first load of the world set waits a
day for Open-Meteo's daily quota. `HttpSource.quota_wait` tells the run's plan how long, at least.
"""

from __future__ import annotations

import math
import random
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from cother.ingest.sources.base import Answer, Source, SourceDidNotAnswer, SourceError, where
from cother_core.database import connect
from cother_core.regions import Region
from cother_core.settings import get_settings
from cother_core.warehouse import ensure_warehouse


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = field(default_factory=lambda: get_settings().http_attempts)
    backoff_base_s: float = field(default_factory=lambda: get_settings().http_backoff_base_s)
    backoff_cap_s: float = field(default_factory=lambda: get_settings().http_backoff_cap_s)
    connect_timeout_s: float = field(default_factory=lambda: get_settings().http_connect_timeout_s)
    read_timeout_s: float = field(default_factory=lambda: get_settings().http_read_timeout_s)
    deadline_s: float = field(default_factory=lambda: get_settings().http_deadline_s)
    max_answer_bytes: int = field(default_factory=lambda: int(get_settings().http_max_answer_mb * 1e6))

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


PROGRESS_EVERY_S = 60.0  # while a fetch waits, the longest between two of its progress lines
PER = {60: "a minute", 3600: "an hour", 86400: "a day"}


def amount(calls: float) -> str:
    """A number of calls as the lines show it: 3,908, or 20.4 for weighted calls."""
    return f"{calls:,.1f}".removesuffix(".0")


def duration(seconds: float) -> str:
    """12.5 s, 41 min, 5 h 2 min, 1 d 1 h."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def clock(seconds: float) -> str:
    """The time `seconds` from now, in UTC: 13:04 (13:04:05 within a minute), its date too when not today."""
    now = datetime.now(UTC)
    at = now + timedelta(seconds=seconds)
    shown = at.strftime("%H:%M:%S" if seconds < 60 else "%H:%M")
    return f"{shown if at.date() == now.date() else at.strftime('%Y-%m-%d ') + shown} UTC"


def window_text(calls: float, seconds: float, unit: str) -> str:
    """A quota window as the lines name it: 5,000 weighted calls an hour; 3 calls in 0.5 s."""
    return f"{amount(calls)} {unit} {PER.get(seconds, f'in {seconds:g} s')}"


class Progress:
    """A fetch's calls, done and expected (`total`, None when unknown), and the lines its waits print to
    the task's log: what it waits for, the calls done and left, when it expects to go on. A wait prints
    one as it starts (a wait shorter than `every_s` only when no line came within `every_s`: a window
    that lets a call through every few seconds does not print a line each time) and one after each
    `every_s` it goes on. Shared by the threads of a fetch."""

    def __init__(
        self, source: str, total: float | None = None, unit: str = "calls", every_s: float = PROGRESS_EVERY_S
    ) -> None:
        self.source, self.total, self.unit, self.every_s = source, total, unit, every_s
        self.done = 0.0
        self.said_at = -math.inf  # time.monotonic() of the last line
        self.lock = threading.Lock()

    def count(self, calls: float) -> None:
        with self.lock:
            self.done += calls

    def wait(self, seconds: float, what: str) -> None:
        """Sleep `seconds`, in slices of at most every_s, saying what for as due."""
        end = time.monotonic() + seconds
        due = seconds >= self.every_s  # a long wait says so as it starts
        while (left := end - time.monotonic()) > 0:
            self.say(what, left, due)
            due = left > self.every_s  # the slice below is a whole every_s, and the wait goes on after it
            time.sleep(min(left, self.every_s))

    def say(self, what: str, left: float, due: bool) -> None:
        with self.lock:
            if not due and time.monotonic() - self.said_at < self.every_s:
                return
            self.said_at = time.monotonic()
            done = f"{amount(self.done)} {self.unit} done"
            if self.total is not None:
                done = f"{amount(self.done)} of {amount(self.total)} {self.unit} done, {amount(self.total - self.done)} left"
        print(f"{self.source}: {what}: {done}, resuming at {clock(left)} (in {duration(left)})", flush=True)


def _wait_for(held: list[tuple[float, float, float, float | None]], weight: float) -> tuple[float, tuple | None]:
    """The limit's rule: how long a call of `weight` waits, and for which window (calls, seconds), given
    each window's (calls, seconds, the weight of the calls it holds, the age of its oldest one, None when
    it holds none). A window has room when the call fits in it, or when it is empty (one request may weigh
    more than a window allows); else the call waits for its oldest call to leave it. (0.0, None): it goes."""
    wait, window = 0.0, None
    for calls, seconds, used, age in held:
        if age is not None and used + weight > calls:
            leaves = max(seconds - age, 0.01)  # at least 0.01 s: a wait, not a spin
            if leaves > wait:
                wait, window = leaves, (calls, seconds)
    return wait, window


def _held(made: list[tuple[float, float]], now: float, calls: float, seconds: float) -> tuple:
    """A window's state for _wait_for at `now`, from the calls made (when, weight)."""
    inside = [(at, weight) for at, weight in made if at > now - seconds]
    oldest = min((at for at, _ in inside), default=None)
    return calls, seconds, sum(weight for _, weight in inside), None if oldest is None else now - oldest


class RateLimiter:
    """At most `calls` calls in any `seconds`, for each window of the source's limit setting; blocks until
    allowed. The calls are counted in the warehouse (raw.source_calls, on PostgreSQL's clock), so one limit
    holds for every task process and every worker, on one machine or many. A request may weigh more than
    one call (Open-Meteo counts a request for many places, many variables or many weeks as several: its
    `unit` is weighted calls)."""

    def __init__(self, name: str, setting: str, unit: str = "calls") -> None:
        self.name = name
        self.setting = setting  # the field of Settings that holds the windows
        self.unit = unit

    def limits(self) -> list[tuple[float, float]]:
        ensure_warehouse()  # raw.source_calls, which counts the calls (once per process)
        return windows(getattr(get_settings(), self.setting))

    def acquire(self, weight: float = 1.0, progress: Progress | None = None) -> None:
        """Count a call of `weight` once every window allows it, meanwhile waiting, as `progress` says."""
        limits = self.limits()
        progress = progress or Progress(self.name, unit=self.unit)
        while (taken := self._take(limits, weight))[0] > 0:
            wait, (calls, seconds) = taken
            progress.wait(wait, f"waiting for the quota window of {window_text(calls, seconds, self.unit)}")

    def _take(self, limits: list[tuple[float, float]], weight: float) -> tuple[float, tuple | None]:
        """Count the call and return (0.0, None) if every window allows it; else the seconds until the
        oldest call of the fullest window leaves it, and that window."""
        with connect() as conn, conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"rate limit {self.name}",))
            cur.execute(
                "delete from raw.source_calls where source = %s and called_at < clock_timestamp() - make_interval(secs => %s)",
                (self.name, max(seconds for _, seconds in limits)),
            )
            held = []
            for calls, seconds in limits:
                cur.execute(
                    "select coalesce(sum(weight), 0), extract(epoch from clock_timestamp() - min(called_at))::float"
                    " from raw.source_calls where source = %s and called_at > clock_timestamp() - make_interval(secs => %s)",
                    (self.name, seconds),
                )
                held.append((calls, seconds, *cur.fetchone()))
            taken = _wait_for(held, weight)
            if taken[0] == 0.0:
                cur.execute("insert into raw.source_calls (source, weight) values (%s, %s)", (self.name, weight))
        return taken

    def least_wait(self, weights: list[float]) -> float:
        """The least requests of these weights, made one after another from now, wait in all: the limit's
        rule played out over the calls its windows hold now, as if the requests took no time and nothing
        else called the source."""
        limits = self.limits()
        with connect() as conn, conn.cursor() as cur:
            cur.execute(
                "select extract(epoch from called_at - clock_timestamp())::float, weight from raw.source_calls"
                " where source = %s and called_at > clock_timestamp() - make_interval(secs => %s)",
                (self.name, max(seconds for _, seconds in limits)),
            )
            made = cur.fetchall()  # (when, in seconds from now, weight)
        now = 0.0
        for weight in weights:
            while wait := _wait_for([_held(made, now, calls, seconds) for calls, seconds in limits], weight)[0]:
                now += wait
            made.append((now, weight))
        return now


RETRIED_STATUS = {429, 500, 502, 503, 504}


def _retry_after(headers: Mapping[str, str], cap: float) -> float | None:
    value = headers.get("Retry-After")
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


class Unanswered(Exception):
    """An attempt that brought no whole answer (timed out, cut off, cut short): the next may."""


class Refused(Exception):
    """An answer the client will not take, by its rule: every attempt would meet it again."""


MAX_REDIRECTS = 5
CHUNK_BYTES = 65536


def received(response: requests.Response, most: int) -> Answer:
    """The body as received, whole: as many bytes as the server announced, a gzip stream to its end;
    Refused as soon as it is larger than `most` bytes, as received or inflated."""
    limit = f"expected at most {most:,} bytes an answer (COTHER_HTTP_MAX_ANSWER_MB); observed"
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > most:
        raise Refused(f"size: {limit} {int(announced):,} announced")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity"):
        raise CutShort(f"the answer is in {encoding}, where gzip or none was asked for")
    unzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    parts, size, inflated = [], 0, 0
    try:
        for chunk in response.raw.stream(CHUNK_BYTES, decode_content=False):
            size += len(chunk)
            part = unzip.decompress(chunk, most + 1 - inflated) if unzip else chunk
            inflated += len(part)
            if inflated > most:
                state = f"{size:,} bytes received" + (", more once inflated" if unzip else "")
                raise Refused(f"size: {limit} more, after {state}")
            parts.append(part)
    except urllib3.exceptions.ProtocolError as error:
        raise CutShort(f"the answer was cut short: {error}") from None
    except zlib.error as error:
        raise CutShort(f"the gzip answer cannot be read: {error}") from None
    if unzip and not unzip.eof:
        raise CutShort(f"the answer was cut short: its gzip stream ends early, after {size} bytes")
    header = Message()
    header["Content-Type"] = response.headers.get("Content-Type", "")
    return Answer(b"".join(parts), header.get_param("charset") or "utf-8")


class Deadline:
    """One attempt's deadline: when it passes, the socket of the request under way (a connection's, as
    the thread's _Watched connection hands it over) is shut, which ends any read waiting on it."""

    current = threading.local()  # the deadline of the attempt each thread is making

    def __init__(self, seconds: float) -> None:
        self.passed = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def __enter__(self) -> Deadline:
        Deadline.current.deadline = self
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()
        Deadline.current.deadline = None

    def watch(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.passed:
                _shut(sock)

    def expire(self) -> None:
        with self.lock:
            self.passed = True
            for sock in self.sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to wait on


class _Watched:
    """A connection whose socket is watched by the deadline of the attempt its thread is making, from the
    moment it waits for the answer's headers to the answer's last byte."""

    def getresponse(self):
        if deadline := getattr(Deadline.current, "deadline", None):
            deadline.watch(self.sock)
        return super().getresponse()


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, its connections (direct or through an HTTP proxy) watched by deadlines."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # a SOCKS proxy's pools are its own
            manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _shown(url: str) -> str:
    """A URL without its query, which may hold a key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class Exchange:
    status: int
    headers: Mapping[str, str]
    answer: Answer
    redirects: list[dict]  # each followed: status, from, to


class HttpClient:
    def __init__(
        self,
        source: str,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        progress_every_s: float = PROGRESS_EVERY_S,
    ) -> None:
        self.source = source
        self.policy = policy  # None: read from the environment at each request
        self.limiter = limiter
        self.unit = limiter.unit if limiter else "calls"
        self.progress_every_s = progress_every_s
        self.progress = Progress(source, unit=self.unit, every_s=progress_every_s)  # the fetch's, once expected
        self.session = requests.Session()
        self.session.mount("http://", _WatchedAdapter())
        self.session.mount("https://", _WatchedAdapter())
        self.session.headers["User-Agent"] = "co-ther/0.1 (+data pipeline)"
        self.session.headers["Accept-Encoding"] = "gzip"
        self.redirects: list[dict] = []  # followed by the answers taken since take_redirects last ran

    def take_redirects(self) -> list[dict]:
        """The redirects followed by the answers taken since the last call."""
        taken, self.redirects = self.redirects, []
        return taken

    def expect(self, weights: list[float]) -> None:
        """Count a fetch's calls from none: it makes requests of these weights (as its rate limit counts
        them), for the lines its waits print."""
        self.progress = Progress(self.source, sum(weights), self.unit, self.progress_every_s)

    def get(self, url: str, params: dict, where: str, weight: float = 1.0, secret: dict | None = None) -> Answer:
        """GET with retries, the answer whole; `where` ("region R, dates A..B") goes into every error;
        `secret` (a key) is sent with `params` to the configured origin only."""
        policy = self.policy or RetryPolicy()
        problem = ""
        for attempt in range(policy.attempts):
            if self.limiter:
                self.limiter.acquire(weight, self.progress)
            wait = policy.backoff(attempt)
            try:
                exchange = self.attempt(url, {**params, **(secret or {})}, bool(secret), policy)
            except Unanswered as error:
                problem = reason = str(error)
            except Refused as error:
                raise SourceError(f"{self.source}: {where}: {error}") from None
            else:
                if exchange.status < 400:
                    self.redirects.extend(exchange.redirects)
                    self.progress.count(weight)
                    return exchange.answer
                text = exchange.answer.content[:200].decode("utf-8", errors="replace")
                reason = f"HTTP {exchange.status}"
                problem = f"{reason}: {text!r}"
                if exchange.status not in RETRIED_STATUS:
                    raise SourceError(f"{self.source}: {where}: {problem}")
                wait = _retry_after(exchange.headers, policy.backoff_cap_s) or wait
            if attempt + 1 < policy.attempts:
                self.progress.wait(
                    wait, f"waiting to retry {where} (attempt {attempt + 1} of {policy.attempts}: {reason})"
                )
        raise SourceDidNotAnswer(f"{self.source}: {where}: gave up after {policy.attempts} attempts, last: {problem}")

    def attempt(self, url: str, params: dict, keyed: bool, policy: RetryPolicy) -> Exchange:
        """One attempt within its deadline, its redirects followed; Unanswered when it brought no whole
        answer."""
        deadline = Deadline(policy.deadline_s)
        problem = ""
        try:
            with deadline:
                exchange = self.follow(url, params, keyed, policy)
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            problem = f"timed out after {policy.read_timeout_s:g} s"
        except requests.ConnectionError as error:
            problem = f"connection failed: {error.__class__.__name__}"
        except CutShort as error:
            problem = str(error)
        if deadline.passed:  # whatever came before the socket was shut is not the whole answer
            raise Unanswered(
                f"deadline: expected the whole answer within {policy.deadline_s:g} s (COTHER_HTTP_DEADLINE_S);"
                " observed it still coming then"
            )
        if problem:
            raise Unanswered(problem)
        return exchange

    def follow(self, url: str, params: dict, keyed: bool, policy: RetryPolicy) -> Exchange:
        """The answer at the end of the request's redirects, each to its Location as given."""
        origin, redirects = _origin(url), []
        while True:
            with self.session.get(
                url,
                params=params,
                timeout=(policy.connect_timeout_s, policy.read_timeout_s),
                stream=True,
                allow_redirects=False,
            ) as response:
                answer = received(response, policy.max_answer_bytes)
            if not response.is_redirect:
                return Exchange(response.status_code, response.headers, answer, redirects)
            target = urljoin(response.url, response.headers["Location"])
            redirects.append({"status": response.status_code, "from": _shown(response.url), "to": _shown(target)})
            hops = " -> ".join([redirects[0]["from"], *(hop["to"] for hop in redirects)])
            if len(redirects) > MAX_REDIRECTS:  # a loop: a server misconfigured for now, as a server down
                raise Unanswered(
                    f"redirects: expected an answer within {MAX_REDIRECTS} redirects; observed more: {hops}"
                )
            if keyed and _origin(target) != origin:
                raise Refused(
                    f"redirect: expected answers from {origin}, as configured, where the request's key may go;"
                    f" observed HTTP {response.status_code} to {_origin(target)} ({hops}), not followed"
                )
            url, params = target, None


class HttpSource(Source):
    """A live source: its base URL from a setting (tests point it at loopback), one client."""

    url_setting: str  # the field of Settings that holds it
    limiter: RateLimiter | None = None

    def __init__(self, progress_every_s: float = PROGRESS_EVERY_S) -> None:
        self.client = HttpClient(self.name, limiter=self.limiter, progress_every_s=progress_every_s)

    def weights(self, regions: list[Region], start: date, end: date) -> list[float]:
        """The requests a fetch of these makes, each by its weight as the rate limit counts it (at most, for
        a source whose answers say how many pages there are): one request, by default."""
        return [1.0]

    def quota_wait(self, regions: list[Region], start: date, end: date) -> str | None:
        weights = self.weights(regions, start, end)
        if not self.limiter or not (seconds := self.limiter.least_wait(weights)):
            return None
        limits = ", ".join(window_text(calls, span, self.limiter.unit) for calls, span in self.limiter.limits())
        return (
            f"{self.name}: {amount(sum(weights))} {self.limiter.unit} in {len(weights)} request(s) for"
            f" {where(regions, start, end)}, more than its quota windows allow at once ({limits}): its land task"
            f" will wait for them, at least {duration(seconds)} in all, its last request going at {clock(seconds)}"
            " at the earliest"
        )

    def take_redirects(self) -> list[dict]:
        return self.client.take_redirects()

    @property
    def url(self) -> str:
        return getattr(get_settings(), self.url_setting)
