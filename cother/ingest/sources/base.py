"""What every source provides: one payload as received for a set of regions and a date range, and
its parsed rows with a verdict per region.

A source is asked as few times as its API allows (one file for every country, one request a day for
every province, many places per request); `records` splits the payload by region, and a region the
payload does not answer for, or whose values cannot be read, fails alone.
"""

from __future__ import annotations

import base64
import json
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from cother_core.regions import Region

LARGEST = 1e15  # beyond every count and measure the sources send, and within an int64


class SourceError(RuntimeError):
    """A payload that cannot be read; the message names the source, region, date and rule."""


class SourceDidNotAnswer(SourceError):
    """A source that did not answer through all the HTTP client's attempts: it may answer later."""


class NothingToLoad(Exception):
    """A run with nothing to load, which is not a failure: a bundled source that ends before the range,
    or a weekly file that holds no new week yet. The message says so, in one line."""


@dataclass(frozen=True)
class Payload:
    content: bytes
    extension: str
    params: dict


@dataclass
class Parsed:
    """The rows of every region that could be read (sorted by region and date), why the others could not,
    and the reporting days of the range the payload has no row of for any region (see Source.gaps)."""

    frame: pd.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    gaps: list[date] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """The last day of a range asked for that a payload holds, and what the run is told about the rest."""

    last_day: date
    note: str | None = None


class Source(ABC):
    name: str
    kind: str  # "weather" or "cases"
    raw_table: str  # schema-qualified table the parsed records are published to
    suite: str  # expectation suite the batch must pass before it is published
    columns: list[str]  # the raw table's columns a parsed row holds
    dtypes: dict[str, str]  # their pandas types, where not object
    cumulative_column: str | None = None  # cases: the cumulative count checked against what is published
    increasing_columns: tuple[str, ...] = ()  # cumulative counts that may not fall within a batch
    # weather: the raw column each canonical weather column the model reads comes from (as staged by dbt)
    weather_columns: dict[str, str] = {}

    step_days = 1  # the days between two rows of a region: 1, or 7 for a weekly file (a row each Sunday)
    max_days: int | None = None  # the longest range one run may ask of a source that is asked day by day
    region_names: tuple[str, str] | None = None  # (key in config/regions, what it is) when asked by name

    # where a scheduled run of a weekly set starts when nothing of the source is published yet
    first_day: date | None = None

    def last_day(self) -> date | None:
        """The last day a bundled source holds; None for a live source, which answers up to yesterday."""
        return None

    def held(self, payload: bytes, regions: list[Region], start: date, end: date) -> Held:
        """The part of start..end the payload holds, decided once it has been fetched: the whole range
        for a source that answers every day it is asked for. A file published some days after the
        period it covers (WHO's weekly file) holds less; NothingToLoad when it holds none of it."""
        return Held(end)

    def gaps(self, payload: bytes, start: date, end: date) -> list[date]:
        """The reporting days of start..end the payload has no row of for any place at all: a gap of
        the source, which no region is refused for (its next cumulative count carries the cases). None
        for a source asked day by day, whose missing day is its region's."""
        return []

    def covers(self, region: Region) -> bool:
        """Whether the configuration gives this source a way to ask for the region; a region it does not
        cover is not asked (weather is optional: a region without it is trained with its weather missing)."""
        return True

    def quota_wait(self, regions: list[Region], start: date, end: date) -> str | None:
        """How long a fetch of these would wait for the source's quota windows, in a line for the run's
        plan; None when it would not (a bundled source has no quota)."""
        return None

    def take_redirects(self) -> list[dict]:
        """The redirects its answers followed since the last call (status, from, to), for the landing
        file's metadata; a source read from the bundle follows none."""
        return []

    @abstractmethod
    def fetch(self, regions: list[Region], start: date, end: date) -> Payload:
        """The payload for the regions and the inclusive date range, byte for byte as the source sent it."""

    @abstractmethod
    def records(self, payload: bytes, regions: list[Region], start: date, end: date) -> dict[str, list | SourceError]:
        """The payload's records of the range per region id (or why that region's part cannot be read);
        raises SourceError when the payload as a whole cannot be read."""

    @abstractmethod
    def row(self, record: dict, region: Region) -> dict:
        """One record as a row of the raw table; SourceError on a value that cannot be read."""

    def parse(self, payload: bytes, regions: list[Region], start: date, end: date) -> Parsed:
        grouped = self.records(payload, regions, start, end)
        rows, errors = [], {}
        for region in regions:
            found = grouped.get(region.id)
            if isinstance(found, SourceError):
                errors[region.id] = str(found)
            elif not found:
                errors[region.id] = str(
                    self.error(
                        region,
                        f"{start}..{end}",
                        "coverage: expected rows for this region; observed none in the answer",
                    )
                )
            else:
                try:
                    rows.extend([self.row(record, region) for record in found])
                except SourceError as error:
                    errors[region.id] = str(error)
        frame = pd.DataFrame.from_records(rows, columns=self.columns).astype(self.dtypes)
        return Parsed(frame.sort_values(["region", "date"], ignore_index=True), errors, self.gaps(payload, start, end))

    def error(self, region: Region | None, day: object, rule: str) -> SourceError:
        subject = f"region {region.id}" if region else "every region"
        return SourceError(f"{self.name}: {subject}, date {day}: {rule}")

    def number(self, value: object, region: Region, day: object, field: str) -> float | None:
        """A number sent as a number or a string; '' and null are missing; not a number, infinite or NaN
        spelled out, or larger than any count or measure (LARGEST), an error naming the field."""
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(region, day, f"field {field!r}: expected a number; observed {value!r}") from None
        if not math.isfinite(number):
            raise self.error(region, day, f"field {field!r}: expected a finite number; observed {value!r}")
        if abs(number) > LARGEST:
            raise self.error(
                region,
                day,
                f"field {field!r}: expected at most {LARGEST:.0e} in size; observed {value!r}",
            )
        return number

    def names(self, regions: list[Region]) -> dict[str, Region]:
        """What this source calls each region (config/regions/*.yml, under `region_names`), or an error
        naming those without, and for a case source two regions of one name (a count is one region's: the
        second would be published with the first's counts; a weather point may stand for two regions). The
        plan asks first, so a run that cannot be done fails once, at its plan."""
        _, what = self.region_names
        named: dict[str, Region] = {}
        for region in regions:
            value = self.asked_as(region)
            if not value:
                raise SourceError(f"{self.name}: region {region.id}: no {what} in config/regions")
            if self.kind == "cases" and value in named:
                raise SourceError(
                    f"{self.name}: regions {named[value].id} and {region.id}: {what}: expected one region per name"
                    f" (a count is one region's); observed {value!r} for both"
                )
            named[value] = region
        return named

    def asked_as(self, region: Region) -> str | None:
        """What a request asks this source for the region by: its name under `region_names` (None for a
        source that asks otherwise; one that asks by a station or a point says so). A landed batch keeps it
        per region, and is read for a region only while the configuration asks the same (landing.landed)."""
        if self.region_names is None:
            return None
        key = self.region_names[0]
        return region.case_names.get(key) or region.weather_names.get(key)


