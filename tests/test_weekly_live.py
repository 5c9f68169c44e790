"""The scheduled weekly ingest (cother_ingest_weekly, run with dag.test() and no dates, as its schedule runs
it) against WHO's weekly file served on the loopback stand-in: the real file as it stood on a Sunday,
then as it stood two weeks and three weeks later (cut from the real file here). A run publishes exactly
the weeks the file has that are not yet published and announces raw.cases once; a run with nothing
new publishes, announces and alerts nothing, and says so in one line; nor does it announce another
source's batches. After the fresh install's load
and after the two new weeks, the transform and the weekly set's retrain (the DAGs raw.cases schedules)
forecast the 4 weeks after the newest Sunday."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from answers import who_weekly_file
from conftest import empty_warehouse, load, row_count
from fake_api import WHO_WEEKLY, Answer
from test_end_to_end import dags, run  # noqa: F401 -- the DAGs fixture, and a run's outcome

pytestmark = pytest.mark.system

DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "cother_ingest_weekly.py"
COUNTRIES = ["de_weekly", "fr_weekly", "jp_weekly", "kr_weekly", "us_weekly"]
CUT = date(2020, 12, 27)  # the newest Sunday of the file first served
WEEK = timedelta(days=7)


@pytest.fixture
def weekly_dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAG_FILE)).dags["cother_ingest_weekly"]
    for task in dag.tasks:
        task.retries = 0  # a failure should fail the run now, not after the production backoff
    return dag


def raw_cases_events() -> int:
    """How many times raw.cases was emitted (each schedules a cother_transform, then a cother_retrain)."""
    from cother_core.database import airflow_url, connect

    with connect(airflow_url()) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from asset_event join asset on asset.id = asset_event.asset_id where asset.name = %s",
            ("raw.cases",),
        )
        return cur.fetchone()[0]


def weeks_published() -> dict[str, tuple]:
    """Per region: its first and last week published and how many weeks."""
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute("select region, min(date), max(date), count(*) from raw.who_covid_weekly group by region")
        return {region: tuple(rest) for region, *rest in cur.fetchall()}


def landed_files() -> int:
    from cother_core.settings import get_settings

    return len(list((get_settings().landing_dir / "who_weekly").glob("*.csv.gz")))


def forecast_weeks(dags) -> dict[str, list]:  # noqa: F811 -- the fixture imported above
    """The transform and the world_weekly set's retrain, as raw.cases schedules them; per region, the
    (origin, target) Sundays of the new version's forecasts."""
    from cother_core.database import connect

    assert run(dags["cother_transform"], {}) == (True, [])
    assert run(dags["cother_retrain"], {"region_set": "world_weekly", "regions": COUNTRIES}) == (True, [])
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select region, origin_date, target_date from ml.forecasts where model_name = %(name)s and"
            " model_version = (select max(model_version::int)::text from ml.forecasts where model_name = %(name)s)"
            " order by region, target_date",
            {"name": "cother_test_weekly_live_world_weekly"},
        )
        weeks: dict[str, list] = {}
        for region, origin, target in cur.fetchall():
            weeks.setdefault(region, []).append((origin, target))
    return weeks


def next_four(sunday: date) -> list[tuple]:
    return [(sunday, sunday + k * WEEK) for k in (1, 2, 3, 4)]


def scheduled_run(dag, api, served: date, capsys, **when) -> tuple[dict, int, int, list[str]]:
    """The stand-in serving the real file as it stood on `served`, one scheduled run (no dates): its task
    states, the rows it published, the raw.cases events it emitted and what its log said about the file."""
    api.script(WHO_WEEKLY, Answer(who_weekly_file(served)))
    rows, events = row_count("raw.who_covid_weekly"), raw_cases_events()
    dag_run = dag.test(run_conf={"regions": COUNTRIES}, **when)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "success", states
    said = [line for line in capsys.readouterr().out.splitlines() if "who_weekly" in line or "nothing" in line]
    return states, row_count("raw.who_covid_weekly") - rows, raw_cases_events() - events, said


def test_the_scheduled_weekly_ingest_publishes_each_new_week_once_and_nothing_when_there_is_none(
    weekly_dag,
    dags,  # noqa: F811 -- the fixture imported above
    api,
    monkeypatch,
    capsys,
):
    monkeypatch.setenv("COTHER_MODEL_NAME", "cother_test_weekly_live")
    empty_warehouse()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", api.url("/alerts"))

    # A fresh install: the whole file, from its first week
    states, rows, events, _ = scheduled_run(weekly_dag, api, CUT, capsys)
    assert states["cases.publish"] == "success" and states["check_freshness"] == "success"
    weeks = (CUT - date(2020, 1, 5)).days // 7 + 1
    assert weeks_published() == dict.fromkeys(COUNTRIES, (date(2020, 1, 5), CUT, weeks))
    assert (rows, events) == (5 * weeks, 1)
    assert forecast_weeks(dags) == dict.fromkeys(COUNTRIES, next_four(CUT))

    # The run of a day whose last Sunday is published already: the plan skips, nothing is fetched
    asked = len(api.paths(WHO_WEEKLY))
    states, rows, events, said = scheduled_run(
        weekly_dag, api, CUT, capsys, logical_date=datetime(2020, 12, 30, 1, tzinfo=ZoneInfo("UTC"))
    )
    assert states["plan"] == "skipped" and (rows, events) == (0, 0)
    assert len(api.paths(WHO_WEEKLY)) == asked
    assert any(
        "nothing new to ask of who_weekly: the world_weekly set is published through 2020-12-27" in line
        for line in said
    )

    # WHO publishes two more weeks: exactly those are published, and announced once; a daily batch
    # published meanwhile (a daily DAG's, not yet announced) is not the weekly run's to announce
    load("sample_cases", "seoul", date(2021, 1, 1), date(2021, 1, 7))
    states, rows, events, _ = scheduled_run(weekly_dag, api, CUT + 2 * WEEK, capsys)
    assert (rows, events) == (5 * 2, 1)
    assert row_count("raw.batch_log where source = 'sample_cases' and announced_at is null") == 1
    assert weeks_published() == dict.fromkeys(COUNTRIES, (date(2020, 1, 5), CUT + 2 * WEEK, weeks + 2))
    assert forecast_weeks(dags) == dict.fromkeys(COUNTRIES, next_four(CUT + 2 * WEEK))

    # The next day, the file has no new week: nothing landed, published or announced; one line says so
    files = landed_files()
    states, rows, events, said = scheduled_run(weekly_dag, api, CUT + 2 * WEEK, capsys)
    assert states["cases.land"] == "skipped" and states["cases.publish"] == "skipped", states
    assert (rows, events, landed_files()) == (0, 0, files)
    assert any(
        re.search(
            r"who_weekly: nothing new for 2021-01-17\.\.\S+: the file's newest week ends on 2021-01-10; fetched, not landed",
            line,
        )
        for line in said
    ), said

    # A third week
    states, rows, events, _ = scheduled_run(weekly_dag, api, CUT + 3 * WEEK, capsys)
    assert (rows, events) == (5, 1)
    assert weeks_published() == dict.fromkeys(COUNTRIES, (date(2020, 1, 5), CUT + 3 * WEEK, weeks + 3))

    assert row_count("quarantine.batches") == 0
    assert [json.loads(body) for path, body in api.posts if path == "/alerts"] == []
