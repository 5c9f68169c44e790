"""
### cother_retrain: backtest, refit, register; move `champion` only if the new version wins

Runs when `cother_transform` rebuilt `marts.fct_training_features` and its dbt tests passed.
`validate_training_slice` first runs each region's slice of the mart that training reads through
Great Expectations (`expectations/fct_training_features.json`; the summary table is in its log): a
slice that fails stops the run there, and nothing is trained or registered. It trains the model of each
region set whose regions the triggering ingestion published (`korea`: `cother_cases_forecaster`;
`world`: `cother_cases_forecaster_world`), on those regions; triggered by hand, the `region_set`
param (default `COTHER_REGION_SET`) and optionally some of its `regions`. Then `train_and_register`: a rolling-origin backtest (8 folds, expanding window)
scores the forecaster (one LightGBM per horizon, 1 and 7 days ahead, over all regions) beside
persistence, seasonal naive, the 7-day mean and the 2021 project's weather model; the model is
refitted on every labelled day and registered with its lineage, plots and model card. `champion` moves to it only if it beats the
current champion on the same latest folds by `COTHER_PROMOTION_MARGIN` and beats the best baseline;
otherwise it becomes `challenger`. Its forecasts go to `ml.forecasts` (`marts.fct_forecasts`).
Load the champion with `mlflow.pyfunc.load_model("models:/cother_cases_forecaster@champion")`;
move it by hand with `cother model promote VERSION` or `cother model rollback`.
Versions, runs, model cards and plots: [MLflow](http://127.0.0.1:5000/#/models/cother_cases_forecaster)
(`make mlflow-ui`); the forecasts: `marts.fct_forecasts` in the [dbt docs](http://127.0.0.1:8081/index.html).
"""

import os

from airflow.sdk import Param, dag, get_current_context, task

from cother.assets import MODEL, TRAINING_FEATURES
from cother.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=[TRAINING_FEATURES],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "ml", "quality"],
    params={
        "region_set": Param(
            os.environ.get("COTHER_REGION_SET", "korea"),
            type="string",
            description="When triggered by hand: the region set whose model is retrained",
        ),
        "regions": Param(
            [], type="array", description="When triggered by hand: some regions of the set (default: all)"
        ),
    },
)
def cother_retrain():
    @task
    def validate_training_slice(params=None, triggering_asset_events=None) -> list[dict]:
        from ml.train import validated_slices

        events = triggering_asset_events.get(TRAINING_FEATURES, []) if triggering_asset_events else []
        return validated_slices(params, [event.extra for event in events])

    @task(outlets=[MODEL], map_index_template="{{ region_set }}")  # one per region set, each its own model
    def train_and_register(checked: dict, triggering_asset_events=None, outlet_events=None) -> dict:
        from ml.train import retrain

        context = get_current_context()
        context["region_set"] = checked["region_set"]
        validations = checked["validations"]
        provenance = {"slice_validation_ids": ",".join(sorted({v["validation_id"] for v in validations}))}
        events = triggering_asset_events.get(TRAINING_FEATURES, []) if triggering_asset_events else []
        if events:  # the latest build is the one whose mart this run reads
            provenance["dbt_invocation_id"] = events[-1].extra.get("dbt_invocation_id")
        moved_by = f"airflow:{context['dag'].dag_id}/{context['run_id']}"
        result = retrain(checked["region_set"], [v["region"] for v in validations], provenance, moved_by)
        outlet_events[MODEL].extra = {
            "model": result["model_name"],
            "version": result["version"],
            "alias": result["alias"],
        }
        return result

    train_and_register.expand(checked=validate_training_slice())


cother_retrain()
