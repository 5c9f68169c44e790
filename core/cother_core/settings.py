"""One settings object: every COTHER_* variable is a field of Settings, read from the environment (and
a local `.env`, never committed) each time get_settings() is called, so a changed variable is seen at once.

Each field names its variable, default, group and meaning; `.env.example` and docs/configuration.md are
written from them (`cother config`), and a test checks both, and docker-compose.yml, against them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parents[2]

WAREHOUSE_DB = "cother"
AIRFLOW_DB = "airflow"
MLFLOW_DB = "mlflow"

GROUPS = ("Local runtime", "Databases", "Runs", "Sources", "Model", "Alerts", "Airflow UI", "Celery")
# The sources a run may pick, by kind: the names of cother.ingest.sources.SOURCES, written here so that the
# sources' variables below and the ingest DAGs' params read them without importing the sources (a DAG file
# must stay cheap to parse); tests/test_dag_integrity.py ties them to SOURCES.
SOURCE_NAMES = {
    "weather": ("sample_open_meteo", "sample_weather", "open_meteo", "kma_asos"),
    "cases": ("sample_cases", "jhu", "kdca", "who", "who_weekly", "sample_who_weekly"),
}


def one_of(names: tuple[str, ...]) -> str:
    """Names in words: "a, b or c"."""
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    group: str
    doc: str
    deployed: bool  # a deployment may set it: docker-compose.yml passes it to the Airflow services


def setting(name: str, default: str, group: str, doc: str, deployed: bool = True):
    return field(metadata={"variable": Variable(name, default, group, doc, deployed)})


@dataclass(frozen=True)
class Settings:
    # Local runtime
    runtime_dir: Path = setting(
        "COTHER_RUNTIME_DIR",
        ".runtime",
        "Local runtime",
        "the runtime folder: PostgreSQL's data, Airflow's home, dbt's target",
    )
    landing_dir: Path = setting(
        "COTHER_LANDING_DIR", "data/landing", "Local runtime", "the landing zone: every payload as received"
    )
    sample_dir: Path = setting(
        "COTHER_SAMPLE_DIR", "data/sample", "Local runtime", "the bundled data the sample sources replay", False
    )
    pg_port: int = setting("COTHER_PG_PORT", "55432", "Local runtime", "the embedded PostgreSQL's port", False)
    redis_port: int = setting(
        "COTHER_REDIS_PORT", "56379", "Local runtime", "the project's Redis (the Celery broker of `make celery`)", False
    )
    # Databases
    database_url: str | None = setting(
        "COTHER_DATABASE_URL", "", "Databases", "the warehouse on a server of your own (unset: the embedded PostgreSQL)"
    )
    airflow_database_url: str | None = setting(
        "COTHER_AIRFLOW_DATABASE_URL",
        "",
        "Databases",
        "Airflow's metadata database (unset: `airflow` beside the warehouse)",
    )
    mlflow_database_url: str | None = setting(
        "COTHER_MLFLOW_DATABASE_URL",
        "",
        "Databases",
        "the MLflow registry's database (unset: `mlflow` beside the warehouse)",
    )
    mlflow_artifacts_dir: Path | None = setting(
        "COTHER_MLFLOW_ARTIFACTS_DIR",
        "",
        "Databases",
        "where MLflow keeps the models' files (unset: <runtime>/mlartifacts)",
    )
    # Runs: the defaults of the DAGs' params, and how long a run may last
    region_set: str = setting(
        "COTHER_REGION_SET", "korea", "Runs", "a region set of config/regions/ (korea, world, world_weekly)"
    )
    regions_dir: Path = setting(
        "COTHER_REGIONS_DIR",
        "config/regions",
        "Runs",
        "the region sets' files, one set each (docs/sources.md#regions)",
        False,
    )
    regions: tuple[str, ...] = setting(
        "COTHER_REGIONS", "", "Runs", "some regions of the set, comma-separated (empty: all)"
    )
    weather_source: str = setting("COTHER_WEATHER_SOURCE", "sample_open_meteo", "Runs", one_of(SOURCE_NAMES["weather"]))
    cases_source: str = setting("COTHER_CASES_SOURCE", "sample_cases", "Runs", one_of(SOURCE_NAMES["cases"]))
    dagrun_timeout_hours: float = setting(
        "COTHER_DAGRUN_TIMEOUT_HOURS",
        "48",
        "Runs",
        "a run still unfinished after this many hours is failed by the scheduler, whatever left it so (0: never);"
        " the longest legitimate one, a live first load of the world that needs two days of Open-Meteo's free"
        " quota, lasts a little over 24 hours",
    )
    task_timeout_hours: float = setting(
        "COTHER_TASK_TIMEOUT_HOURS",
        "30",
        "Runs",
        "a task still running after this many hours is failed (and retried, as its failure allows) (0: never);"
        " the longest legitimate one, the `land` of that first load of the world, waits a little over 24 hours"
        " for Open-Meteo's daily quota",
    )
    # Sources
    data_go_kr_service_key: str | None = setting(
        "COTHER_DATA_GO_KR_SERVICE_KEY",
        "",
        "Sources",
        "the data.go.kr service key for KMA ASOS and KDCA (or the Airflow connection cother_data_go_kr)",
    )
    kdca_url: str = setting(
        "COTHER_KDCA_URL", "http://apis.data.go.kr/1352000/ODMS_COVID_04/callCovid04Api", "Sources", "KDCA's endpoint"
    )
    kma_url: str = setting(
        "COTHER_KMA_URL",
        "http://apis.data.go.kr/1360000/AsosDalyInfoService/getWthrDataList",
        "Sources",
        "KMA ASOS's endpoint",
    )
    open_meteo_url: str = setting(
        "COTHER_OPEN_METEO_URL",
        "https://archive-api.open-meteo.com/v1/archive",
        "Sources",
        "Open-Meteo's archive endpoint (a base URL, https://host, is taken as its /v1/archive)",
    )
    who_url: str = setting(
        "COTHER_WHO_URL",
        "https://srhdpeuwpubsa.blob.core.windows.net/whdh/COVID/WHO-COVID-19-global-daily-data.csv",
        "Sources",
        "WHO's daily file",
    )
    who_weekly_url: str = setting(
        "COTHER_WHO_WEEKLY_URL",
        "https://srhdpeuwpubsa.blob.core.windows.net/whdh/COVID/WHO-COVID-19-global-data.csv",
        "Sources",
        "WHO's weekly file (one row per country or area and Sunday), the source of the world_weekly set",
    )
    open_meteo_rate_limit: str = setting(
        "COTHER_OPEN_METEO_RATE_LIMIT",
        "600/60,5000/3600,10000/86400",
        "Sources",
        "Open-Meteo's limits, calls/seconds per window, shared by every worker (a paid plan allows more)",
    )
    kma_rate_limit: str = setting(
        "COTHER_KMA_RATE_LIMIT",
        "30/1,10000/86400",
        "Sources",
        "KMA ASOS's limits, calls/seconds per window, shared by every worker (data.go.kr's development key)",
    )
    http_attempts: int = setting("COTHER_HTTP_ATTEMPTS", "5", "Sources", "attempts per request to a live source")
    http_backoff_base_s: float = setting(
        "COTHER_HTTP_BACKOFF_BASE_S", "1.0", "Sources", "backoff: a uniform wait up to base * 2^attempt seconds"
    )
    http_backoff_cap_s: float = setting(
        "COTHER_HTTP_BACKOFF_CAP_S", "60.0", "Sources", "the longest wait between attempts"
    )
    http_connect_timeout_s: float = setting(
        "COTHER_HTTP_CONNECT_TIMEOUT_S", "5.0", "Sources", "connect timeout, seconds"
    )
    http_read_timeout_s: float = setting(
        "COTHER_HTTP_READ_TIMEOUT_S", "60.0", "Sources", "read timeout, seconds: the longest wait for each read"
    )
    http_deadline_s: float = setting(
        "COTHER_HTTP_DEADLINE_S",
        "300.0",
        "Sources",
        "the longest one attempt at a request may take, from connecting to the answer's last byte, seconds"
        " (a server that sends a byte at a time within the read timeout is cut off then, and retried)",
    )
    http_max_answer_mb: float = setting(
        "COTHER_HTTP_MAX_ANSWER_MB",
        "100",
        "Sources",
        "the most an answer may hold, in MB (10^6 bytes), as received and once its gzip is inflated: a larger"
        " one is refused by name, unread (WHO's daily file, the largest, has seven times the rows of its weekly"
        " one, 3.7 MB in data/sample)",
    )
    # Model
    model_name: str = setting(
        "COTHER_MODEL_NAME",
        "cother_cases_forecaster",
        "Model",
        "the korea set's registered model; another set's is this name, `_`, the set's name",
    )
    weather_features: bool = setting("COTHER_WEATHER_FEATURES", "true", "Model", "whether the model reads the weather")
    weather_required: tuple[str, ...] = setting(
        "COTHER_WEATHER_REQUIRED",
        "temperature_mean_c,temperature_min_c,temperature_max_c,precipitation_mm,relative_humidity_mean_pct",
        "Model",
        "the weather the model needs, comma-separated (of temperature_mean_c, temperature_min_c, temperature_max_c,"
        " precipitation_mm, wind_speed_mean_ms, relative_humidity_mean_pct, pressure_msl_hpa, sunshine_hours,"
        " cloud_cover_mean_pct): a retrain stops when one is empty over the window of a region with weather;"
        " the others are reported when empty",
    )
    promotion_margin: float = setting(
        "COTHER_PROMOTION_MARGIN", "0.01", "Model", "how much lower a challenger's error must be to become champion"
    )
    surge_min_episodes: int = setting(
        "COTHER_SURGE_MIN_EPISODES",
        "10",
        "Model",
        "surge warning: the fewest surges in a version's backtest its warning level is chosen on (fewer: the champion's level is kept, none without one)",
    )
    drift_newest_days: int = setting(
        "COTHER_DRIFT_NEWEST_DAYS",
        "28",
        "Model",
        "drift: the newest days of the training slice, compared feature by feature with the rest of its window",
    )
    drift_kl_threshold: float = setting(
        "COTHER_DRIFT_KL_THRESHOLD",
        "0.5",
        "Model",
        "drift: the KL divergence from the training window's distribution above which a feature is reported as drifted",
    )
    # Alerts
    alert_webhook_url: str | None = setting(
        "COTHER_ALERT_WEBHOOK_URL",
        "",
        "Alerts",
        "a webhook that receives a JSON alert when a task fails or a source is late (or the Airflow connection cother_alerts, its host the URL)",
    )
    freshness_days: int = setting("COTHER_FRESHNESS_DAYS", "1", "Alerts", "days a source may lag the run's last day")
    field_accuracy_days: int = setting(
        "COTHER_FIELD_ACCURACY_DAYS",
        "14",
        "Alerts",
        "the last scored days of a region and horizon over which a champion worse than persistence raises an alert"
        " (and lets the next retrain promote a version that beats the baselines)",
    )
    # Airflow UI
    airflow_host: str = setting(
        "COTHER_AIRFLOW_HOST",
        "127.0.0.1",
        "Airflow UI",
        "the address `make airflow` serves the UI on (0.0.0.0: every interface, for a team on a shared machine)",
        False,
    )
    mlflow_ui_url: str = setting(
        "COTHER_MLFLOW_UI_URL",
        "http://localhost:5000",
        "Airflow UI",
        "where a retrain's MLflow run button opens the MLflow UI, as the browser reaches it",
    )
    dbt_docs_url: str = setting(
        "COTHER_DBT_DOCS_URL",
        "http://localhost:8081",
        "Airflow UI",
        "the dbt docs site, as the browser reaches it (`make docs`)",
    )
    data_docs_url: str = setting(
        "COTHER_DATA_DOCS_URL",
        "http://localhost:8082",
        "Airflow UI",
        "the GX data docs, as the browser reaches it (`make docs`)",
    )
    # Celery: `make celery`, the local stack on Celery workers
    celery_broker_url: str | None = setting(
        "COTHER_CELERY_BROKER_URL",
        "",
        "Celery",
        "a broker of your own for `make celery` (unset: the project's Redis on COTHER_REDIS_PORT)",
        False,
    )
    celery_workers: int = setting("COTHER_CELERY_WORKERS", "2", "Celery", "Celery workers `make celery` starts", False)
    celery_concurrency: int = setting(
        "COTHER_CELERY_CONCURRENCY", "2", "Celery", "tasks each of those workers runs at once", False
    )

    @property
    def postgres_dir(self) -> Path:
        return self.runtime_dir / "postgres"

    @property
    def airflow_home(self) -> Path:
        return self.runtime_dir / "airflow"

    @property
    def redis_dir(self) -> Path:
        return self.runtime_dir / "redis"

    @property
    def dbt_target_dir(self) -> Path:
        return self.runtime_dir / "dbt" / "target"

    @property
    def data_docs_dir(self) -> Path:
        return self.runtime_dir / "data_docs"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow_artifacts_dir or self.runtime_dir / "mlartifacts"

    @property
    def embedded(self) -> bool:
        """True when the project runs its own PostgreSQL (no COTHER_DATABASE_URL given)."""
        return self.database_url is None


def variables() -> list[Variable]:
    return [f.metadata["variable"] for f in fields(Settings)]


def _parse(kind: str, text: str):
    """A variable's text as its field's type (the annotation, a string here)."""
    if kind == "Path":
        return (PROJECT_ROOT / text).resolve()
    if kind.endswith("| None"):
        return _parse(kind.removesuffix("| None").strip(), text) if text else None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text.lower() in {"1", "true", "yes"}
    if kind == "tuple[str, ...]":
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return text


@cache
def _load_dotenv() -> None:
    load_dotenv(PROJECT_ROOT / ".env", override=False)


def get_settings() -> Settings:
    _load_dotenv()
    values = {}
    for f in fields(Settings):
        variable = f.metadata["variable"]
        values[f.name] = _parse(f.type, os.environ.get(variable.name) or variable.default)
    return Settings(**values)
