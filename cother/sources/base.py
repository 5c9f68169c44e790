"""What every source provides: the payload as received for a (region, date range), and its parsed records."""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cother.regions import Region


class SourceError(RuntimeError):
    """A payload that cannot be read; the message names the source, region, date and rule."""


@dataclass(frozen=True)
class Payload:
    content: bytes
    extension: str
    params: dict


class Source(ABC):
    name: str
    kind: str  # "weather" or "cases"
    raw_table: str  # schema-qualified table the parsed records are published to
    suite: str  # expectation suite the batch must pass before it is published
    cumulative_column: str | None = None  # cases: the cumulative count checked against what is published

    @abstractmethod
    def fetch(self, region: Region, start: date, end: date) -> Payload:
        """The payload for the region and the inclusive date range, byte for byte as the source sent it."""

    @abstractmethod
    def parse(self, payload: bytes, region: Region, start: date, end: date) -> pd.DataFrame:
        """Records of the range in the raw table's columns (region, date, fields); SourceError on unreadable input."""

    def error(self, region: Region, day: object, rule: str) -> SourceError:
        return SourceError(f"{self.name}: region {region.id}, date {day}: {rule}")

    def number(self, value: object, region: Region, day: object, field: str) -> float | None:
        """A number sent as a number or a string; '' and null are missing, anything else is an error."""
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if isinstance(value, float) and math.isnan(value):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self.error(region, day, f"field {field!r} is not a number: {value!r}") from None


def where(region: Region, start: date, end: date) -> str:
    return f"region {region.id}, dates {start}..{end}"


def responses_payload(responses: list[tuple[dict, str]]) -> bytes:
    """Several responses of one batch (pages, days) in one landed file: a JSON line per response,
    with the request parameters (no secrets) and the body exactly as received."""
    lines = [json.dumps({"request": request, "body": body}, ensure_ascii=False) for request, body in responses]
    return ("\n".join(lines) + "\n").encode("utf-8")


def read_responses(payload: bytes) -> list[dict]:
    return [json.loads(line) for line in payload.decode("utf-8").splitlines() if line.strip()]


def parse_json(source: Source, text: str, region: Region, day: object) -> dict:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise source.error(region, day, f"malformed JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(body, dict):
        raise source.error(region, day, f"expected a JSON object, got {type(body).__name__}")
    return body
