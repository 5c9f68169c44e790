"""MLflow tracking and the model registry, on the PostgreSQL `mlflow` database, artifacts in a local folder."""

from __future__ import annotations

import os
import tempfile
from importlib.metadata import version as installed_version
from pathlib import Path

import pandas as pd
import psycopg2

from cother_core.database import libpq_url, mlflow_url, parsed
from cother_core.settings import get_settings
from cother_ml.forecaster import Forecaster
from cother_ml.grain import Grain
from cother_ml.promotion import CHAMPION
from cother_ml.publication import Publication
from cother_ml.pyfunc_model import CALIBRATION
from cother_ml.report import BACKTEST_ARTIFACT
from cother_ml.target import DERIVED

# No uv export into every model (it would list the whole platform), no telemetry, no progress bars.
QUIET_MLFLOW = {
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_UV_AUTO_DETECT": "false",
    "MLFLOW_LOG_UV_FILES": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GIT_PYTHON_REFRESH": "quiet",
}


class RegistryUnavailable(RuntimeError):
    pass


# Each region set has a registered model of its own: COTHER_MODEL_NAME for the `korea` set, that name
# and `_<set>` for the others (cother_cases_forecaster_world). Every function below that reads or moves
# a model takes its name: a retrain, a prediction, a promotion or an export names the model of its set.
DEFAULT_SET = "korea"


def model_name_of(region_set: str) -> str:
    base = get_settings().model_name
    return base if region_set == DEFAULT_SET else f"{base}_{region_set}"


def configure():
    """Point MLflow at the registry database.

    An unreachable database fails at once, naming it (MLflow itself would retry for minutes)."""
    for name, value in QUIET_MLFLOW.items():
        os.environ.setdefault(name, value)
    import mlflow

    url = mlflow_url()
    try:
        psycopg2.connect(libpq_url(url), connect_timeout=10).close()
    except psycopg2.OperationalError as failed:
        where = parsed(url).render_as_string(hide_password=True)
        raise RegistryUnavailable(f"the MLflow registry database {where} is unreachable: {failed}") from failed
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    return mlflow


def use_experiment(name: str):
    """configure(), and make the model's experiment (named as the model: its runs apart from another
    set's) the active one, created with its artifact folder the first time."""
    mlflow = configure()
    if mlflow.get_experiment_by_name(name) is None:
        artifacts = get_settings().mlflow_artifacts
        artifacts.mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(name)
    return mlflow


def model_uri(name: str, alias: str = CHAMPION) -> str:
    return f"models:/{name}@{alias}"


def model_input_example(forecasters: dict[int, Forecaster], rows: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """The columns the pyfunc reads (the features, and what the grain's anchors and naive forecasters
    read besides them), as it reads them."""
    features = next(iter(forecasters.values())).features
    columns = list(dict.fromkeys([*(f for f in features if f not in DERIVED), *grain.input_columns]))
    frame = rows[columns].astype({column: "float64" for column in columns if column != "region"})
    return frame.reset_index(drop=True)


def log_and_register(
    name: str,
    forecasters: dict[int, Forecaster],
    example: pd.DataFrame,
    params: dict,
    metrics: dict,
    tags: dict,
    artifacts: Path,
    publication: Publication,
    grain: Grain,
    calibration: pd.DataFrame,
) -> tuple[str, str]:
    """Log the fitted forecasters as one pyfunc in a new run of model `name`'s experiment with the files
    in `artifacts`, and register it as a version of `name`; returns the new version and the run id.
    `publication`: the forecaster the pyfunc answers with per horizon and region, the one the retrain's
    forecasts were made with (cother_ml.fitting.Fitted.publication); `calibration`: the backtest rows its
    quantiles are calibrated on (cother_ml.fitting.Fitted.calibration)."""
    mlflow = use_experiment(name)
    model_input = model_input_example(forecasters, example, grain)
    with mlflow.start_run(tags=tags) as run, tempfile.TemporaryDirectory() as folder:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(artifacts))
        files = {CALIBRATION: str(Path(folder) / f"{CALIBRATION}.csv")}
        calibration.to_csv(files[CALIBRATION], index=False)
        for horizon, forecaster in forecasters.items():
            files[f"booster_h{horizon}"] = str(Path(folder) / f"booster_h{horizon}.txt")
            forecaster.model.booster_.save_model(files[f"booster_h{horizon}"])
        version = log_pyfunc(name, files, model_config(forecasters, publication, grain), model_input)
    return version, run.info.run_id


