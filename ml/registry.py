"""MLflow tracking and the model registry, on the PostgreSQL `mlflow` database, artifacts in a local folder."""

from __future__ import annotations

import os
import tempfile
from importlib.metadata import version as installed_version
from pathlib import Path

import pandas as pd

from cother.database import mlflow_url
from cother.settings import PROJECT_ROOT, get_settings
from ml.forecaster import NextDayForecaster
from ml.target import ANCHOR

EXPERIMENT = "cother_next_day_cases"
# No uv export into every model (it would list the whole platform), no telemetry, no progress bars.
QUIET_MLFLOW = {
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_UV_AUTO_DETECT": "false",
    "MLFLOW_LOG_UV_FILES": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GIT_PYTHON_REFRESH": "quiet",
}
CHAMPION = "champion"


def configure():
    """Point MLflow at the registry database; creates the experiment (and its artifact folder) once."""
    for name, value in QUIET_MLFLOW.items():
        os.environ.setdefault(name, value)
    import mlflow

    url = mlflow_url()
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        artifacts = get_settings().mlflow_artifacts_dir
        artifacts.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(EXPERIMENT)
    return mlflow


def model_uri(alias: str = CHAMPION) -> str:
    return f"models:/{get_settings().model_name}@{alias}"


def log_and_register(
    forecaster: NextDayForecaster, example: pd.DataFrame, params: dict, metrics: dict, tags: dict
) -> str:
    """Log the fitted forecaster as a pyfunc in a new run and register it; returns the new version."""
    mlflow = configure()
    from mlflow.models import infer_signature

    from ml.pyfunc_model import CasesForecastModel

    model_input = example[[*forecaster.features, ANCHOR]].astype("float64")
    requirements = [f"{name}=={installed_version(name)}" for name in ("mlflow", "lightgbm", "pandas", "numpy")]
    with mlflow.start_run(tags=tags), tempfile.TemporaryDirectory() as folder:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_dict(forecaster.feature_importance(), "feature_importance.json")
        booster = Path(folder) / "booster.txt"
        forecaster.model.booster_.save_model(str(booster))
        output = pd.DataFrame({"forecast_new_cases": forecaster.predict(example)})
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=CasesForecastModel(),
            artifacts={"booster": str(booster)},
            model_config={"features": forecaster.features},
            code_paths=[str(PROJECT_ROOT / "ml")],
            signature=infer_signature(model_input, output),
            input_example=model_input.head(5),
            pip_requirements=requirements,
            registered_model_name=get_settings().model_name,
        )
    return str(info.registered_model_version)


def client():
    configure()
    from mlflow import MlflowClient

    return MlflowClient()


def set_alias(version: str, alias: str = CHAMPION) -> None:
    client().set_registered_model_alias(get_settings().model_name, alias, version)


def tag_version(version: str, tags: dict) -> None:
    registry = client()
    for key, value in tags.items():
        registry.set_model_version_tag(get_settings().model_name, version, key, str(value))


def champion_version() -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client().get_model_version_by_alias(get_settings().model_name, CHAMPION).version)
    except MlflowException:
        return None


def load_champion():
    mlflow = configure()
    return mlflow.pyfunc.load_model(model_uri())
