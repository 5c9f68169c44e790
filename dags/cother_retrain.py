"""
### cother_retrain: backtest, refit, register; move `champion` only if the new version wins

Runs when `cother_transform` rebuilt `marts.fct_training_features` and its dbt tests passed.
`plan` names the region sets to train: those whose regions the triggering ingestion published
(`korea`: `cother_cases_forecaster`; `world`: `cother_cases_forecaster_world`), on those regions;
triggered by hand, the `region_set` param (default `COTHER_REGION_SET`) and optionally some of its
`regions`. Then `train_and_register`, one per set (`ml/cother_ml/retrain.py`): it reads the set's rows
of the mart and runs their training slice through Great Expectations
(`expectations/fct_training_features.json`; the summary table is in its log): a slice that fails
stops that set there, and nothing is trained or registered. Each feature of the slice's newest weeks
is compared with the rest of its window (KL divergence, `COTHER_DRIFT_NEWEST_DAYS`): a drifted feature
is a warning, in the log, the version's `drifted_features` tag and its card. On the very rows that passed, a
rolling-origin backtest (8 folds, expanding window) scores the forecaster (one LightGBM per horizon,
1 and 7 days ahead, over all regions) beside persistence, seasonal naive, the 7-day mean and the 2021
project's weather model; the model is refitted on every labelled day and registered with its
lineage, plots and model card. `champion` moves to it only if it beats the current champion on the
same latest folds by `COTHER_PROMOTION_MARGIN` and beats the best baseline; otherwise it becomes
`challenger`. Its forecasts go to `ml.forecasts` (`marts.fct_forecasts`), each with its surge warning
(`ml.surge_warnings`, `marts.fct_surge_warnings`): the probability, read off its quantiles, that the count
rises at a surge's pace (+50 % a week), and whether it reaches the level chosen on the backtest for a
recall of 80 % of the surges there. Then each region the set's champion warns of is alerted once per
surge (`COTHER_ALERT_WEBHOOK_URL` or the `cother_alerts` connection; `cother/surge_alerts.py`, kept in
`ml.surge_alerts`). A set none of whose regions has three weeks of history yet is skipped, by name.
Load the champion with `mlflow.pyfunc.load_model("models:/cother_cases_forecaster@champion")`;
move it by hand with `cother model promote VERSION` or `cother model rollback`.
Versions, runs, model cards and plots: [MLflow](http://127.0.0.1:5000/#/models/cother_cases_forecaster)
(`make mlflow-ui`); the forecasts: `marts.fct_forecasts` in the [dbt docs](http://127.0.0.1:8081/index.html).
"""

from airflow.sdk import Param, dag, get_current_context, task

from cother.orchestration.assets import MODEL, TRAINING_FEATURES
from cother.orchestration.dag_defaults import DAGRUN_TIMEOUT, DEFAULT_ARGS, START_DATE
from cother_core.settings import get_settings


@dag(
    schedule=[TRAINING_FEATURES],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["cother", "ml", "quality"],
    params={
        "region_set": Param(
            get_settings().region_set,
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
    def plan(params=None, triggering_asset_events=None) -> list[dict]:
        from cother_ml.retrain import sets_to_train

        events = triggering_asset_events.get(TRAINING_FEATURES, []) if triggering_asset_events else []
        planned = sets_to_train(params, [event.extra for event in events])
        return [{"region_set": name, "regions": regions} for name, regions in planned.items()]

    @task(outlets=[MODEL], map_index_template="{{ region_set }}")  # one per region set, each its own model
    def train_and_register(planned: dict, triggering_asset_events=None, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from cother import surge_alerts
        from cother_core.gate import QualityGateError
        from cother_ml.retrain import NoTrainingRows, retrain

        context = get_current_context()
        context["region_set"] = planned["region_set"]
        provenance = {}
        events = triggering_asset_events.get(TRAINING_FEATURES, []) if triggering_asset_events else []
        if events:  # the latest build is the one whose mart this run reads
            provenance["dbt_invocation_id"] = events[-1].extra.get("dbt_invocation_id")
        moved_by = f"airflow:{context['dag'].dag_id}/{context['run_id']}"
        try:
            result = retrain(planned["region_set"], planned["regions"], provenance, moved_by)
        except NoTrainingRows as nothing:
            raise AirflowSkipException(str(nothing)) from None
        except QualityGateError as failed:  # the same rows fail the same way: no retry
            raise AirflowFailException(str(failed)) from None
        outlet_events[MODEL].extra = {
            "model": result["model_name"],
            "version": result["version"],
            "alias": result["alias"],
        }
        return {**result, "surge_alerts": surge_alerts.check(result["model_name"], context["run_id"])}

    train_and_register.expand(planned=plan())


cother_retrain()