def model_config(forecasters: dict[int, Forecaster], publication: Publication, grain: Grain) -> dict:
    """What the pyfunc reads besides its boosters (cother_ml.pyfunc_model), and the grain's cadence."""
    any_forecaster = next(iter(forecasters.values()))
    return {
        "features": any_forecaster.features,
        "regions": any_forecaster.regions,
        "horizons": list(forecasters),
        **publication.config(),
        "anchoring": grain.anchoring.config(),
        "cadence": grain.cadence,
    }


def log_pyfunc(name: str, files: dict[str, str], model_config: dict, model_input: pd.DataFrame) -> str:
    """The pyfunc of these files (`booster_h<horizon>`, and its quantiles' `calibration` if it has one) and
    model_config, logged in the active run with the signature of `model_input` and registered as model
    `name`; its version."""
    import mlflow
    from mlflow.models import infer_signature

    from cother_ml.pyfunc_model import CasesForecastModel

    requirements = [f"{name}=={installed_version(name)}" for name in ("mlflow", "lightgbm", "pandas", "numpy")]
    output = CasesForecastModel().load(files, model_config).predict(None, model_input)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=CasesForecastModel(),
        artifacts=files,
        model_config=model_config,
        code_paths=[str(Path(__file__).resolve().parent)],  # the model library, which the pyfunc imports alone
        signature=infer_signature(model_input, output),
        input_example=model_input.head(5),
        pip_requirements=requirements,
        registered_model_name=name,
    )
    return str(info.registered_model_version)


def client():
    configure()
    from mlflow import MlflowClient

    return MlflowClient()


def set_alias(name: str, version: str, alias: str = CHAMPION) -> None:
    client().set_registered_model_alias(name, alias, version)


def tag_version(name: str, version: str, tags: dict) -> None:
    registry = client()
    for key, value in tags.items():
        registry.set_model_version_tag(name, version, key, str(value))


def version_registered(name: str, data_hash: str, registered_by: str):
    """The version of model `name` that `registered_by` registered from training data of this hash (a
    ModelVersion), or None.
    A version is findable from the moment it exists: its run carries both tags from its start, so a
    version registered by an attempt killed before it tagged the version is found by its run's tags."""
    registry = client()
    for version in registry.search_model_versions(f"name = '{name}'"):
        tags = version.tags if "training_data_sha256" in version.tags else registry.get_run(version.run_id).data.tags
        if tags.get("training_data_sha256") == data_hash and tags.get("registered_by") == registered_by:
            return version
    return None


def alias_version(name: str, alias: str = CHAMPION):
    """The version of model `name` that holds `alias` (an MLflow ModelVersion), or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def holds(name: str, alias: str, version: str) -> bool:
    holder = alias_version(name, alias)
    return holder is not None and str(holder.version) == version


def champion_version(name: str) -> str | None:
    version = alias_version(name, CHAMPION)
    return None if version is None else str(version.version)


def load(name: str, alias_or_version: str = CHAMPION):
    """The pyfunc of model `name` at an alias (`champion`) or a version number."""
    mlflow = configure()
    uri = f"models:/{name}/{alias_or_version}" if alias_or_version.isdigit() else f"models:/{name}@{alias_or_version}"
    return mlflow.pyfunc.load_model(uri)


def load_backtest(run_id: str) -> pd.DataFrame | None:
    """A version's backtest forecasts (`BACKTEST_ARTIFACT` of its run), or None if it has none."""
    mlflow = configure()
    from mlflow.exceptions import MlflowException

    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=BACKTEST_ARTIFACT)
    except (MlflowException, OSError):
        return None
    return pd.read_csv(path, parse_dates=["origin_date", "target_date"])
