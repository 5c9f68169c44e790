"""
### cother_transform: dbt build and docs, then each model's status

Runs when the ingestion DAG announces new raw partitions (`raw.weather` or `raw.cases`; one
announcement covers a whole backfill). `dbt_build` runs one `dbt build` of the staging,
intermediate and mart models of `dbt_project/` with their tests and, if it passed, `dbt docs
generate` from the same manifest; only then does it emit `marts.fct_training_features`, which
schedules `cother_retrain` (whose first task validates the training slice with Great Expectations).
`dbt_node` then shows each model (and each tested source) as one mapped task named after it: green
if it and all its tests passed, red with the failing tests in its log, skipped when something
upstream failed. `check_field_accuracy` then alerts once when the champion (the version the MLflow
registry's `champion` alias holds) has done worse than persistence over its last 14 scored days
(COTHER_FIELD_ACCURACY_DAYS) of a region and horizon, naming them with both MAEs
(marts.fct_forecast_accuracy; cother/transform/field_accuracy.py); the next retrain's promotion gate
reads those alerts. It also alerts once when the champion's 95 % intervals held
fewer than 80 % of the actuals over its last 28 scored days of a region and horizon.

Models, tests and lineage: [dbt docs](http://127.0.0.1:8081/index.html); validations:
[data docs](http://127.0.0.1:8082/index.html) (both served by `make docs`).
"""

from airflow.sdk import dag, get_current_context, task

from cother.orchestration.assets import MARTS_ALIAS, RAW_CASES, RAW_WEATHER, TRAINING_FEATURES
from cother.orchestration.dag_defaults import DAGRUN_TIMEOUT, DEFAULT_ARGS, START_DATE


@dag(
    schedule=(RAW_WEATHER | RAW_CASES),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "dbt"],
)
def cother_transform():
    @task(outlets=[MARTS_ALIAS])
    def dbt_build(outlet_events=None, triggering_asset_events=None) -> list[dict]:
        from cother.transform.dbt import build

        built = build()
        if built["success"]:  # the regions the ingestions published: the retrain trains their sets' models
            events = [
                event for asset in (RAW_WEATHER, RAW_CASES) for event in (triggering_asset_events or {}).get(asset, [])
            ]
            regions = sorted({region for event in events for region in event.extra.get("regions", [])})
            extra = {"dbt_invocation_id": built["invocation_id"], "regions": regions}
            outlet_events[MARTS_ALIAS].add(TRAINING_FEATURES, extra=extra)
        return built["nodes"]

    # two at a time: the models' statuses must not hold every worker slot while the retrain the build
    # scheduled waits for one
    @task(map_index_template="{{ node }}", max_active_tis_per_dagrun=2)
    def dbt_node(status: dict) -> str:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from cother.transform.dbt import TransformError, check_node

        get_current_context()["node"] = status["node"]
        if status["status"] == "skipped":
            raise AirflowSkipException(f"model {status['node']}: skipped, something upstream failed")
        try:
            return check_node(status)
        except TransformError as failed:
            raise AirflowFailException(str(failed)) from failed

    @task
    def check_field_accuracy(nodes: list[dict]) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from cother.transform.field_accuracy import MART, check

        built = [node for node in nodes if node["node"] == MART and node["status"] == "success"]
        if not built:
            raise AirflowSkipException(f"{MART} was not built: the forecasts are not scored")
        return check(get_current_context()["run_id"])

    built = dbt_build()
    dbt_node.expand(status=built)
    check_field_accuracy(built)


cother_transform()
