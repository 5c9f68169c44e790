"""Named bad inputs, each through the real gate on top of a published history and a champion model:
a clear error naming source, region, dates and rule; the batch in quarantine; the landing file kept;
nothing published; nothing to announce; the champion unchanged."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from answers import PORTAL_ERROR, kdca_answer, kdca_body, kdca_item, kma_body, kma_item, open_meteo_body, who_csv
from conftest import check, empty_warehouse, land, publish_seoul, registered_model, table_contents
from fake_api import KDCA, KMA, OPEN_METEO, WHO, Answer

from cother.ingest import sources, stages
from cother.ingest.sources import Payload, SourceError
from cother.ingest.sources.sample import SampleCases, SampleWeather
from cother.ingest.stages import RegionsFailed
from cother.transform import dbt
from cother_core.database import connect
from cother_core.settings import get_settings
from cother_ml import registry
from cother_ml.retrain import retrain

pytestmark = pytest.mark.integration

MODEL_NAME = "cother_test_bad_input"  # the korea set\'s model in this module (COTHER_MODEL_NAME)

HISTORY = (date(2020, 10, 5), date(2021, 9, 30))
WEATHER_DAYS = (date(2021, 10, 1), date(2021, 10, 5))
PUBLISHED = [
    "raw.kma_asos_daily",
    "raw.coronaboard_cases",
    "raw.open_meteo_daily",
    "raw.kdca_covid_cases",
    "raw.who_covid_daily",
    "raw.batch_log",
]


@dataclass(frozen=True)
class BadInput:
    name: str
    kind: str  # weather or cases: which bundled source the edit applies to
    edit: object  # str -> str, applied to the payload as a broken upstream would send it
    error: str  # regex the error message must match (after the source, region and dates)
    days: tuple[date, date] = WEATHER_DAYS
    # refused: the region's batch is quarantined whole; held: the days or cells that cannot be true are,
    # and the rest of the region passes; correction: a plain correction of the source, which passes
    outcome: str = "refused"


def replace_field(day: str, field_index: int, value: str):
    def edit(text: str) -> str:
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if line.startswith(day):
                cells = line.split(",")
                cells[field_index] = value
                lines[number] = ",".join(cells)
        return "\n".join(lines)

    return edit


# Column positions in the bundled files: weather date,avgTa,minTa,...; cases date,region,confirmed,death,released
AVGTA, SUMRN, AVGRHM, AVGPS = 1, 11, 24, 31
CONFIRMED, DEATH = 2, 3

MATRIX = [
    BadInput(
        "impossible temperature",
        "weather",
        replace_field("2021-10-02", AVGTA, "99.0"),
        r"expect_column_values_to_be_between column avgta",
    ),
    BadInput(
        "humidity above 100 %",
        "weather",
        replace_field("2021-10-03", AVGRHM, "146"),
        r"expect_column_values_to_be_between column avgrhm",
    ),
    BadInput(
        "negative precipitation",
        "weather",
        replace_field("2021-10-03", SUMRN, "-3"),
        r"expect_column_values_to_be_between column sumrn",
    ),
    BadInput(
        "sea-level pressure out of range",
        "weather",
        replace_field("2021-10-04", AVGPS, "500"),
        r"expect_column_values_to_be_between column avgps",
    ),
    BadInput(
        "a missing day",
        "weather",
        lambda text: re.sub(r"\n2021-10-03[^\n]*", "", text),
        r"expect_column_pair_values_to_be_equal column check_days_of_region: expected check_days_of_region = check_days_expected; observed 4 unexpected of 4 rows, e.g. 2021-10-01: check_days_of_region 4, check_days_expected 5",
    ),
    BadInput(
        "a duplicated day",
        "weather",
        lambda text: text + text.split("\n")[2] + "\n",
        r"expect_compound_columns_to_be_unique",
    ),
    BadInput(
        "a day after the requested range",
        "weather",
        lambda text: text + text.split("\n")[1].replace("2021-10-01", "2021-10-09") + "\n",
        r"expect_column_values_to_be_in_set column check_in_requested_range: expected values in \[True\]; observed 1 unexpected of 6 rows, e.g. 2021-10-09",
    ),
    BadInput(
        "a required value missing",
        "weather",
        replace_field("2021-10-02", AVGTA, ""),
        r"expect_column_values_to_not_be_null column avgta",
    ),
    BadInput(
        "a value that is not a number",
        "weather",
        replace_field("2021-10-02", AVGTA, "warm"),
        r"date 2021-10-02: field 'avgTa': expected a number; observed 'warm'",
    ),
    BadInput(
        "an infinite value",
        "weather",
        replace_field("2021-10-02", AVGTA, "Infinity"),
        r"date 2021-10-02: field 'avgTa': expected a finite number; observed 'Infinity'",
    ),
    BadInput(
        "NaN spelled out",
        "weather",
        replace_field("2021-10-03", SUMRN, "NaN"),
        r"date 2021-10-03: field 'sumRn': expected a finite number; observed 'NaN'",
    ),
    BadInput(
        "an absurdly large count",
        "cases",
        replace_field("20211003", CONFIRMED, "1e30"),
        r"field 'confirmed': expected at most 1e\+15 in size; observed '1e30'",
    ),
    BadInput(
        "a schema change (column renamed)",
        "weather",
        lambda text: text.replace("avgTa,", "avgTemp,", 1),
        r"schema change: expected fields \['avgTa'\]; observed a record without them",
    ),
    BadInput(
        "a negative count",
        "cases",
        replace_field("20211003", DEATH, "-1"),
        r"expect_column_values_to_be_between column death: expected at least 0; observed 1 unexpected of 5 rows, e.g. 2021-10-03: death -1",
        outcome="held",  # the model does not read deaths: that cell waits, the day's cases publish
    ),
    BadInput(
        "a cumulative count that loses most of itself for a day",
        "cases",
        replace_field("20211004", CONFIRMED, "100"),
        r"expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least check_confirmed_floor; observed 1 unexpected of 5 rows, e.g. 2021-10-04: confirmed 100",
        outcome="held",  # that day waits, the other four publish
    ),
    BadInput(
        "a count of zero for the whole region",
        "cases",
        lambda text: re.sub(r"^(\d+,[^,\n]+),\d+,", r"\1,0,", text, flags=re.M),
        r"expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least check_confirmed_floor; observed 5 unexpected of 5 rows, e.g. 2021-10-01: confirmed 0",
    ),
    BadInput(
        "a truncated file (the last days of every region missing)",
        "cases",
        lambda text: "\n".join(line for line in text.split("\n") if not line.startswith(("20211004", "20211005"))),
        r"expect_column_pair_values_to_be_equal column check_days_of_region: expected check_days_of_region = check_days_expected; observed 3 unexpected of 3 rows",
    ),
    BadInput(
        "a column shifted by one",
        "cases",
        lambda text: re.sub(r"^(\d+,[^,\n]+),", r"\1,,", text, flags=re.M),
        r"expect_column_values_to_not_be_null column confirmed",
    ),
    # Plain corrections of the source: each passes with a warning naming the day and both figures
    # (dbt records the fall in fct_case_revisions); they are here to show that nothing else passes.
    BadInput(
        "a cumulative count below what is already published, by 5,000 (5 %): a correction",
        "cases",
        lambda text: re.sub(r",(\d+),(\d+),(\d+)\n", lambda m: f",{int(m[1]) - 5000},{m[2]},{m[3]}\n", text),
        r"expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least check_confirmed_before; observed 1 unexpected of 5 rows, e.g. 2021-10-01: confirmed \d+, check_confirmed_before \d+",
        outcome="correction",
    ),
    BadInput(
        "a one-day glitch: a fall of 3,000 that the next day takes back",
        "cases",
        lambda text: re.sub(r"(20211003,[^,]+,)(\d+)", lambda m: f"{m[1]}{int(m[2]) - 3000}", text),
        r"expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least check_confirmed_before; observed 1 unexpected of 5 rows, e.g. 2021-10-03",
        outcome="correction",  # published flagged: dbt gives the day and the next no daily count
    ),
    BadInput(
        "the real Coronaboard revision of 2023-09-01 (1.1 %): a correction",
        "cases",
        lambda text: text,
        r"expect_column_pair_values_a_to_be_greater_than_b column confirmed: expected confirmed at least check_confirmed_before; observed 1 unexpected of 11 rows, e.g. 2023-09-01: confirmed 6679535, check_confirmed_before 6751223",
        (date(2023, 8, 25), date(2023, 9, 4)),
        outcome="correction",
    ),
]


def tampered(kind: str, edit):
    base = SampleWeather if kind == "weather" else SampleCases

    class Tampered(base):
        def fetch(self, regions, start, end) -> Payload:
            payload = super().fetch(regions, start, end)
            return Payload(edit(payload.content.decode()).encode(), payload.extension, payload.params)

    return Tampered()


@pytest.fixture(scope="module")
def champion(postgres_server):
    """The bundled history published, the marts built and a champion registered."""
    with registered_model(MODEL_NAME):
        empty_warehouse()
        publish_seoul(*HISTORY)
        assert dbt.build()["success"]
        trained = retrain("korea", ["seoul"])
        assert trained["promoted"], trained["decision"]
        yield trained["version"]


def quarantined(batch_id: str) -> list:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select failures from quarantine.batches where batch_id = %s", (batch_id,))
        return [row[0] for row in cur.fetchall()]


def stopped_and_kept(batch: dict, source: str, region: str, error: str, before: dict, champion: str) -> None:
    """The batch fails its gate with a message naming source, region, dates and rule, the expected value
    beside the observed one; it is quarantined; its landing file, the published tables and the champion
    are as they were."""
    landed = Path(batch["path"]).read_bytes()
    with pytest.raises(RegionsFailed) as stopped:
        check(batch)
    message = str(stopped.value)
    assert re.search(rf"{source}.*region {region}.*{batch['start']}..{batch['end']}", message, re.S), message
    assert re.search(error, message), message
    assert re.search(r"expected .+; observed ", message), message
    [failures] = quarantined(batch["batch_id"])
    assert re.search(error.split(":")[0].split(" column ")[0], json.dumps(failures, ensure_ascii=False)), failures
    assert Path(batch["path"]).read_bytes() == landed
    assert {table: table_contents(table) for table in PUBLISHED} == before
    assert registry.champion_version(MODEL_NAME) == champion


def held_and_kept(batch: dict, region: str, error: str, before: dict, champion: str) -> None:
    """The region passes its gate without the days or cells that cannot be true: those are quarantined
    with the rule, the expected and the observed value, their grain named; the landing file, the
    published tables (until publish) and the champion are as they were."""
    landed = Path(batch["path"]).read_bytes()
    verdict = stages.validate(batch)
    assert region in verdict["passed"] and verdict["failed"] == {}, verdict
    held = verdict["held"][region]
    assert held["days"] or held["cells"], held
    [failures] = quarantined(batch["batch_id"])
    described = [
        f"{f['expectation']} column {f['column']}: {f['observed']}" for f in failures if f["grain"] != "region"
    ]
    assert any(re.search(error, line) for line in described), described
    assert Path(batch["path"]).read_bytes() == landed
    assert {table: table_contents(table) for table in PUBLISHED} == before
    assert registry.champion_version(MODEL_NAME) == champion


def passes_as_a_correction(batch: dict, region: str, error: str, capsys) -> None:
    """The region passes, nothing held, nothing quarantined, with a warning naming the day and figures."""
    verdict = stages.validate(batch)
    assert verdict["passed"] == [region] and verdict["held"] == {} and verdict["warnings"] == {region: 1}, verdict
    assert re.search(rf"warn: {error}", capsys.readouterr().out)
    assert quarantined(batch["batch_id"]) == []


@pytest.mark.parametrize("bad", MATRIX, ids=[bad.name for bad in MATRIX])
def test_bad_input_is_stopped_and_kept(champion, bad: BadInput, monkeypatch, capsys):
    source_name = f"sample_{bad.kind}"
    monkeypatch.setitem(sources.SOURCES, source_name, tampered(bad.kind, bad.edit))
    before = {table: table_contents(table) for table in PUBLISHED}
    batch = land(source_name, "seoul", *bad.days, force=True)  # each case is a fresh payload
    if bad.outcome == "correction":
        passes_as_a_correction(batch, "seoul", bad.error, capsys)
    elif bad.outcome == "held":
        held_and_kept(batch, "seoul", bad.error, before, champion)
    else:
        stopped_and_kept(batch, source_name, "seoul", bad.error, before, champion)


@dataclass(frozen=True)
class BadAnswer:
    name: str
    source: str
    answer: object  # the request's parameters -> the Answer the stand-in API sends
    error: str  # regex the error message must match
    region: str = "seoul"


LIVE_DAYS = [WEATHER_DAYS[0] + timedelta(days=offset) for offset in range(5)]
LIVE_PATHS = {"open_meteo": OPEN_METEO, "kma_asos": KMA, "kdca": KDCA, "who": WHO}


def sends(body: str | bytes, **headers) -> object:
    return lambda params: Answer(body, headers=headers)


def kma(items: list[dict]) -> object:
    return sends(kma_body(items, total=len(items)))


def kdca(def_cnt=lambda day: str(500000 + day.day), provinces=("서울", "부산", "합계")) -> object:
    def answer(params: dict) -> Answer:
        day = date.fromisoformat(params["std_day"])
        return Answer(kdca_body(day, def_cnt(day), provinces))

    return answer


def kdca_seoul(*changes: dict) -> object:
    """KDCA's answer of the day asked, with Seoul's item sent once per change (Busan's as it should be)."""

    def answer(params: dict) -> Answer:
        day = date.fromisoformat(params["std_day"])
        seoul = [kdca_item(day, str(500000 + day.day), **change) for change in changes]
        return Answer(kdca_answer([*seoul, kdca_item(day, str(300000 + day.day), gubun="부산")]))

    return answer


OPEN_METEO_ANSWER = open_meteo_body(LIVE_DAYS)
KMA_ITEMS = [kma_item(day) for day in LIVE_DAYS]
WHO_FILE = who_csv(LIVE_DAYS)

LIVE_MATRIX = [
    BadAnswer(
        "Open-Meteo temperatures in °F",
        "open_meteo",
        sends(open_meteo_body(LIVE_DAYS, units={"temperature_2m_mean": "°F"})),
        r"unit change: expected temperature_2m_mean in °C; observed °F",
    ),
    BadAnswer(
        "Open-Meteo Infinity",
        "open_meteo",
        sends(OPEN_METEO_ANSWER.replace('"temperature_2m_max": [2.3', '"temperature_2m_max": [Infinity')),
        r"date 2021-10-01: field 'temperature_2m_max': expected a finite number; observed inf",
    ),
    BadAnswer(
        "Open-Meteo NaN",
        "open_meteo",
        sends(OPEN_METEO_ANSWER.replace('"temperature_2m_mean": [-4.3', '"temperature_2m_mean": [NaN')),
        r"date 2021-10-01: field 'temperature_2m_mean': expected a number or null; observed NaN, not JSON",
    ),
    BadAnswer(
        "Open-Meteo NaN where a value may be missing (jsonb refused it at publish)",
        "open_meteo",
        sends(open_meteo_body(LIVE_DAYS, extra={"rain_sum": [None, float("nan"), None, None, None]})),
        r"date 2021-10-02: field 'rain_sum': expected a number or null; observed NaN, not JSON",
    ),
    BadAnswer(
        "Open-Meteo an answer from a grid cell far from the point asked (Busan's for Seoul)",
        "open_meteo",
        sends(open_meteo_body(LIVE_DAYS, latitude=35.1, longitude=129.0)),
        r"coordinates: expected a grid cell within 0.375° of 37.5714, 126.966, as asked; observed 35.1, 129",
    ),
    BadAnswer(
        "Open-Meteo a daily field with fewer values than days",
        "open_meteo",
        sends(open_meteo_body(LIVE_DAYS, extra={"rain_sum": [0.0]})),
        r"daily fields \['rain_sum'\]: expected one value per day \(5\); observed \[1\]",
    ),
    BadAnswer(
        "Open-Meteo an answer without the place asked for",
        "open_meteo",
        sends("[]"),
        r"places: expected 1, as asked; observed 0 in the answer",
    ),
    BadAnswer(
        "Open-Meteo a truncated answer",
        "open_meteo",
        sends(OPEN_METEO_ANSWER[:200]),
        r"malformed JSON: expected a whole JSON document; observed Unterminated string",
    ),
    BadAnswer(
        "KMA an answer in EUC-KR labelled UTF-8",
        "kma_asos",
        sends(kma_body(KMA_ITEMS, total=5).encode("euc-kr"), **{"Content-Type": "application/json;charset=UTF-8"}),
        r"encoding: expected text in UTF-8, as declared; observed byte 0xbc at position \d+, which is not UTF-8",
    ),
    BadAnswer(
        "KMA an unregistered service key (data.go.kr XML envelope)",
        "kma_asos",
        sends(PORTAL_ERROR),
        r"service error: expected data; observed the error SERVICE_KEY_IS_NOT_REGISTERED_ERROR",
    ),
    BadAnswer(
        "KMA a daily quota spent (resultCode 22)",
        "kma_asos",
        sends(kma_body([], 0, code="22", message="LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR")),
        r"service error: expected resultCode 00; observed 22 LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
    ),
    BadAnswer(
        "KMA a value that is not a number",
        "kma_asos",
        kma([kma_item(day, avgRhm="n/a" if day == LIVE_DAYS[1] else "46.3") for day in LIVE_DAYS]),
        r"date 2021-10-02: field 'avgRhm': expected a number; observed 'n/a'",
    ),
    BadAnswer(
        "KMA a field renamed",
        "kma_asos",
        kma([{("avgTemp" if key == "avgTa" else key): value for key, value in item.items()} for item in KMA_ITEMS]),
        r"schema change: expected fields \['avgTa'\]; observed a record without them",
    ),
    BadAnswer(
        "KMA humidity above 100 %",
        "kma_asos",
        kma([kma_item(day, avgRhm="146") if day == LIVE_DAYS[2] else kma_item(day) for day in LIVE_DAYS]),
        r"expect_column_values_to_be_between column avgrhm: expected between 0 and 100",
    ),
    BadAnswer(
        "KMA another station's observations (Busan's 159 to Seoul's request for 108)",
        "kma_asos",
        kma([kma_item(day, stnId="159", stnNm="부산") for day in LIVE_DAYS]),
        r"date 2021-10-01: station: expected stnId '108', the region's kma_station; observed '159'",
    ),
    BadAnswer(
        "KDCA gubun sent as an array",
        "kdca",
        kdca_seoul({"gubun": ["서울"]}),
        r"date 2021-10-01: gubun: expected a province name, a string; observed \['서울'\]",
    ),
    BadAnswer(
        "KDCA a correction whose updateDt is not a date-time",
        "kdca",
        kdca_seoul({"defCnt": "500090", "updateDt": "2021.10.01 11:05"}, {}),
        r"updateDt: expected a date-time \(or null\); observed '2021.10.01 11:05'",
    ),
    BadAnswer(
        "KDCA an infinite count",
        "kdca",
        kdca(def_cnt=lambda day: "Infinity"),
        r"field 'defCnt': expected a finite number; observed 'Infinity'",
    ),
    BadAnswer(
        "KDCA an absurdly large count",
        "kdca",
        kdca(def_cnt=lambda day: "1e30"),
        r"field 'defCnt': expected at most 1e\+15 in size; observed '1e30'",
    ),
    BadAnswer(
        "KDCA an unregistered service key (data.go.kr XML envelope)",
        "kdca",
        sends(PORTAL_ERROR),
        r"service error: expected data; observed the error SERVICE_KEY_IS_NOT_REGISTERED_ERROR",
    ),
    BadAnswer(
        "KDCA a province the source did not answer for",
        "kdca",
        kdca(provinces=("부산", "합계")),
        r"coverage: expected rows for this region; observed none in the answer",
    ),
    BadAnswer(
        "KDCA an answer that is not JSON",
        "kdca",
        sends("<html>Service Unavailable</html>"),
        r"malformed JSON: expected a whole JSON document; observed Expecting value at character 0",
    ),
    BadAnswer(
        "WHO a byte that is not UTF-8 in the country's line",
        "who",
        sends(WHO_FILE.replace(b"Republic of Korea", b"Republic of Kor\xe9a", 1)),
        r"encoding: expected UTF-8; observed byte 0xe9 at position \d+ of line \d+",
        region="kr",
    ),
    BadAnswer(
        "WHO the weekly file where days are expected",
        "who",
        sends((get_settings().sample_dir / "who_covid19_global_weekly.csv").read_bytes()),
        r"daily grain: expected a row every 1 day; observed one every 7 days",
        region="kr",
    ),
    BadAnswer(
        "WHO a column renamed",
        "who",
        sends(WHO_FILE.replace(b"New_cases", b"NewCases")),
        r"schema change: expected columns \['New_cases'\]; observed a header without them",
        region="kr",
    ),
    BadAnswer(
        "WHO an absurdly large count",
        "who",
        sends(WHO_FILE.replace(b",WPR,5,", b",WPR,1e30,", 2)),
        r"field 'New_cases': expected at most 1e\+15 in size; observed '1e30'",
        region="kr",
    ),
]


@pytest.mark.parametrize("bad", LIVE_MATRIX, ids=[bad.name for bad in LIVE_MATRIX])
def test_a_bad_answer_from_a_live_source_is_stopped_and_kept(champion, api, bad: BadAnswer):
    """The same, for what each live API may send, served over HTTP by the loopback stand-in."""
    api.respond(LIVE_PATHS[bad.source], bad.answer)
    before = {table: table_contents(table) for table in PUBLISHED}
    batch = land(bad.source, bad.region, LIVE_DAYS[0], LIVE_DAYS[-1], force=True)
    stopped_and_kept(batch, bad.source, bad.region, bad.error, before, champion)


@dataclass(frozen=True)
class BadTransport(BadAnswer):
    settings: tuple[tuple[str, str], ...] = ()  # a limit small enough for the case to meet it quickly


MB_LIMIT = (("COTHER_HTTP_MAX_ANSWER_MB", "1"),)
SIZE = r"size: expected at most 1,000,000 bytes an answer \(COTHER_HTTP_MAX_ANSWER_MB\); observed "

TRANSPORT_MATRIX = [
    BadTransport(
        "WHO a gzip bomb: 10 KB inflating to 10 MB, past a 1 MB limit",
        "who",
        sends(gzip.compress(b"0" * 10_000_000), **{"Content-Encoding": "gzip"}),
        SIZE + r"more, after [\d,]+ bytes received, more once inflated",
        region="kr",
        settings=MB_LIMIT,
    ),
    BadTransport(
        "WHO a file announced larger than the limit",
        "who",
        sends(WHO_FILE * 3_000),
        SIZE + r"[\d,]+ announced",
        region="kr",
        settings=MB_LIMIT,
    ),
    BadTransport(
        "WHO a file larger than the limit, its length unannounced",
        "who",
        lambda params: Answer(WHO_FILE * 3_000, announce=False),
        SIZE + r"more, after [\d,]+ bytes received$",
        region="kr",
        settings=MB_LIMIT,
    ),
    BadTransport(
        "Open-Meteo a byte at a time, each within the read timeout, past the deadline",
        "open_meteo",
        lambda params: Answer(OPEN_METEO_ANSWER, trickle_s=0.05),
        r"gave up after 3 attempts, last: deadline: expected the whole answer within 1 s \(COTHER_HTTP_DEADLINE_S\);"
        r" observed it still coming then",
        settings=(("COTHER_HTTP_DEADLINE_S", "1"),),
    ),
    BadTransport(
        "KMA a redirect loop",
        "kma_asos",
        lambda params: Answer(status=302, headers={"Location": KMA}),
        rf"redirects: expected an answer within 5 redirects; observed more: (http://127.0.0.1:\d+{KMA}( -> )?){{7}}$",
    ),
]


@pytest.mark.parametrize("bad", TRANSPORT_MATRIX, ids=[bad.name for bad in TRANSPORT_MATRIX])
def test_an_answer_the_transport_refuses_is_named_and_nothing_lands(champion, api, bad: BadTransport, monkeypatch):
    """What a server may do to the transport, served by the loopback stand-in: refused at `land` by name
    (source, region, dates, rule, expected and observed), nothing landed, nothing published, the champion
    unchanged."""
    for variable, value in bad.settings:
        monkeypatch.setenv(variable, value)
    api.respond(LIVE_PATHS[bad.source], bad.answer)
    before = {table: table_contents(table) for table in PUBLISHED}
    folder = get_settings().landing_dir / bad.source
    files = set(folder.glob("*"))
    with pytest.raises(SourceError) as refused:
        land(bad.source, bad.region, LIVE_DAYS[0], LIVE_DAYS[-1], force=True)
    message = str(refused.value)
    assert message.startswith(f"{bad.source}: region {bad.region}, dates {LIVE_DAYS[0]}..{LIVE_DAYS[-1]}: "), message
    assert re.search(bad.error, message) and re.search(r"expected .+; observed ", message), message
    assert set(folder.glob("*")) == files
    assert {table: table_contents(table) for table in PUBLISHED} == before
    assert registry.champion_version(MODEL_NAME) == champion


def test_the_matrix_names_at_least_thirty_bad_inputs():
    names = [bad.name for bad in MATRIX + LIVE_MATRIX + TRANSPORT_MATRIX]
    assert len(set(names)) == len(names) >= 30


def test_a_spike_is_published_with_a_warning(champion, monkeypatch):
    """A day far above the recent maximum is flagged (severity warn), not blocked: it may be real."""
    spike = lambda text: re.sub(r"(20211003,[^,]+,)(\d+)", lambda m: f"{m[1]}{int(m[2]) + 20000}", text)  # noqa: E731
    later = lambda text: re.sub(r"(2021100[45],[^,]+,)(\d+)", lambda m: f"{m[1]}{int(m[2]) + 20000}", text)  # noqa: E731
    monkeypatch.setitem(sources.SOURCES, "sample_cases", tampered("cases", lambda text: later(spike(text))))
    validated = check(land("sample_cases", "seoul", *WEATHER_DAYS, force=True))
    assert validated["warnings"] == {"seoul": 1}
    assert stages.publish(validated)["rows"] == {"seoul": 5}


def test_replay_publishes_a_quarantined_batch_once_the_rule_is_fixed(champion, monkeypatch, tmp_path):
    """A batch stopped by a rule that was wrong goes through the same gate again after the fix."""
    from cother.ingest import quarantine
    from cother_core import gate

    batch = land("sample_weather", "seoul", date(2021, 10, 1), date(2021, 10, 5), force=True)
    strict = json.loads((gate.EXPECTATIONS_DIR / "raw_kma_asos_daily.json").read_text())
    for expectation in strict["expectations"]:
        if expectation["kwargs"].get("column") == "avgta" and "max_value" in expectation["kwargs"]:
            expectation["kwargs"]["max_value"] = 10  # a wrong rule: October in Seoul is warmer
    (tmp_path / "raw_kma_asos_daily.json").write_text(json.dumps(strict))
    monkeypatch.setattr(gate, "EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(RegionsFailed):
        check(batch)
    assert [held["batch_id"] for held in quarantine.list_batches()].count(batch["batch_id"]) == 1
    monkeypatch.undo()  # the rule is fixed
    published = quarantine.replay(batch["batch_id"])
    assert published["rows"] == {"seoul": 5}
    held = quarantine.show(batch["batch_id"])
    assert held["replayed_as"] == batch["batch_id"] and held["rows"] == 5
    assert len(held["validation_id"]) == 32 and held["expectations_evaluated"] > 20
    assert batch["batch_id"] not in [held["batch_id"] for held in quarantine.list_batches()]


def test_a_batch_held_then_covered_by_a_later_published_fetch_is_listed_as_resolved_by_it(
    champion, monkeypatch, capsys
):
    """It was still listed as held after a forced re-fetch of the same range was published."""
    from cother import cli
    from cother.ingest import quarantine

    days = (date(2022, 3, 1), date(2022, 3, 5))  # cases no other test publishes
    monkeypatch.setitem(
        sources.SOURCES, "sample_cases", tampered("cases", lambda text: re.sub(r"\n20220303[^\n]*", "", text))
    )
    bad = land("sample_cases", "seoul", *days, force=True)
    with pytest.raises(RegionsFailed):
        check(bad)
    monkeypatch.undo()
    good = land("sample_cases", "seoul", *days, force=True)
    assert stages.publish(check(good))["rows"] == {"seoul": 5}
    [held] = [held for held in quarantine.list_batches() if held["batch_id"] == bad["batch_id"]]
    assert held["resolved_by"] == good["batch_id"]
    cli.main(["quarantine", "list"])
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.startswith(bad["batch_id"])]
    assert f"resolved by {good['batch_id']}: expect_column_pair_values_to_be_equal check_days_of_region" in line
