"""
### cother_transform: dbt build, each model's status, then the quality gate on the training slice

Runs when the ingestion DAG announces new raw partitions (`raw.weather` or `raw.cases`; one
announcement covers a whole backfill). `dbt_build` runs one `dbt build` of the staging,
intermediate and mart models of `dbt_project/` with their tests. `dbt_node` then shows each model
(and each tested source) as one mapped task named after it: green if it and all its tests passed,
red with the failing tests in its log, skipped when something upstream failed. Beside them, and
only if the whole build passed, the slice of `marts.fct_training_features` that feeds training is
validated per region with Great Expectations (`expectations/fct_training_features.json`); only a
slice that passed emits `marts.fct_training_features`, which schedules `cother_retrain`.

`dbt_docs_generate` refreshes the docs site after each successful build. Models and tests:
[dbt docs](http://127.0.0.1:8081/index.html); validations:
[data docs](http://127.0.0.1:8082/index.html) (both served by `make docs`).
"""

import os

from airflow.sdk import Param, dag, get_current_context, task

from cother.assets import RAW_CASES, RAW_WEATHER, TRAINING_FEATURES
from cother.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=(RAW_WEATHER | RAW_CASES),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "dbt", "quality"],
    params={
        "regions": Param(
            os.environ.get("COTHER_REGIONS", "seoul").split(","),
            type="array",
            description="Regions whose training slice is validated (and then trained on)",
        )
    },
)
def cother_transform():
    @task
    def dbt_build() -> list[dict]:
        from cother.transform import build

        built = build()
        get_current_context()["ti"].xcom_push(
            "build", {"invocation_id": built["invocation_id"], "success": built["success"]}
        )
        return built["nodes"]

    @task(map_index_template="{{ node }}")
    def dbt_node(status: dict) -> str:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from cother.transform import TransformError, check_node

        get_current_context()["node"] = status["node"]
        if status["status"] == "skipped":
            raise AirflowSkipException(f"model {status['node']}: skipped, something upstream failed")
        try:
            return check_node(status)
        except TransformError as failed:
            raise AirflowFailException(str(failed)) from failed

    def require_success(build: dict) -> None:
        from airflow.sdk.exceptions import AirflowSkipException

        if not build["success"]:
            raise AirflowSkipException("dbt build failed: the red dbt_node tasks name the models and tests")

    @task(outlets=[TRAINING_FEATURES], priority_weight=10)  # before the status tasks: it is the longest
    def validate_training_slice(build: dict, params=None, outlet_events=None) -> dict:
        from ml.features import validate_training_slice

        require_success(build)
        validations = [validate_training_slice(region) for region in params["regions"]]
        lineage = {"dbt_invocation_id": build["invocation_id"], "validations": validations}
        outlet_events[TRAINING_FEATURES].extra = lineage
        return lineage

    @task(priority_weight=10)
    def dbt_docs_generate(build: dict) -> str:
        from cother.transform import generate_docs

        require_success(build)
        return generate_docs(after_build=True)

    built = dbt_build()
    dbt_node.expand(status=built)
    validate_training_slice(built["build"])
    dbt_docs_generate(built["build"])


cother_transform()
