"""
### cother_ingest: land, validate and publish daily weather and cases per region

For each kind (`weather`, `cases`) and each region (a mapped task group, so one region's failure
does not block the others; the grid names each mapped task by its region):

1. **land**: the source's payload for the region and date range, kept as received in
   `data/landing/<source>/<region>/<batch>` (a range that has landed is reused unless `force_fetch`);
2. **validate**: its Great Expectations suite (`expectations/`); a failing batch goes to
   `quarantine.batches` and the task fails at once, naming the source, region, dates and failures;
3. **publish**: into its `raw.*` table, replacing exactly the batch's (source, region, date)
   partitions in one transaction (skipped when the table already holds this very batch).

**announce** (which runs whatever the regions did) then tells the downstream DAGs, once: it emits `raw.weather` / `raw.cases` with every
partition published since the last announcement, but only from the last pending run of this DAG,
so a backfill of N days leads to one `cother_transform` and one `cother_retrain`.

Scheduled daily (09:00 Asia/Seoul) for the day before; trigger with `start_date`/`end_date` to load
any range in one run. Quarantined batches: `cother quarantine list | show | replay`.
Validation results: [data docs](http://127.0.0.1:8082/index.html) and [dbt docs](http://127.0.0.1:8081/index.html)
(`make docs`). The run fails (`fail_if_any_region_failed`) when any region's batch failed,
after the others were published and announced. **check_freshness** compares the latest published
day of each kind and region with the last day asked for and alerts (`COTHER_ALERT_WEBHOOK_URL` or
the `cother_alerts` connection) when one is more than `COTHER_FRESHNESS_DAYS` (1) behind; a failed
task alerts the same way.
"""

import os

from airflow.sdk import AssetAlias, Param, dag, get_current_context, task, task_group
from airflow.timetables.trigger import CronTriggerTimetable

from cother.assets import KINDS, RAW_ALIAS
from cother.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=CronTriggerTimetable("0 9 * * *", timezone="Asia/Seoul"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    max_active_tasks=4,  # with at most 2 of them validating: Great Expectations is the memory-hungry part
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "ingestion"],
    params={
        "start_date": Param(
            None, type=["null", "string"], format="date", description="First day (default: the day before the run)"
        ),
        "end_date": Param(None, type=["null", "string"], format="date", description="Last day (default: start_date)"),
        "regions": Param(
            os.environ.get("COTHER_REGIONS", "seoul").split(","),
            type="array",
            description="Region ids from config/regions.yml",
        ),
        "weather_source": Param(
            os.environ.get("COTHER_WEATHER_SOURCE", "sample_weather"),
            type="string",
            enum=["sample_weather", "open_meteo", "kma_asos"],
        ),
        "cases_source": Param(
            os.environ.get("COTHER_CASES_SOURCE", "sample_cases"), type="string", enum=["sample_cases", "kdca", "who"]
        ),
        "force_fetch": Param(False, type="boolean", description="Fetch again even where the range has landed before"),
    },
)
def cother_ingest():
    @task
    def plan(params=None, dag_run=None) -> list[dict]:
        from cother.ingest import plan_requests

        return plan_requests(params, dag_run.logical_date or dag_run.run_after)

    @task(max_active_tis_per_dag=4, map_index_template="{{ region }}")  # at most 4 requests to the sources at once
    def land(request: dict, kind: str) -> dict:
        from datetime import date

        from cother.ingest import land

        get_current_context()["region"] = request["region"]

        start, end = date.fromisoformat(request["start"]), date.fromisoformat(request["end"])
        return land(request[f"{kind}_source"], request["region"], start, end, request["force_fetch"])

    @task(max_active_tis_per_dag=1, map_index_template="{{ region }}")  # one Great Expectations process per kind
    def validate(batch: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        get_current_context()["region"] = batch["region"]

        from cother.ingest import validate
        from cother.quality import QualityGateError
        from cother.sources import SourceError

        try:
            return validate(batch)
        except (QualityGateError, SourceError) as failed:  # the same landed bytes fail the same way: no retry
            raise AirflowFailException(str(failed)) from failed

    @task(map_index_template="{{ region }}")
    def publish(validated: dict) -> dict:
        from cother.ingest import publish

        get_current_context()["region"] = validated["batch"]["region"]

        return publish(validated)

    @task(outlets=[RAW_ALIAS], trigger_rule="all_done")
    def announce(outlet_events=None, dag_run=None, ti=None) -> dict:
        from cother.ingest import announce

        return announce(dag_run, ti, outlet_events[AssetAlias(RAW_ALIAS.name)])

    @task(trigger_rule="all_done")
    def check_freshness(requests: list[dict], run_id=None) -> dict:
        from cother.freshness import check

        return check(requests, run_id)

    @task(trigger_rule="one_failed")
    def fail_if_any_region_failed() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("a region's batch failed: the failed tasks in the grid name it")

    requests = plan()
    groups = []
    for kind in KINDS:

        @task_group(group_id=kind)
        def per_region(request: dict, kind=kind):
            publish(validate(land(request, kind)))

        groups.append(per_region.expand(request=requests))
    groups >> announce()
    groups >> check_freshness(requests)
    groups >> fail_if_any_region_failed()


cother_ingest()
