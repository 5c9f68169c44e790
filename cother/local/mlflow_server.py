"""The MLflow UI of `make mlflow-ui` (`cother mlflow-ui`): MLflow's server on the registry database, on
loopback, behind MLflow's basic authentication (`--app-name basic-auth`), so that another local user can
neither read the registry nor move an alias through it.

Its one user, `admin`, has a password generated once into the runtime folder (mode 0600), as the
embedded PostgreSQL's is; the users' database (SQLite) and the server's secret key are kept beside it,
so the stored admin and the password file cannot drift apart. The project's own code reaches the
registry through the database, not through this server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cother_core.database import mlflow_url
from cother_core.private_files import generated_secret
from cother_core.settings import get_settings

ADMIN = "admin"


def folder() -> Path:
    path = get_settings().runtime_dir / "mlflow"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def password_file() -> Path:
    return folder() / "admin-password"


def admin_password() -> str:
    return generated_secret(password_file())


def auth_config() -> Path:
    """MLflow's auth configuration (MLFLOW_AUTH_CONFIG_PATH): no secret in it, the password is passed
    in the environment."""
    path = folder() / "basic_auth.ini"
    path.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{folder() / 'users.db'}\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    return path


def command(port: int) -> list[str]:
    """The venv's `mlflow server` (by its path: the venv's bin folder need not be on the PATH)."""
    return [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--app-name",
        "basic-auth",
        "--default-artifact-root",
        get_settings().mlflow_artifacts.as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",  # one person's UI on this machine: one server process, not MLflow's default four
        "1",
    ]


def environment() -> dict[str, str]:
    """The server's environment: the secrets here, not in its argv, which every local user can read."""
    return {
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": mlflow_url(),
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_config()),
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password(),  # read when the admin is first created
        "MLFLOW_FLASK_SERVER_SECRET_KEY": generated_secret(folder() / "secret-key"),
    }
