"""Airflow configured by the project: home in the runtime folder, DAGs from dags/, the UI plugin from
plugins/, metadata on PostgreSQL.

Everything is passed as AIRFLOW__* environment variables (they win over airflow.cfg). The secrets
Airflow needs (JWT, API key, Fernet key) are taken from the environment when set there, and otherwise
generated once into the runtime folder, never into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

from cother_core.database import airflow_url, parsed
from cother_core.private_files import private_file
from cother_core.settings import PROJECT_ROOT, get_settings

PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
SECRET_VARIABLES = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY")


def _generated_secrets(home: Path) -> dict[str, str]:
    path = home / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    private_file(path, json.dumps(values))
    return values


def airflow_environment() -> dict[str, str]:
    settings = get_settings()
    home = settings.airflow_home
    url = parsed(airflow_url()).set(drivername="postgresql+psycopg2")
    generated = _generated_secrets(home)
    private_file(home / PASSWORD_FILE)  # Airflow writes the admin's generated password into it, keeping the mode
    venv_bin = str(Path(sys.executable).parent)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.render_as_string(hide_password=False),
        "AIRFLOW__CORE__EXECUTOR": "cother.orchestration.executor.PreloadingLocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Seoul",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "MALLOC_ARENA_MAX": "2",
        # glibc maps an allocation of 128 KiB or more (a frame's column) and unmaps it when freed, instead of
        # raising that threshold at the first such free and keeping what is freed after in the process
        "MALLOC_MMAP_THRESHOLD_": "131072",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        **{name: os.environ.get(name) or generated[name] for name in SECRET_VARIABLES},
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "GX_ANALYTICS_ENABLED": "false",
    }


def configure_airflow() -> None:
    """Set this process's environment for Airflow; call before anything imports airflow."""
    os.environ.update(airflow_environment())
