"""`make mlflow-ui` (`cother mlflow-ui`), started from a shell without the venv on its PATH: MLflow's
server behind its login. Without the generated admin password nobody reads the registry through it or
moves an alias; a move made with it, outside the project, is recorded in ml.model_promotions when the
project next reads the alias."""

from __future__ import annotations

import urllib.error

import pytest
from conftest import mlflow_request, registered_model

from cother.local import mlflow_server
from cother_ml import aliases, registry

pytestmark = pytest.mark.system

MODEL_NAME = "cother_test_mlflow_ui"


@pytest.fixture(scope="module")
def model(mlflow_ui):
    """Two versions of a model of this module's own (no artifacts: only their aliases are used)."""
    from cother_core.settings import get_settings

    with registered_model(MODEL_NAME):
        client = registry.client()
        client.create_registered_model(MODEL_NAME)
        for _ in range(2):
            client.create_model_version(MODEL_NAME, source=get_settings().mlflow_artifacts.as_uri())
        yield MODEL_NAME


@pytest.fixture
def champion_v1(model):
    aliases.move(MODEL_NAME, "champion", "1", "test:gate", "passed its gate")


def status(url: str, body: dict | None = None, **login) -> int:
    try:
        with mlflow_request(url, body, **login) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def move_champion_through_the_ui(url: str, version: str, **login) -> int:
    body = {"name": MODEL_NAME, "alias": "champion", "version": version}
    return status(f"{url}/api/2.0/mlflow/registered-models/alias", body, **login)


def test_the_mlflow_ui_moves_an_alias_only_with_its_generated_login(mlflow_ui, champion_v1):
    assert move_champion_through_the_ui(mlflow_ui, "2", login=False) == 401
    assert move_champion_through_the_ui(mlflow_ui, "2", password="not-the-password") == 401
    assert status(f"{mlflow_ui}/api/2.0/mlflow/registered-models/get?name={MODEL_NAME}", login=False) == 401
    assert registry.champion_version(MODEL_NAME) == "1"

    password = mlflow_server.password_file()
    assert password.stat().st_mode & 0o777 == 0o600 and password.parent.stat().st_mode & 0o777 == 0o700
    assert mlflow_server.admin_password() not in mlflow_server.auth_config().read_text()
    assert move_champion_through_the_ui(mlflow_ui, "2") == 200
    assert registry.champion_version(MODEL_NAME) == "2"


def test_a_move_made_outside_the_project_is_recorded_when_the_project_next_reads_the_alias(mlflow_ui, champion_v1):
    assert move_champion_through_the_ui(mlflow_ui, "2") == 200
    outside = aliases.history(MODEL_NAME)[0]
    assert (outside["alias"], outside["version"], outside["previous"]) == ("champion", "2", "1")
    assert outside["moved_by"] == aliases.OUTSIDE
    assert outside["reason"] == "found on v2 where the log left it on v1; who and when unknown"
    assert aliases.history(MODEL_NAME)[0] == outside  # recorded once

    assert move_champion_through_the_ui(mlflow_ui, "1") == 200
    assert aliases.promote(MODEL_NAME, "2") == "1"  # a move by hand finds the outside one first
    moves = aliases.history(MODEL_NAME, 3)
    assert [(m["version"], m["previous"], m["moved_by"]) for m in moves] == [
        ("2", "1", aliases.by_hand()),
        ("1", "2", aliases.OUTSIDE),
        ("2", "1", aliases.OUTSIDE),
    ]
