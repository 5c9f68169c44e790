"""The regions CO-THER forecasts, read from config/regions.yml (configuration, not code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import yaml

from cother.settings import PROJECT_ROOT

REGIONS_FILE = PROJECT_ROOT / "config" / "regions.yml"


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    latitude: float
    longitude: float
    kma_station: str | None = None
    case_names: dict[str, str] = field(default_factory=dict)


@cache
def all_regions() -> dict[str, Region]:
    entries = yaml.safe_load(REGIONS_FILE.read_text(encoding="utf-8"))["regions"]
    return {entry["id"]: Region(**entry) for entry in entries}


def get_region(region_id: str) -> Region:
    try:
        return all_regions()[region_id]
    except KeyError:
        raise KeyError(f"unknown region {region_id!r}; known: {sorted(all_regions())} (see {REGIONS_FILE})") from None
