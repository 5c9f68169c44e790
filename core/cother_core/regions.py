"""The regions CO-THER forecasts, in sets: <regions dir>/<set>.yml (configuration, not code; the directory is
COTHER_REGIONS_DIR, config/regions by default).

A run names a set (`korea`, the 17 provinces, by default; `world`, the countries; `world_weekly`, the
countries and areas of WHO's weekly file) and optionally a subset of its regions. Region ids are unique
across the sets. A set's cadence (`daily`, or `weekly`: weeks ending on Sunday) and its forecast
horizons (in steps of that cadence) are values the whole flow reads: one code path for both.

Every file is checked against the rules below when it is read; a file that breaks one is refused
whole, with every rule it breaks (file, line, region, expected and observed), and its set with it: the
other sets are read as if it were not there. A set is its file: its `name` is the file's name, so a
second file cannot take over a set. Files are read again when one of them changes.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from pathlib import Path

import yaml

from cother_core.settings import get_settings

REGION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# What each source calls a region is a key of case_names or weather_names: the sources' `region_names`
# (cother/ingest/sources; tests/test_region_files.py checks that every source's key is here).
NAME_KEYS = {"case_names": ("coronaboard", "kdca", "jhu", "who"), "weather_names": ("sample_open_meteo",)}


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
# A set's horizons when its file names none, in steps of its cadence: the next day and a week; 1 to 4
# weeks, as the forecast hubs ask
STANDARD_HORIZONS = {"daily": (1, 7), "weekly": (1, 2, 3, 4)}


@dataclass(frozen=True)
class RegionSet:
    name: str
    description: str
    regions: tuple[Region, ...]
    cadence: str = "daily"  # how often a region has a count: every day, or once a week (on its Sunday)
    horizons: tuple[int, ...] = STANDARD_HORIZONS["daily"]  # how far ahead it is forecast, in steps of its cadence
    path: Path | None = None  # the file it was read from

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


class RegionFileError(ValueError):
    """A region file refused: one line per rule it breaks, naming the file, line, region, expected and observed."""


SET_KEYS = ("name", "description", "cadence", "horizons", "regions")
REGION_KEYS = tuple(f.name for f in fields(Region))
BOUNDS = {"latitude": 90, "longitude": 180}


@dataclass(frozen=True)
class Registry:
    directory: Path
    sets: dict[str, RegionSet]  # the sets whose files pass every rule
    refused: dict[str, str]  # a refused file's set (its file's name) -> why, a line per broken rule

    @cached_property
    def regions(self) -> dict[str, Region]:
        return {region.id: region for region_set in self.sets.values() for region in region_set.regions}


def regions_dir() -> Path:
    return get_settings().regions_dir


def registry() -> Registry:
    """The region files of the directory as they stand: read again when a file is added, removed or changed."""
    directory = regions_dir()
    stats = [(path.name, path.stat()) for path in sorted(directory.glob("*.yml"))]
    return _read(directory, tuple((name, stat.st_ino, stat.st_mtime_ns, stat.st_size) for name, stat in stats))


@cache
def _read(directory: Path, stamps: tuple) -> Registry:
    sets, refused = {}, {}
    for name, *_ in stamps:
        path = directory / name
        try:
            sets[path.stem] = read_file(path)
        except RegionFileError as error:
            refused[path.stem] = str(error)
    for name, problems in _shared_ids(sets).items():
        del sets[name]
        refused[name] = "\n".join(problems)
    return Registry(directory, sets, refused)


def _shared_ids(sets: dict[str, RegionSet]) -> dict[str, list[str]]:
    """Per set, its region ids that another set has too: both are refused (the raw tables, forecasts and
    the Forecasts page key on the id alone, so neither set can say whose rows they are)."""
    owners: dict[str, list[RegionSet]] = {}
    for region_set in sets.values():
        for region_id in region_set.ids:
            owners.setdefault(region_id, []).append(region_set)
    problems: dict[str, list[str]] = {}
    for region_id, holders in owners.items():
        for holder in holders if len(holders) > 1 else []:
            others = ", ".join(str(other.path) for other in holders if other is not holder)
            problems.setdefault(holder.name, []).append(
                f"{holder.path}, region {region_id}: id: expected an id no other set has; observed it in {others} too"
            )
    return problems


def read_file(path: Path) -> RegionSet:
    """One region file as its set; RegionFileError naming every rule it breaks."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RegionFileError(f"{path}: expected UTF-8 text; observed byte {error.object[error.start]:#x}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        spec = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        line = _line(error.problem_mark.line + 1 if error.problem_mark else None)
        raise RegionFileError(f"{path}{line}: YAML syntax: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise RegionFileError(f"{path}: YAML syntax: {error}") from None
    finally:
        loader.dispose()
    problems = [
        f"{path}, line {line}: key {key!r}: expected a key once; observed it again" for key, line in _repeated(node)
    ]
    if not isinstance(spec, dict):
        observed = "an empty file" if spec is None else f"a {type(spec).__name__}"
        raise RegionFileError(
            f"{path}: expected a mapping with name, regions and optionally {SET_KEYS[1:4]}; observed {observed}"
        )
    lines = _lines(node)
    problems += [f"{path}{_line(lines.get(key))}: {problem}" for key, problem in _set_problems(spec, path.stem)]
    regions = spec.get("regions")
    if not isinstance(regions, list) or not regions:
        problems.append(
            f"{path}{_line(lines.get('regions'))}: regions: expected a list of regions; observed {reprlib.repr(regions)}"
        )
        regions = []
    region_lines = [item.start_mark.line + 1 for item in _value(node, "regions").value] if regions else []
    cadence = spec.get("cadence", "daily")  # what a region's rules depend on, checked by _set_problems
    seen: dict[str, int] = {}
    for entry, line in zip(regions, region_lines, strict=True):
        region_id = entry.get("id") if isinstance(entry, dict) else None
        where = f"{path}, line {line}, region {region_id if isinstance(region_id, str) else '(no id)'}"
        problems += [f"{where}: {problem}" for problem in _region_problems(entry, cadence)]
        if isinstance(region_id, str) and region_id in seen:
            problems.append(f"{where}: id: expected an id once in the file; observed it on line {seen[region_id]} too")
        elif isinstance(region_id, str):
            seen[region_id] = line
    if problems:
        raise RegionFileError("\n".join(problems))
    return RegionSet(
        name=spec["name"],
        description=spec.get("description", ""),
        regions=tuple(Region(**entry) for entry in regions),
        cadence=cadence,
        horizons=tuple(spec.get("horizons", STANDARD_HORIZONS[cadence])),
        path=path,
    )


def _set_problems(spec: dict, stem: str) -> list[tuple[str, str]]:
    """(key, rule broken) for the set's own keys."""
    problems = [(key, _unknown(key, SET_KEYS)) for key in spec if key not in SET_KEYS]
    if spec.get("name") != stem:
        problems.append(
            ("name", f"name: expected {stem!r}, the file's name (a set is its file); observed {spec.get('name')!r}")
        )
    if not isinstance(spec.get("description", ""), str):
        problems.append(("description", f"description: expected text; observed {spec['description']!r}"))
    if not isinstance(spec.get("cadence", "daily"), str) or spec.get("cadence", "daily") not in CADENCE_DAYS:
        problems.append(("cadence", f"cadence: expected one of {sorted(CADENCE_DAYS)}; observed {spec['cadence']!r}"))
    horizons = spec.get("horizons", [1])
    steps = isinstance(horizons, list) and horizons and all(type(h) is int and h > 0 for h in horizons)
    if not steps or horizons != sorted(set(horizons)):
        problems.append(
            (
                "horizons",
                f"horizons: expected a list of steps ahead, whole numbers from 1 up, ascending, each once; observed {horizons!r}",
            )
        )
    return problems


def _region_problems(entry: object, cadence: str) -> list[str]:
    """The rules one region's entry breaks."""
    if not isinstance(entry, dict):
        return [f"expected a mapping of {REGION_KEYS}; observed {entry!r}"]
    problems = [_unknown(key, REGION_KEYS) for key in entry if key not in REGION_KEYS]
    region_id = entry.get("id")
    if not isinstance(region_id, str) or not REGION_ID.match(region_id):
        problems.append(f"id: expected a lower-case identifier ([a-z][a-z0-9_]*); observed {region_id!r}")
    if not isinstance(entry.get("name"), str) or not entry["name"].strip():
        problems.append(f"name: expected text; observed {entry.get('name')!r}")
    point = [key for key in BOUNDS if entry.get(key) is not None]
    if len(point) == 1 or (cadence == "daily" and not point):
        rule = "a daily set's region has a weather point" if cadence == "daily" else "both or neither"
        problems.append(
            f"latitude, longitude: expected both ({rule}); observed {f'{point[0]} only' if point else 'neither'}"
        )
    for key in point:
        value = entry[key]
        if type(value) not in (int, float) or not -BOUNDS[key] <= value <= BOUNDS[key]:
            problems.append(f"{key}: expected a number from -{BOUNDS[key]} to {BOUNDS[key]}; observed {value!r}")
    station = entry.get("kma_station")
    if station is not None and not (isinstance(station, str) and station.isdigit()):
        problems.append(f'kma_station: expected a station number in quotes ("108"); observed {station!r}')
    for key, sources in NAME_KEYS.items():
        names = entry.get(key, {})
        if not isinstance(names, dict):
            problems.append(f"{key}: expected a mapping of source to name; observed {names!r}")
            continue
        problems += [f"{key}.{_unknown(source, sources)}" for source in names if source not in sources]
        problems += [
            f"{key}.{source}: expected a name (text); observed {name!r}"
            for source, name in names.items()
            if not isinstance(name, str) or not name.strip()
        ]
    return problems


def _unknown(key: object, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{key}: expected one of {list(known)}; observed an unknown key{hint}"


def _repeated(node: yaml.Node | None):
    """(key, line) of every key a mapping of the document has twice (YAML would keep the last silently)."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield key.value, key.start_mark.line + 1
                seen.add(key.value)
            yield from _repeated(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _repeated(item)


def _line(line: int | None) -> str:
    return f", line {line}" if line else ""


def _lines(node: yaml.MappingNode) -> dict[str, int]:
    return {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def _value(node: yaml.MappingNode, key: str) -> yaml.Node:
    """The node of a key's value; the last one, as YAML reads it, when the key is there twice."""
    return [value for name, value in node.value if name.value == key][-1]


def region_sets() -> dict[str, RegionSet]:
    """The sets whose files pass every rule."""
    return registry().sets


def all_regions() -> dict[str, Region]:
    return registry().regions


def _unknown_region(region_id: str) -> KeyError:
    refused = registry().refused
    besides = f" (refused, and not read: {', '.join(f'{name}.yml' for name in sorted(refused))})" if refused else ""
    return KeyError(f"unknown region {region_id!r}; the sets in {regions_dir()} do not have it{besides}")


def get_region(region_id: str) -> Region:
    try:
        return all_regions()[region_id]
    except KeyError:
        raise _unknown_region(region_id) from None


def get_set(name: str) -> RegionSet:
    """The set of that name; RegionFileError when its file is refused, KeyError when there is no such file."""
    found = registry()
    if name in found.refused:
        raise RegionFileError(f"region set {name!r} is refused:\n{found.refused[name]}")
    try:
        return found.sets[name]
    except KeyError:
        raise KeyError(f"unknown region set {name!r}; known: {sorted(found.sets)} ({regions_dir()})") from None


def set_of(region_id: str) -> str:
    """The name of the set a region belongs to."""
    for region_set in region_sets().values():
        if region_id in region_set.ids:
            return region_set.name
    raise _unknown_region(region_id)


def select(set_name: str, region_ids: list[str] | None = None) -> list[Region]:
    """The regions of a set, or the named ones of it (each must belong to the set), in the set's order."""
    region_set = get_set(set_name)
    if not region_ids:
        return list(region_set.regions)
    outside = [region_id for region_id in region_ids if region_id not in region_set.ids]
    if outside:
        raise KeyError(f"regions {outside} are not in the region set {set_name!r} ({region_set.path})")
    repeated = sorted({region_id for region_id in region_ids if region_ids.count(region_id) > 1})
    if repeated:
        raise ValueError(f"regions {repeated} are listed more than once")
    return [region for region in region_set.regions if region.id in region_ids]
