"""The data.go.kr service key (KMA, KDCA): from the environment, else from an Airflow connection."""

from __future__ import annotations

from cother.ingest.sources.base import SourceError
from cother_core.settings import get_settings

ENV_VARIABLE = "COTHER_DATA_GO_KR_SERVICE_KEY"
AIRFLOW_CONNECTION = "cother_data_go_kr"


def data_go_kr_service_key(source: str) -> str:
    key = get_settings().data_go_kr_service_key
    if key:
        return key
    try:
        from airflow.sdk import BaseHook

        key = BaseHook.get_connection(AIRFLOW_CONNECTION).password
    except Exception:  # no Airflow here, or no such connection: say what to set
        key = None
    if not key:
        raise SourceError(
            f"{source}: no data.go.kr service key: set {ENV_VARIABLE} or the password of the Airflow connection {AIRFLOW_CONNECTION}"
        )
    return key
