"""Alerts: what the platform sends when a task fails for good (cother.orchestration.dag_defaults), a
source is late (cother.ingest.freshness), the champion falls behind in the field
(cother.transform.field_accuracy) or warns of a surge (cother.surge_alerts).

The channel is a webhook that receives JSON: COTHER_ALERT_WEBHOOK_URL, else the host of the Airflow
connection `cother_alerts` (a full URL). Without either, the alert is only written to the task log.
Delivering an alert never fails the task: a webhook that is down is logged and left.
"""

from __future__ import annotations

import json
import logging
import urllib.request

from cother_core.settings import get_settings

ENV_VARIABLE = "COTHER_ALERT_WEBHOOK_URL"
AIRFLOW_CONNECTION = "cother_alerts"
log = logging.getLogger(__name__)


def webhook_url() -> str | None:
    url = get_settings().alert_webhook_url
    if url:
        return url
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(AIRFLOW_CONNECTION).host or None
    except Exception:  # no such connection: alerts go to the log only
        return None


def send(alert: dict) -> bool:
    """POST the alert to the webhook; True if it was delivered."""
    url = webhook_url()
    log.warning("CO-THER alert: %s", json.dumps(alert, default=str))
    if url is None:
        log.warning("no alert channel: set %s or the Airflow connection %s", ENV_VARIABLE, AIRFLOW_CONNECTION)
        return False
    request = urllib.request.Request(
        url, data=json.dumps(alert, default=str).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return 200 <= answer.status < 300
    except OSError as failed:
        log.error("the alert could not be delivered to %s: %s", url, failed)
        return False
