"""One settings object: every COTHER_* variable is a field of cother_core.settings.Settings; what lists
them (.env.example, docs/configuration.md) is written from it; tests/test_deployment.py checks that
docker-compose.yml passes every variable a deployment may set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cother_core import config_docs
from cother_core.settings import Settings, get_settings, variables

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent


def test_env_example_and_the_configuration_page_are_written_from_the_settings():
    """Run `cother config env > .env.example` and `cother config markdown > docs/configuration.md` after
    changing a setting."""
    assert (ROOT / ".env.example").read_text() == config_docs.env_example()
    assert (ROOT / "docs" / "configuration.md").read_text() == config_docs.markdown()


def test_no_code_reads_a_cother_variable_but_the_settings():
    readers = []
    for folder in ("cother", "core", "ml", "dags", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py":
                continue
            if re.search(r"(os\.environ|getenv)[^\n]*COTHER_", path.read_text()):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_a_setting_is_read_from_the_environment_each_time(monkeypatch):
    monkeypatch.setenv("COTHER_REGIONS", "seoul, busan")
    monkeypatch.setenv("COTHER_WEATHER_FEATURES", "false")
    monkeypatch.setenv("COTHER_HTTP_ATTEMPTS", "7")
    monkeypatch.delenv("COTHER_MLFLOW_ARTIFACTS_DIR", raising=False)
    settings = get_settings()
    assert settings.regions == ("seoul", "busan")
    assert settings.weather_features is False
    assert settings.http_attempts == 7
    assert settings.mlflow_artifacts == settings.runtime_dir / "mlartifacts"
    monkeypatch.setenv("COTHER_HTTP_ATTEMPTS", "2")
    assert get_settings().http_attempts == 2
    assert len({v.name for v in variables()}) == len(Settings.__dataclass_fields__)


def test_the_readme_loads_the_champion_of_the_default_model_name(monkeypatch):
    """The demo prints the configured name in its load line (tests/test_airflow_ui.py runs it under a
    name of its own); without one, it is the README's."""
    monkeypatch.delenv("COTHER_MODEL_NAME", raising=False)
    assert get_settings().model_name == "cother_cases_forecaster"
    readme = (ROOT / "README.md").read_text()
    assert f'mlflow.pyfunc.load_model("models:/{get_settings().model_name}@champion")' in readme
