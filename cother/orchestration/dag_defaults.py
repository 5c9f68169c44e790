"""What every CO-THER DAG shares: owner, retries with backoff, an alert when a task fails, start date, and
the longest a run may last (COTHER_DAGRUN_TIMEOUT_HOURS): the scheduler fails a run still unfinished then,
such as one whose task process was killed with no one left to report it (cother.orchestration.stale_runs
ends those at once where it can)."""

from datetime import timedelta

import pendulum

from cother.core.settings import get_settings
from cother.orchestration.alerts import TaskFailureAlert

START_DATE = pendulum.datetime(2020, 1, 1, tz="Asia/Seoul")
DAGRUN_TIMEOUT = timedelta(hours=get_settings().dagrun_timeout_hours) or None  # 0: none

DEFAULT_ARGS = {
    "owner": "cother",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": [TaskFailureAlert()],
}
