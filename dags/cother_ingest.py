"""
### cother_ingest: land, validate and publish daily weather and cases per region

Each source's payload for a region and date range is **landed** as received
(`data/landing/<source>/<region>/<batch>`), **validated** with its Great Expectations suite
(`expectations/`; a failing batch goes to `quarantine.batches` and the task fails naming the source,
region, dates and failed expectations) and **published** into its `raw.*` table, replacing exactly the
batch's (source, region, date) partitions in one transaction.

Scheduled daily (09:00 Asia/Seoul) for the day before; trigger with `start_date`/`end_date` to load any
range in one run. Publishing emits the `raw.weather` / `raw.cases` assets that schedule `cother_transform`.
"""

from airflow.sdk import Param, dag, task, task_group
from airflow.timetables.trigger import CronTriggerTimetable

from cother.assets import RAW_BY_KIND
from cother.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=CronTriggerTimetable("0 9 * * *", timezone="Asia/Seoul"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "ingestion"],
    params={
        "start_date": Param(
            None, type=["null", "string"], format="date", description="First day (default: the day before the run)"
        ),
        "end_date": Param(None, type=["null", "string"], format="date", description="Last day (default: start_date)"),
        "regions": Param(["seoul"], type="array", description="Region ids from config/regions.yml"),
        "weather_source": Param("sample_weather", type="string"),
        "cases_source": Param("sample_cases", type="string"),
    },
)
def cother_ingest():
    @task
    def plan(params=None, dag_run=None) -> list[dict]:
        from cother.ingest import plan_requests

        return plan_requests(params, dag_run.logical_date or dag_run.run_after)

    @task
    def land(request: dict, kind: str) -> dict:
        from datetime import date

        from cother.ingest import land

        return land(
            request[f"{kind}_source"],
            request["region"],
            date.fromisoformat(request["start"]),
            date.fromisoformat(request["end"]),
        )

    @task
    def validate(batch: dict) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from cother.ingest import validate
        from cother.quality import QualityGateError

        try:
            return validate(batch)
        except QualityGateError as failed:  # the same landed bytes fail the same way: no retry
            raise AirflowFailException(str(failed)) from failed

    def publish_task(kind: str):
        asset = RAW_BY_KIND[kind]

        @task(task_id="publish", outlets=[asset])
        def publish(validated: dict, outlet_events=None) -> dict:
            from cother.ingest import publish

            published = publish(validated)
            outlet_events[asset].extra = {"partitions": [published]}
            return published

        return publish

    requests = plan()
    for kind in RAW_BY_KIND:

        @task_group(group_id=kind)
        def source_group(kind=kind):
            batches = land.partial(kind=kind).expand(request=requests)
            publish_task(kind).expand(validated=validate.expand(batch=batches))

        source_group()


cother_ingest()
