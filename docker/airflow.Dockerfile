# The Airflow image: the official Airflow 3.3 image with the project installed from uv.lock (dbt,
# Great Expectations, LightGBM and MLflow at the versions the tests ran with). The same image runs
# the Airflow services, airflow-init and the MLflow server.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
# Named volumes take the ownership of these folders when they are first mounted.
RUN mkdir -p /runtime /data/landing /mlartifacts && chown -R airflow:root /runtime /data/landing /mlartifacts
USER airflow

WORKDIR /opt/cother
COPY --chown=airflow:root pyproject.toml uv.lock ./
COPY --chown=airflow:root core/pyproject.toml core/
COPY --chown=airflow:root ml/pyproject.toml ml/
RUN uv export --frozen --no-dev --no-emit-workspace --no-hashes > /tmp/requirements.txt \
    && uv pip install --no-cache --compile-bytecode --python "$(command -v python)" -r /tmp/requirements.txt
COPY --chown=airflow:root . .
# Editable, the platform and its two workspace members: the code finds the project's files (dbt_project/, expectations/, config/) beside it.
RUN uv pip install --no-cache --no-deps --python "$(command -v python)" -e . -e core -e ml

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/cother/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/cother/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    COTHER_RUNTIME_DIR=/runtime \
    COTHER_LANDING_DIR=/data/landing
