"""What every CO-THER DAG shares: owner, retries with backoff for what may pass by itself, no retry for a
failure the same input repeats, an alert when a task fails, start date, the longest a task may run
(COTHER_TASK_TIMEOUT_HOURS: Airflow fails a try still running then, whatever keeps it busy) and the
longest a run may last (COTHER_DAGRUN_TIMEOUT_HOURS): the scheduler fails a run still unfinished then,
such as one whose task process was killed with no one left to report it
(cother.orchestration.stale_runs ends those at once where it can)."""

from datetime import timedelta

import pendulum
from airflow.sdk import BaseNotifier, RetryDecision, RetryPolicy

from cother.alerts import send
from cother_core.settings import get_settings

START_DATE = pendulum.datetime(2020, 1, 1, tz="Asia/Seoul")
DAGRUN_TIMEOUT = timedelta(hours=get_settings().dagrun_timeout_hours) or None  # 0: none
TASK_TIMEOUT = timedelta(hours=get_settings().task_timeout_hours) or None  # 0: none


class FailRepeatableAtOnce(RetryPolicy):
    """Fails a task at once, skipping its retries, on a failure that the same input repeats: a source's
    refusal or a configuration it lacks (SourceError, but for a source that did not answer through the
    HTTP client's attempts), a value that cannot be read (ValueError: bad JSON, text, a date), a name
    that is not configured (LookupError: a region, a source), a file that is not there
    (FileNotFoundError: a bundled file moved away; a landed payload removed is a SourceError naming it,
    and the next run fetches it again). Anything else (a source down, the database
    restarting, a connection cut) gets the task's retries."""

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        from cother.ingest.sources import SourceDidNotAnswer, SourceError

        if isinstance(exception, SourceDidNotAnswer):
            return RetryDecision.default()
        if isinstance(exception, SourceError):
            return RetryDecision.fail(f"the same request fails the same way: {type(exception).__name__}")
        if isinstance(exception, (ValueError, LookupError, FileNotFoundError)):
            return RetryDecision.fail(f"the same input fails the same way: {type(exception).__name__}")
        return RetryDecision.default()


class TaskFailureAlert(BaseNotifier):
    """on_failure_callback of every CO-THER task: names the DAG, task, region or model, run and error."""

    def notify(self, context) -> None:
        ti = context["ti"]
        send(
            {
                "event": "task_failed",
                "dag_id": ti.dag_id,
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "run_id": ti.run_id,
                "try_number": ti.try_number,
                "error": str(context.get("exception") or ""),
                "log_url": getattr(ti, "log_url", None),
            }
        )


DEFAULT_ARGS = {
    "owner": "cother",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": TASK_TIMEOUT,
    "retry_policy": FailRepeatableAtOnce(),
    "on_failure_callback": [TaskFailureAlert()],
}
