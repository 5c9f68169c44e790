"""The production shape, checked without a Docker engine: the compose file is valid (Debian's
docker-compose, which `make test` installs, validates it offline), every service has a healthcheck
and waits on what it needs, every variable the services read is in .env.example with no secret, and
the Airflow image installs the project from uv.lock; docker-compose.yml passes every setting a deployment
may set (cother_core.settings), with the same default."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from conftest import ROOT

from cother_core.settings import variables

pytestmark = pytest.mark.unit

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SECRETS = {
    "POSTGRES_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
}


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The compose file as docker-compose resolves it (anchors merged, variables from .env.example)."""
    assert shutil.which("docker-compose"), "docker-compose is missing: `make test` installs Debian's package"
    command = ["docker-compose", "--env-file", str(ENV_EXAMPLE), "--profile", "celery", "config"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def example_variables() -> dict[str, str]:
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_compose_file_is_valid_and_has_every_service(resolved):
    assert set(resolved["services"]) == {
        "postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "mlflow", "docs", "redis", "airflow-worker",
    }  # fmt: skip
    assert set(resolved["volumes"]) == {"pgdata", "landing", "mlartifacts", "runtime"}


def test_an_invalid_compose_file_is_refused(tmp_path):
    broken = COMPOSE.read_text().replace("    healthcheck:\n", "    healthcheck: [30s]\n", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    command = [
        "docker-compose",
        "--env-file",
        str(ENV_EXAMPLE),
        "-f",
        str(tmp_path / "docker-compose.yml"),
        "config",
        "-q",
    ]
    assert subprocess.run(command, cwd=ROOT, capture_output=True).returncode != 0


def test_every_service_has_a_healthcheck_and_waits_on_healthy_dependencies(resolved):
    for name, service in resolved["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"service {name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dependency == "airflow-init" else "service_healthy"
            assert condition["condition"] == wanted, f"{name} -> {dependency}: {condition}"
    assert resolved["services"]["airflow-scheduler"]["depends_on"].keys() == {"postgres", "airflow-init"}


def test_every_variable_the_services_read_is_in_env_example_and_no_secret_is_committed():
    read = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    read |= set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker" / "airflow-init.sh").read_text()))
    example = example_variables()
    assert read <= set(example), f"missing from .env.example: {sorted(read - set(example))}"
    assert all(example[name] == "" for name in SECRETS)
    assert not (ROOT / ".env").exists() or ".env" in (ROOT / ".gitignore").read_text().split()


def test_docker_compose_passes_every_variable_a_deployment_may_set_with_its_default():
    compose = yaml.safe_load(COMPOSE.read_text())
    passed = compose["x-airflow"]["environment"]
    for variable in variables():
        if not variable.deployed:
            continue
        assert variable.name in passed, f"docker-compose.yml does not pass {variable.name} to the Airflow services"
        value = passed[variable.name]
        default = re.fullmatch(r"\$\{" + variable.name + r":-(.*)\}", value)
        if default:  # from the deployment's .env, else the setting's own default
            assert default.group(1) == variable.default, f"{variable.name}: compose's default {default.group(1)!r}"


def test_the_airflow_image_installs_the_project_from_the_lock_file():
    dockerfile = (ROOT / "docker" / "airflow.Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM apache/airflow:3.3" in dockerfile
    assert "COPY --chown=airflow:root pyproject.toml uv.lock ./" in dockerfile
    assert "uv export --frozen --no-dev" in dockerfile
