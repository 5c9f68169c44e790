"""
### cother_retrain: refit the next-day forecaster, register it, promote it only if it wins

Runs when `marts.fct_training_features` passed its gate. Scores LightGBM (target: log change against
the same weekday last week) on a time-based holdout beside persistence and seasonal naive, refits on
all labelled days, registers a new version in the MLflow registry, and moves the alias `champion`
only if the holdout MAE beats the better naive forecaster. Load it with
`mlflow.pyfunc.load_model("models:/cother_cases_forecaster@champion")`.
"""

from airflow.sdk import Param, dag, task

from cother.assets import MODEL, TRAINING_FEATURES
from cother.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=[TRAINING_FEATURES],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "ml"],
    params={"region": Param("seoul", type="string", description="Region the forecaster is trained on")},
)
def cother_retrain():
    @task(outlets=[MODEL])
    def train_and_register(params=None, triggering_asset_events=None, outlet_events=None) -> dict:
        from ml.train import retrain

        lineage = {}
        for event in triggering_asset_events.get(TRAINING_FEATURES, []):
            lineage = {
                "dbt_invocation_id": event.extra.get("dbt_invocation_id"),
                "feature_validations": event.extra.get("validations"),
            }
        result = retrain(params["region"], lineage)
        outlet_events[MODEL].extra = {"version": result["version"], "promoted": result["promoted"]}
        return result

    train_and_register()


cother_retrain()
