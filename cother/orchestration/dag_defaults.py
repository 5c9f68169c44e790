"""What every CO-THER DAG shares: owner, retries with backoff, an alert when a task fails, start date."""

from datetime import timedelta

import pendulum

from cother.orchestration.alerts import TaskFailureAlert

START_DATE = pendulum.datetime(2020, 1, 1, tz="Asia/Seoul")

DEFAULT_ARGS = {
    "owner": "cother",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": [TaskFailureAlert()],
}
