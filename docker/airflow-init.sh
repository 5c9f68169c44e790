#!/usr/bin/env bash
# airflow-init: migrate the metadata database, create the warehouse tables and the MLflow experiment's
# folder, and create the Airflow connections from the environment. Safe to run again.
set -euo pipefail

airflow db migrate
cother db start  # with COTHER_DATABASE_URL set: creates the airflow and mlflow databases if missing

if [[ -n "${COTHER_DATA_GO_KR_SERVICE_KEY:-}" ]]; then
    airflow connections delete cother_data_go_kr >/dev/null 2>&1 || true
    airflow connections add cother_data_go_kr --conn-type http --conn-host apis.data.go.kr \
        --conn-password "${COTHER_DATA_GO_KR_SERVICE_KEY}"
fi
