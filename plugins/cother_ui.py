"""What CO-THER adds to the Airflow UI: the Forecasts page in its navigation (cother/forecast_page/,
served by the API server at /forecasts/ behind Airflow's login), and an "MLflow run" button on a
`cother_retrain` run's task `train_and_register`, opening the MLflow run that registered its model version.

Airflow 3 evaluates the links that operators define on the worker, at the end of the task, and keeps
them in XCom; a plugin's global link is asked for its URL in the API server, when the UI shows a task
instance. A TaskFlow task's operator class is shared by every @task, so this is a global link that
answers for the retrain's task only: the run id it returned (its XCom `return_value`), read from the
metadata database. An empty URL hides the button. The MLflow UI (`make mlflow-ui`) is at COTHER_MLFLOW_UI_URL
(its default: core/cother_core/settings.py); its `#/runs/<run id>` page opens the run in its experiment.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

from cother.forecast_page.app import app as forecast_page

RETRAIN_TASK = ("cother_retrain", "train_and_register")


class MlflowRunLink(BaseOperatorLink):
    name = "MLflow run"

    def get_link(self, operator, *, ti_key) -> str:
        if (ti_key.dag_id, ti_key.task_id) != RETRAIN_TASK:
            return ""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        from cother_core.settings import get_settings

        query = XComModel.get_many(
            key="return_value",
            run_id=ti_key.run_id,
            dag_ids=ti_key.dag_id,
            task_ids=ti_key.task_id,
            map_indexes=ti_key.map_index,
        )
        with create_session() as session:
            xcom = session.scalars(query).first()
            returned = XComModel.deserialize_value(xcom) if xcom else {}
        run_id = returned.get("run_id")  # none before the task returned, nor from retrains older than the key
        if not run_id:
            return ""
        ui = get_settings().mlflow_ui_url.rstrip("/")
        return f"{ui}/#/runs/{run_id}"


class CotherUiPlugin(AirflowPlugin):
    name = "cother_ui"
    global_operator_extra_links = [MlflowRunLink()]
    fastapi_apps = [{"app": forecast_page, "url_prefix": "/forecasts", "name": "Forecasts"}]
    # with a url_route, the UI shows the page inside itself, at /plugin/forecasts
    external_views = [
        {
            "name": "Forecasts",
            "href": "forecasts/",
            "destination": "nav",
            "url_route": "forecasts",
            "nav_top_level": True,
        }
    ]
