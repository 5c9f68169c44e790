"""The regions CO-THER forecasts, in sets: config/regions/<set>.yml (configuration, not code).

A run names a set (`korea`, the 17 provinces, by default; `world`, the countries; `world_weekly`, the
countries and areas of WHO's weekly file) and optionally a subset of its regions. Region ids are unique
across the sets. A set's cadence (`daily`, or `weekly`: weeks ending on Sunday) and its forecast
horizons (in steps of that cadence) are values the whole flow reads: one code path for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import yaml

from cother.core.settings import PROJECT_ROOT

REGIONS_DIR = PROJECT_ROOT / "config" / "regions"
REGION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    latitude: float | None = None  # the weather point; None where the bundled files give none
    longitude: float | None = None
    kma_station: str | None = None
    case_names: dict[str, str] = field(default_factory=dict)
    weather_names: dict[str, str] = field(default_factory=dict)


CADENCE_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True)
class RegionSet:
    name: str
    description: str
    regions: tuple[Region, ...]
    cadence: str = "daily"  # how often a region has a count: every day, or once a week (on its Sunday)
    horizons: tuple[int, ...] = (1, 7)  # how far ahead it is forecast, in steps of its cadence

    @property
    def ids(self) -> list[str]:
        return [region.id for region in self.regions]

    @property
    def step_days(self) -> int:
        """The days between two consecutive counts of a region."""
        return CADENCE_DAYS[self.cadence]

    @property
    def horizon_days(self) -> tuple[int, ...]:
        """The horizons in days (what ml.forecasts records): 1 and 7 for a daily set, 7 to 28 for a weekly one."""
        return tuple(horizon * self.step_days for horizon in self.horizons)


@cache
def region_sets() -> dict[str, RegionSet]:
    sets = {}
    for path in sorted(REGIONS_DIR.glob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        regions = tuple(Region(**entry) for entry in spec["regions"])
        bad = [region.id for region in regions if not REGION_ID.match(region.id)]
        if bad:
            raise ValueError(f"{path}: region ids {bad} are not lower-case identifiers")
        if spec.get("cadence", "daily") not in CADENCE_DAYS:
            raise ValueError(f"{path}: cadence {spec['cadence']!r}: expected one of {sorted(CADENCE_DAYS)}")
        horizons = tuple(spec.get("horizons", RegionSet.horizons))
        sets[spec["name"]] = RegionSet(
            spec["name"], spec.get("description", ""), regions, spec.get("cadence", "daily"), horizons
        )
    ids = [region_id for region_set in sets.values() for region_id in region_set.ids]
    repeated = sorted({region_id for region_id in ids if ids.count(region_id) > 1})
    if repeated:
        raise ValueError(f"{REGIONS_DIR}: region ids {repeated} appear more than once")
    return sets


@cache
def all_regions() -> dict[str, Region]:
    return {region.id: region for region_set in region_sets().values() for region in region_set.regions}


def get_region(region_id: str) -> Region:
    try:
        return all_regions()[region_id]
    except KeyError:
        raise KeyError(f"unknown region {region_id!r}; the sets in {REGIONS_DIR} do not have it") from None


def get_set(name: str) -> RegionSet:
    try:
        return region_sets()[name]
    except KeyError:
        raise KeyError(f"unknown region set {name!r}; known: {sorted(region_sets())} ({REGIONS_DIR})") from None


def set_of(region_id: str) -> str:
    """The name of the set a region belongs to."""
    for region_set in region_sets().values():
        if region_id in region_set.ids:
            return region_set.name
    raise KeyError(f"unknown region {region_id!r}; the sets in {REGIONS_DIR} do not have it")


def select(set_name: str, region_ids: list[str] | None = None) -> list[Region]:
    """The regions of a set, or the named ones of it (each must belong to the set), in the set's order."""
    region_set = get_set(set_name)
    if not region_ids:
        return list(region_set.regions)
    outside = [region_id for region_id in region_ids if region_id not in region_set.ids]
    if outside:
        raise KeyError(f"regions {outside} are not in the region set {set_name!r} ({REGIONS_DIR / set_name}.yml)")
    repeated = sorted({region_id for region_id in region_ids if region_ids.count(region_id) > 1})
    if repeated:
        raise ValueError(f"regions {repeated} are listed more than once")
    return [region for region in region_set.regions if region.id in region_ids]
