# The Airflow image: the official Airflow 3.3 image with the project installed from uv.lock.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
USER airflow

WORKDIR /opt/cother
COPY --chown=airflow:root pyproject.toml uv.lock ./
RUN uv export --frozen --no-dev --no-emit-project --no-hashes > /tmp/requirements.txt \
    && uv pip install --no-cache --python "$(command -v python)" -r /tmp/requirements.txt
COPY --chown=airflow:root . .
RUN uv pip install --no-cache --no-deps --python "$(command -v python)" .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/cother/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    COTHER_RUNTIME_DIR=/opt/cother/.runtime \
    COTHER_LANDING_DIR=/data/landing
