"""One settings object, read from the environment (and a local `.env`, never committed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent

WAREHOUSE_DB = "cother"
AIRFLOW_DB = "airflow"
MLFLOW_DB = "mlflow"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


@dataclass(frozen=True)
class Settings:
    runtime_dir: Path
    landing_dir: Path
    sample_dir: Path
    pg_port: int
    database_url: str | None
    airflow_database_url: str | None
    mlflow_database_url: str | None
    mlflow_artifacts_dir: Path
    model_name: str
    weather_features: bool
    promotion_margin: float

    @property
    def postgres_dir(self) -> Path:
        return self.runtime_dir / "postgres"

    @property
    def airflow_home(self) -> Path:
        return self.runtime_dir / "airflow"

    @property
    def dbt_target_dir(self) -> Path:
        return self.runtime_dir / "dbt" / "target"

    @property
    def data_docs_dir(self) -> Path:
        return self.runtime_dir / "data_docs"

    @property
    def embedded(self) -> bool:
        """True when the project runs its own PostgreSQL (no COTHER_DATABASE_URL given)."""
        return self.database_url is None


@cache
def get_settings() -> Settings:
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    runtime_dir = _path("COTHER_RUNTIME_DIR", PROJECT_ROOT / ".runtime")
    return Settings(
        runtime_dir=runtime_dir,
        landing_dir=_path("COTHER_LANDING_DIR", PROJECT_ROOT / "data" / "landing"),
        sample_dir=_path("COTHER_SAMPLE_DIR", PROJECT_ROOT / "data" / "sample"),
        pg_port=int(os.environ.get("COTHER_PG_PORT", "55432")),
        database_url=os.environ.get("COTHER_DATABASE_URL") or None,
        airflow_database_url=os.environ.get("COTHER_AIRFLOW_DATABASE_URL") or None,
        mlflow_database_url=os.environ.get("COTHER_MLFLOW_DATABASE_URL") or None,
        mlflow_artifacts_dir=_path("COTHER_MLFLOW_ARTIFACTS_DIR", runtime_dir / "mlartifacts"),
        model_name=os.environ.get("COTHER_MODEL_NAME", "cother_cases_forecaster"),
        weather_features=os.environ.get("COTHER_WEATHER_FEATURES", "true").lower() in {"1", "true", "yes"},
        promotion_margin=float(os.environ.get("COTHER_PROMOTION_MARGIN", "0.01")),
    )
