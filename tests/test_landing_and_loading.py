import json
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
from conftest import table_contents

from cother.ingest import landing, load
from cother.ingest.sources import get_source
from cother.ingest.stages import parse
from cother_core.regions import get_region

pytestmark = pytest.mark.integration

SEOUL, BUSAN = get_region("seoul"), get_region("busan")


def land(source_name: str, start: date, end: date, regions=(SEOUL,)) -> landing.LandedBatch:
    return landing.land(get_source(source_name), list(regions), start, end)


def test_a_payload_lands_once_for_all_its_regions_with_its_checksum_and_request(warehouse):
    batch = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31), [SEOUL, BUSAN])
    path = Path(batch.path)
    assert path.parts[-2] == "sample_cases"
    meta = json.loads(batch.meta_path.read_text())
    assert meta["sha256"] == batch.sha256 and meta["params"]["names"] == ["부산", "서울"]
    assert meta["regions"] == ["seoul", "busan"]
    first_write = path.stat().st_mtime_ns
    again = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31), [SEOUL, BUSAN])
    assert again == batch
    assert land("sample_cases", date(2021, 3, 1), date(2021, 3, 31), [BUSAN]).batch_id == batch.batch_id  # a subset
    assert path.stat().st_mtime_ns == first_write
    assert len(list(path.parent.glob("*.meta.json"))) == 1


def publish(batch: landing.LandedBatch, table: str) -> dict[str, int]:
    return load.publish(batch, parse(batch).frame, table, "test", "validation-id")


def test_publishing_the_same_batch_twice_leaves_the_same_rows(warehouse):
    batch = land("sample_weather", date(2021, 3, 1), date(2021, 3, 31))
    assert publish(batch, "raw.kma_asos_daily") == {"seoul": 31}
    first = table_contents("raw.kma_asos_daily")
    assert publish(batch, "raw.kma_asos_daily") == {"seoul": 0}  # the table holds this very batch
    assert table_contents("raw.kma_asos_daily") == first
    assert len(first) == 31


def test_one_publish_writes_every_region_of_its_batch_and_logs_each(warehouse):
    batch = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31), [SEOUL, BUSAN])
    assert publish(batch, "raw.coronaboard_cases") == {"busan": 31, "seoul": 31}
    logged = sorted(row[1:3] for row in table_contents("raw.batch_log"))
    assert logged == [("busan", batch.batch_id), ("seoul", batch.batch_id)]


def test_a_publish_replaces_only_the_partitions_of_its_batch_and_a_replay_restores_them(warehouse):
    march = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31))
    publish(march, "raw.coronaboard_cases")
    first = table_contents("raw.coronaboard_cases")
    overlap = land("sample_cases", date(2021, 3, 20), date(2021, 4, 10))
    publish(overlap, "raw.coronaboard_cases")
    rows = table_contents("raw.coronaboard_cases")
    batches = {row[2]: row[-2] for row in rows}  # date -> batch_id
    assert len(rows) == 41
    assert batches["2021-03-19"] == march.batch_id
    assert batches["2021-03-20"] == overlap.batch_id
    assert table_contents("raw.replaced_rows") == []  # the same values from another batch: nothing restated
    assert publish(march, "raw.coronaboard_cases") == {"seoul": 31}  # rewritten: the overlap had replaced part
    replayed = table_contents("raw.coronaboard_cases")
    assert [row for row in replayed if row[2] < "2021-04-01"] == first


def test_a_range_that_has_landed_is_not_fetched_again_unless_forced(warehouse, monkeypatch):
    source = get_source("sample_cases")
    first = land("sample_cases", date(2021, 5, 1), date(2021, 5, 10))
    fetches = []
    original = type(source).fetch
    monkeypatch.setattr(type(source), "fetch", lambda self, *args: fetches.append(args) or original(self, *args))
    assert land("sample_cases", date(2021, 5, 1), date(2021, 5, 10)) == first
    assert fetches == []
    forced = landing.land(source, [SEOUL], date(2021, 5, 1), date(2021, 5, 10), force=True)
    assert len(fetches) == 1
    assert forced.batch_id == first.batch_id  # same bytes, same batch: nothing new to load


def test_the_batch_last_fetched_is_current_even_when_its_bytes_landed_earlier(warehouse, api):
    """A forced re-fetch that brought back earlier good bytes kept their old timestamp, and the next
    ordinary run reused the newer bad batch."""
    from fake_api import OPEN_METEO, Answer

    source, days = get_source("open_meteo"), (date(2022, 1, 1), date(2022, 1, 3))
    good, bad = Answer('{"daily": "the good answer"}'), Answer('{"daily": "a bad answer"}')
    api.script(OPEN_METEO, good)
    first = landing.land(source, [SEOUL], *days)
    api.script(OPEN_METEO, bad)
    assert landing.land(source, [SEOUL], *days, force=True).batch_id != first.batch_id
    api.script(OPEN_METEO, good)
    assert landing.land(source, [SEOUL], *days, force=True).batch_id == first.batch_id
    assert landing.land(source, [SEOUL], *days).batch_id == first.batch_id  # reused, not fetched
    assert len(api.paths(OPEN_METEO)) == 3


def test_a_torn_last_line_of_the_fetch_log_is_left_out_and_cut_off_by_the_next_fetch(warehouse, capsys):
    """A crash mid-append broke every plain run of the source (JSONDecodeError), and the next forced fetch
    appended after the torn text, so it stayed broken."""
    days = (date(2021, 6, 1), date(2021, 6, 5))
    batch = land("sample_cases", *days)
    log = Path(batch.path).with_name("fetches.jsonl")
    with log.open("a") as appending:
        appending.write('{"batch_id": "20210601-2021')  # the crash
    assert land("sample_cases", *days) == batch  # a plain run reads the log
    assert (
        f'{log}, line 2: expected a fetch; observed b\'{{"batch_id": "20210601-2021\', torn' in capsys.readouterr().out
    )
    source = get_source("sample_cases")
    assert landing.land(source, [SEOUL], *days, force=True) == batch
    assert "cut off its torn last line" in capsys.readouterr().out
    assert [json.loads(line)["batch_id"] for line in log.read_text().splitlines()] == [batch.batch_id] * 2


def test_a_payload_removed_after_it_landed_is_named_and_fetched_again(warehouse, capsys):
    """A landed payload deleted by retention raised a raw FileNotFoundError in every later run."""
    from conftest import check

    from cother.ingest.stages import RegionsFailed

    days = (date(2021, 7, 1), date(2021, 7, 5))
    batch = land("sample_cases", *days)
    Path(batch.path).unlink()
    with pytest.raises(
        RegionsFailed,
        match=rf"sample_cases: landing file {re.escape(batch.path)} is missing: expected the payload of batch"
        rf" {batch.batch_id}; observed no file \(removed since it landed\); run again to fetch it anew",
    ):
        check(asdict(batch))  # the batch a run landed, removed before its validation
    assert land("sample_cases", *days) == batch  # the next run fetches it again: the same bytes, the same batch
    assert f"landing file {batch.path} of batch {batch.batch_id} is missing" in capsys.readouterr().out
    assert publish(batch, "raw.coronaboard_cases") == {"seoul": 5}
