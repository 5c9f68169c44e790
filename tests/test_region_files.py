"""Region files are checked when they are read (issue 32 §4): a file that breaks a rule is refused at the
plan of its own set, naming the file, the line, the region and the rule; the other sets plan as before."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from cother.ingest import stages
from cother.ingest.sources import SOURCES
from cother.ingest.stages import PlanError
from cother_core import clock, regions

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(clock.SOURCE_TIMEZONE)
KOREA = {"weather_source": "sample_open_meteo", "cases_source": "sample_cases", "start_date": "2021-01-01"}
WORLD = {"weather_source": "sample_open_meteo", "cases_source": "jhu", "start_date": "2021-01-01"}


@pytest.fixture
def regions_dir(tmp_path, monkeypatch) -> Path:
    """A regions directory of the test's own, holding the Korean set's file."""
    monkeypatch.setenv("COTHER_REGIONS_DIR", str(tmp_path))
    shutil.copy(ROOT / "config" / "regions" / "korea.yml", tmp_path / "korea.yml")
    return tmp_path


def one_region(set_name: str, region: str, header: str = "") -> str:
    return f"name: {set_name}\n{header}regions:\n{region}\n"


def refusal(set_name: str, source: dict = WORLD) -> str:
    with pytest.raises(PlanError) as refused:
        stages.plan({**source, "region_set": set_name}, NOW)
    return str(refused.value)


def test_each_broken_file_is_refused_at_its_own_plan_naming_file_line_region_and_rule(regions_dir):
    files = {
        # a copy of the Korean file under another name: it cannot take the Korean set over
        "korea_copy.yml": (ROOT / "config" / "regions" / "korea.yml").read_text(),
        "empty.yml": "",
        "syntax.yml": "name: syntax\nregions:\n  - {id: a, name: A, latitude: 1, longitude: 2\n",
        "misspelt.yml": one_region("misspelt", "  - {id: ab, name: B, latitude: 1, longitude: 2, case_name: {jhu: B}}"),
        "text_latitude.yml": one_region(
            "text_latitude", '  - {id: ac, name: C, latitude: "37.5N", longitude: 2, case_names: {jhu: C}}'
        ),
        "no_point.yml": one_region("no_point", "  - {id: ad, name: D, case_names: {jhu: D}}"),
        "cadence.yml": one_region(
            "cadence", "  - {id: ae, name: E, case_names: {who: E}}", "cadence: monthly\nhorizons: [2, 0]\n"
        ),
        "repeated_key.yml": one_region("repeated_key", "  - {id: ah, name: I, latitude: 1, longitude: 2}", "name: x\n"),
        "twice.yml": one_region(
            "twice",
            "  - {id: af, name: F, latitude: 1, longitude: 2, case_names: {jhu: F}}\n"
            "  - {id: af, name: G, latitude: 1, longitude: 2, case_names: {jhu: G}}",
        ),
    }
    for name, text in files.items():
        (regions_dir / name).write_text(text)

    assert len(stages.plan({**KOREA, "region_set": "korea"}, NOW)["regions"]) == 17  # the Korean set plans as before
    assert len(regions.get_set("korea").regions) == 17
    assert refusal("korea_copy").endswith(
        f"{regions_dir}/korea_copy.yml, line 9: name: expected 'korea_copy', the file's name (a set is its file);"
        " observed 'korea'"
    )
    assert refusal("empty").endswith(
        f"{regions_dir}/empty.yml: expected a mapping with name, regions and optionally"
        " ('description', 'cadence', 'horizons'); observed an empty file"
    )
    assert f"{regions_dir}/syntax.yml, line 4: YAML syntax:" in refusal("syntax")
    assert refusal("misspelt").endswith(
        f"{regions_dir}/misspelt.yml, line 3, region ab: case_name: expected one of ['id', 'name', 'latitude',"
        " 'longitude', 'kma_station', 'case_names', 'weather_names']; observed an unknown key (did you mean"
        " 'case_names'?)"
    )
    assert refusal("text_latitude").endswith(
        f"{regions_dir}/text_latitude.yml, line 3, region ac: latitude: expected a number from -90 to 90;"
        " observed '37.5N'"
    )
    assert refusal("no_point").endswith(
        f"{regions_dir}/no_point.yml, line 3, region ad: latitude, longitude: expected both (a daily set's region"
        " has a weather point); observed neither"
    )
    cadence = refusal("cadence")
    assert f"{regions_dir}/cadence.yml, line 2: cadence: expected one of ['daily', 'weekly']; observed 'monthly'" in (
        cadence
    )
    assert (
        f"{regions_dir}/cadence.yml, line 3: horizons: expected a list of steps ahead, whole numbers from 1 up,"
        " ascending, each once; observed [2, 0]" in cadence
    )
    assert refusal("twice").endswith(
        f"{regions_dir}/twice.yml, line 4, region af: id: expected an id once in the file; observed it on line 3 too"
    )
    assert refusal("repeated_key").startswith(
        f"region set 'repeated_key' is refused:\n{regions_dir}/repeated_key.yml, line 2: key 'name': expected a key"
        " once; observed it again"
    )
    with pytest.raises(KeyError, match=r"unknown region 'ab'; .* \(refused, and not read: cadence.yml, empty.yml"):
        regions.get_region("ab")


def test_a_weekly_sets_region_may_have_no_weather_point_and_horizons_in_weeks(regions_dir):
    (regions_dir / "weekly.yml").write_text(
        one_region("weekly", "  - {id: ag, name: H, case_names: {who: H}}", "cadence: weekly\nhorizons: [1, 2]\n")
    )
    weekly = regions.get_set("weekly")
    assert (weekly.cadence, weekly.horizon_days, weekly.regions[0].latitude) == ("weekly", (7, 14), None)


def test_a_region_id_two_files_have_refuses_both_sets_naming_the_other_file(regions_dir):
    (regions_dir / "more.yml").write_text(
        one_region("more", "  - {id: seoul, name: Seoul again, latitude: 1, longitude: 2, case_names: {jhu: X}}")
    )
    assert refusal("more").endswith(
        f"{regions_dir}/more.yml, region seoul: id: expected an id no other set has; observed it in"
        f" {regions_dir}/korea.yml too"
    )
    assert f"{regions_dir}/korea.yml, region seoul: id: expected an id no other set has" in refusal("korea", KOREA)
    (regions_dir / "more.yml").unlink()  # read again once a file changes: the Korean set is back
    assert len(stages.plan({**KOREA, "region_set": "korea"}, NOW)["regions"]) == 17


def test_every_sources_name_key_is_a_key_the_region_files_may_hold():
    keys = {source.region_names[0] for source in SOURCES.values() if source.region_names}
    assert keys <= {key for names in regions.NAME_KEYS.values() for key in names}


def test_the_repositorys_region_files_pass_every_rule():
    found = regions.registry()
    assert found.refused == {}
    assert sorted(found.sets) == ["korea", "world", "world_weekly"]
