"""`.env.example` and docs/configuration.md, written from the settings' fields (`cother config`), so that
they list every variable with its default; tests/test_configuration.py checks the committed files."""

from __future__ import annotations

from itertools import groupby

from cother_core.settings import GROUPS, Variable, variables

# What docker-compose.yml and Airflow read besides CO-THER's own settings.
DEPLOYMENT = [
    Variable("POSTGRES_USER", "cother", "Deployment", "docker-compose: the PostgreSQL server's user", False),
    Variable("POSTGRES_PASSWORD", "", "Deployment", "docker-compose: its password (a secret)", False),
    Variable(
        "AIRFLOW__CORE__FERNET_KEY",
        "",
        "Deployment",
        'a secret: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        " (the local default generates it into .runtime/airflow/secrets.json, as the next two)",
        False,
    ),
    Variable(
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "",
        "Deployment",
        'a secret: python -c "import secrets; print(secrets.token_urlsafe(32))"',
        False,
    ),
    Variable("AIRFLOW__API__SECRET_KEY", "", "Deployment", "a secret, made as the one above", False),
    Variable(
        "AIRFLOW__CORE__EXECUTOR",
        "cother.orchestration.executor.PreloadingLocalExecutor",
        "Deployment",
        "Airflow's LocalExecutor with the tasks' libraries loaded once in the scheduler, or CeleryExecutor"
        " with `docker compose --profile celery up -d`",
        False,
    ),
]

HEADER = """\
# Every variable CO-THER and docker-compose.yml read, with its default (written by `cother config env`
# from core/cother_core/settings.py). Copy to .env and fill in the secrets; .env is ignored by git. The local
# default (`make demo`, `make airflow`) needs none of them.
"""


def _by_group(listed: list[Variable]):
    order = ["Deployment", *GROUPS]
    return groupby(sorted(listed, key=lambda v: order.index(v.group)), key=lambda v: v.group)


def env_example() -> str:
    lines = [HEADER]
    for group, listed in _by_group(DEPLOYMENT + variables()):
        lines.append(f"# --- {group}")
        for variable in listed:
            lines += [f"# {variable.doc}", f"{variable.name}={variable.default}"]
        lines.append("")
    return "\n".join(lines)


def markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable (or a line of a local `.env`, copied from `.env.example`).",
        "`core/cother_core/settings.py` declares them; this page is written from it by `cother config markdown`.",
        "Deployed: docker-compose.yml passes it to the Airflow services.",
        "",
    ]
    for group, listed in _by_group(DEPLOYMENT + variables()):
        lines += [f"## {group}", "", "| variable | default | deployed | what it is |", "| --- | --- | --- | --- |"]
        for v in listed:
            default = f"`{v.default}`" if v.default else ""
            lines.append(f"| `{v.name}` | {default} | {'yes' if v.deployed else ''} | {v.doc} |")
        lines.append("")
    return "\n".join(lines)
