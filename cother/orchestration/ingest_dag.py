"""The ingestion DAG, built by one function for each schedule it runs on: `cother_ingest` (the daily
sets, for the day before) and `cother_ingest_weekly` (the weekly sets, every day for the weeks not yet
published) differ in their id, schedule, the defaults of their params and the first part of their docs,
never in their tasks. Imported by the DAG files: Airflow and the project's settings only, nothing heavy."""

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import AssetAlias, Param, TaskGroup, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from cother.ingest import KINDS
from cother.orchestration.assets import RAW_ALIAS
from cother.orchestration.dag_defaults import DAGRUN_TIMEOUT, DEFAULT_ARGS, START_DATE
from cother_core.settings import SOURCE_NAMES, get_settings

STAGES_DOC = """
**plan** checks the request once (the set, the regions, the dates, the sources); when a live source's
calls are more than its quota windows allow at once, its log says so, with the least the waits take.
Then, for each kind (`weather`, `cases`), one task per stage, whatever the number of regions:

1. **land**: one payload for every region, from as few requests as the source allows (one file for
   every country, one request a day for every province, many places per request), kept as received
   in `data/landing/<source>/<batch>` (a range that has landed is reused unless `force_fetch`); while
   it waits for a quota window or a retry, its log says what for, the calls done and left, and when it
   goes on, at least once a minute;
2. **validate**: one Great Expectations run over the whole batch (`expectations/`) with a verdict per
   region; its log starts with a line per region (passed, warnings, the first failure). A failing
   region goes to `quarantine.batches` alone, with the source, region, dates, rule, expected and
   observed value;
3. **publish**: the passing regions into the source's `raw.*` table, replacing exactly their
   (source, region, date) partitions in one transaction (a region that already holds this very batch
   is left as it is).

**announce** (which runs whatever the regions did) then tells the downstream DAGs, once: it emits
`raw.weather` / `raw.cases` for every batch of the run's sources published since their last
announcement (a daily run never announces a weekly run's batches, nor the other way), but only from the
last pending run of this DAG, so a backfill of N days leads to one `cother_transform` and one
`cother_retrain`. **check_freshness** alerts (`COTHER_ALERT_WEBHOOK_URL` or the `cother_alerts`
connection) when a region's latest published day is more than `COTHER_FRESHNESS_DAYS` (1) behind (a
weekly file: behind the weeks it holds). **fail_if_any_region_failed** fails the run, after the others
were published and announced, naming every failed region and its rule. **no_task_failed** is the run's
state: when any task failed (a refused plan, a source that stayed down, a publish the warehouse
refused), it ends `upstream_failed` and the run `failed`, with one alert, that of the failed task.

A task is retried twice when its failure may pass by itself (a source down, the warehouse restarting)
and fails at once when the same input fails the same way: a refused plan, a source's refusal or
missing key, a landed file that is gone (`cother/orchestration/dag_defaults.py`). A run with nothing to
load skips, its `plan` or `land` saying why in one line (no quarantine, no alert). Quarantined batches:
`cother quarantine list | show | replay`. Validation results: [data docs](http://127.0.0.1:8082/index.html)
and [dbt docs](http://127.0.0.1:8081/index.html) (`make docs`).
"""


def ingest_dag(dag_id: str, doc_md: str, cron: str, region_set: str, regions: list[str], cases_source: str):
    """The ingestion DAG `dag_id`, run on `cron` (Asia/Seoul), whose params default to this region set,
    these of its regions (none: all of them) and this cases source (the weather source to the settings')."""

    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone="Asia/Seoul"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=DAGRUN_TIMEOUT,
        default_args=DEFAULT_ARGS,
        doc_md=doc_md + STAGES_DOC,
        tags=["cother", "ingestion"],
        params={
            "start_date": Param(
                None, type=["null", "string"], format="date", description="First day (default: as scheduled)"
            ),
            "end_date": Param(
                None, type=["null", "string"], format="date", description="Last day (default: start_date)"
            ),
            "region_set": Param(region_set, type="string", description="A set of config/regions/"),
            "regions": Param(
                list(regions),
                type="array",
                description="Some regions of the set (default: all of them)",
            ),
            "weather_source": Param(get_settings().weather_source, type="string", enum=list(SOURCE_NAMES["weather"])),
            "cases_source": Param(cases_source, type="string", enum=list(SOURCE_NAMES["cases"])),
            "force_fetch": Param(
                False, type="boolean", description="Fetch again even where the range has landed before"
            ),
        },
    )
    def ingest():
        @task
        def plan(params=None, dag_run=None) -> dict:
            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            from cother.ingest.stages import NothingToLoad, PlanError, plan

            try:
                return plan(params, dag_run.logical_date or dag_run.run_after)
            except NothingToLoad as reason:
                raise AirflowSkipException(str(reason)) from None  # the run skips its stages, no alert
            except PlanError as error:
                raise AirflowFailException(f"{dag_run.dag_id}: the run cannot be done: {error}") from None  # no retry

        @task
        def land(request: dict, kind: str) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from cother.ingest.stages import NothingToLoad, land

            try:
                return land(request, kind)
            except NothingToLoad as reason:
                raise AirflowSkipException(str(reason)) from None  # the kind's stages skip, no alert

        @task
        def validate(batch: dict) -> dict:
            from cother.ingest.stages import validate

            return validate(batch)

        @task
        def publish(validated: dict) -> dict:
            from cother.ingest.stages import publish

            return publish(validated)

        @task(outlets=[RAW_ALIAS], trigger_rule="all_done")
        def announce(request: dict | None, outlet_events=None, dag_run=None, ti=None) -> dict:
            from cother.orchestration.announce import announce

            return announce(request, dag_run, ti, outlet_events[AssetAlias(RAW_ALIAS.name)])

        @task(trigger_rule="all_done")
        def check_freshness(request: dict | None, landed: list[dict | None], dag_run=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from cother.ingest.freshness import check

            if request is None:  # the plan skipped or failed the run: it asked for nothing
                raise AirflowSkipException("no request to check")
            return check(request, landed, dag_run.dag_id, dag_run.run_id)

        @task(trigger_rule="all_done")
        def fail_if_any_region_failed(verdicts: list[dict]) -> None:
            from airflow.sdk.exceptions import AirflowFailException

            from cother.ingest.stages import failures

            failed = failures([verdict for verdict in verdicts if verdict])
            if failed:
                raise AirflowFailException(f"regions failed their gate (the others were published):\n{failed}")

        request = plan()
        landed, verdicts, published = [], [], []
        for kind in KINDS:
            with TaskGroup(group_id=kind):
                batch = land(request, kind)
                verdict = validate(batch)
                published.append(publish(verdict))
            landed.append(batch)
            verdicts.append(verdict)
        ends = [announce(request), check_freshness(request, landed), fail_if_any_region_failed(verdicts)]
        for end in ends:
            published >> end
        # These ends run whatever happened before them, so the run's state is this task's: upstream_failed
        # (the run failed) when a task failed, here or upstream of a publish (plan, land, validate)
        [*published, *ends] >> EmptyOperator(task_id="no_task_failed", trigger_rule="none_failed")

    return ingest()
