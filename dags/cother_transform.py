"""
### cother_transform: dbt build, then the quality gate on the training slice

Runs when the ingestion DAG announces new raw partitions (`raw.weather` or `raw.cases`; one
announcement covers a whole backfill). `dbt build` runs the staging,
intermediate and mart models of `dbt_project/` with their tests; then the slice of
`marts.fct_training_features` that feeds training is validated per region with Great Expectations
(`expectations/fct_training_features.json`). Only a slice that passed emits
`marts.fct_training_features`, which schedules `cother_retrain`.

After each successful build `dbt_docs_generate` refreshes the docs site. Models and tests: [dbt docs](http://127.0.0.1:8081/index.html); validations:
[data docs](http://127.0.0.1:8082/index.html) (both served by `make docs`).
"""

from airflow.sdk import Param, dag, task

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
    params={"regions": Param(["seoul"], type="array", description="Regions whose training slice is validated")},
)
def cother_transform():
    @task
    def dbt_build() -> dict:
        from cother.transform import build

        return build()

    @task(outlets=[TRAINING_FEATURES])
    def validate_training_slice(built: dict, params=None, outlet_events=None) -> dict:
        from ml.features import validate_training_slice

        validations = [validate_training_slice(region) for region in params["regions"]]
        outlet_events[TRAINING_FEATURES].extra = {
            "dbt_invocation_id": built["invocation_id"],
            "validations": validations,
        }
        return {"dbt": built, "validations": validations}

    @task
    def dbt_docs_generate(built: dict) -> str:
        from cother.transform import generate_docs

        return generate_docs()

    built = dbt_build()
    validate_training_slice(built)
    dbt_docs_generate(built)


cother_transform()
