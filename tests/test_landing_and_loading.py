import json
from datetime import date
from pathlib import Path

from conftest import table_contents

from cother import landing, loading
from cother.ingest import parse
from cother.regions import get_region
from cother.sources import get_source

SEOUL = get_region("seoul")


def land(source_name: str, start: date, end: date) -> landing.LandedBatch:
    return landing.land(get_source(source_name), SEOUL, start, end)


def test_a_payload_lands_once_with_its_checksum_and_request(warehouse):
    batch = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31))
    path = Path(batch.path)
    assert path.parts[-3:-1] == ("sample_cases", "seoul")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["sha256"] in {batch.sha256} and meta["params"]["region"] == "서울"
    first_write = path.stat().st_mtime_ns
    again = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31))
    assert again == batch
    assert path.stat().st_mtime_ns == first_write


def test_publishing_the_same_batch_twice_leaves_the_same_rows(warehouse):
    batch = land("sample_weather", date(2021, 3, 1), date(2021, 3, 31))
    assert loading.publish(batch, parse(batch), "raw.kma_asos_daily") == 31
    first = table_contents("raw.kma_asos_daily")
    loading.publish(batch, parse(batch), "raw.kma_asos_daily")
    assert table_contents("raw.kma_asos_daily") == first
    assert len(first) == 31


def test_a_publish_replaces_only_the_partitions_of_its_batch(warehouse):
    march = land("sample_cases", date(2021, 3, 1), date(2021, 3, 31))
    loading.publish(march, parse(march), "raw.coronaboard_cases")
    overlap = land("sample_cases", date(2021, 3, 20), date(2021, 4, 10))
    loading.publish(overlap, parse(overlap), "raw.coronaboard_cases")
    rows = table_contents("raw.coronaboard_cases")
    batches = {row[2]: row[-2] for row in rows}  # date -> batch_id
    assert len(rows) == 41
    assert batches["2021-03-19"] == march.batch_id
    assert batches["2021-03-20"] == overlap.batch_id