def where(regions: list[Region], start: date, end: date) -> str:
    ids = [region.id for region in regions]
    shown = ",".join(ids) if len(ids) <= 5 else f"{','.join(ids[:5])} and {len(ids) - 5} more"
    return f"region{'s' if len(ids) > 1 else ''} {shown}, dates {start}..{end}"


@dataclass(frozen=True)
class Answer:
    """One answer as received: its bytes (once the transfer's own compression is undone) and the
    character set its Content-Type declared (JSON's UTF-8 when it declared none)."""

    content: bytes
    charset: str = "utf-8"

    def text(self, source: Source, region: Region | None, day: object) -> str:
        """The answer decoded as declared; bytes that are not in that character set fail by name, never
        replaced (an EUC-KR answer labelled UTF-8 would otherwise be read as garbled names)."""
        try:
            return self.content.decode(self.charset)
        except LookupError:
            raise source.error(
                region, day, f"encoding: expected a charset Python knows; observed {self.charset!r}"
            ) from None
        except UnicodeDecodeError as error:
            raise source.error(
                region,
                day,
                f"encoding: expected text in {self.charset}, as declared; observed byte"
                f" 0x{self.content[error.start]:02x} at position {error.start}, which is not {self.charset}",
            ) from None


def responses_payload(responses: list[tuple[dict, Answer]]) -> bytes:
    """Several answers of one batch (pages, days, places) in one landed file: a JSON line per answer,
    with the request parameters (no secrets), the declared charset and the bytes exactly as received:
    as `body`, the text they spell, when they are UTF-8 (which gives back the very bytes), else as
    `body_base64`."""
    lines = []
    for request, answer in responses:
        try:
            body = {"body": answer.content.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"body_base64": base64.b64encode(answer.content).decode("ascii")}
        lines.append(json.dumps({"request": request, "charset": answer.charset, **body}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def read_responses(payload: bytes) -> list[tuple[dict, Answer]]:
    """The requests and answers of a file written by responses_payload."""
    answers = []
    for line in payload.decode("utf-8").splitlines():
        if line.strip():
            landed = json.loads(line)
            content = landed["body"].encode("utf-8") if "body" in landed else base64.b64decode(landed["body_base64"])
            answers.append((landed["request"], Answer(content, landed.get("charset", "utf-8"))))
    return answers


JSON_NAMES = {dict: "object", list: "array"}


def portal_error(text: str) -> str | None:
    """The reason data.go.kr gives in its XML error envelope (an unregistered or expired key, a quota
    spent), which it sends instead of the JSON asked for; None for anything else."""
    if "<OpenAPI_ServiceResponse>" not in text[:200]:
        return None
    fields = dict(re.findall(r"<(errMsg|returnAuthMsg|returnReasonCode)>([^<]*)</", text))
    return f"{fields.get('returnAuthMsg', '?')} ({fields.get('errMsg', '?')}, reason code {fields.get('returnReasonCode', '?')})"


def parse_json(source: Source, answer: Answer, region: Region | None, day: object, expect=dict) -> dict | list:
    text = answer.text(source, region, day)
    if reason := portal_error(text):
        raise source.error(region, day, f"service error: expected data; observed the error {reason}")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise source.error(
            region,
            day,
            f"malformed JSON: expected a whole JSON document; observed {error.msg} at character {error.pos}",
        ) from None
    if not isinstance(body, expect):
        wanted = " or ".join(JSON_NAMES[kind] for kind in (expect if isinstance(expect, tuple) else (expect,)))
        raise source.error(region, day, f"schema change: expected a JSON {wanted}; observed a {type(body).__name__}")
    return body
