"""
### cother_ingest: land, validate and publish daily weather and cases, by source

A run covers a region set (`korea`: the 17 provinces; `world`: the countries), or some regions of
it, over a date range. Scheduled daily (09:00 Asia/Seoul) for the day before; trigger with
`start_date`/`end_date` to load any range in one run. With a bundled sample source whose data ends
before that day, the run skips, its `plan` saying so in one line (no quarantine, no alert). The weekly
sets have an Airflow DAG of their own, `cother_ingest_weekly`, with the same tasks
(`cother/orchestration/ingest_dag.py`).
"""

from cother.orchestration.ingest_dag import ingest_dag
from cother_core.settings import get_settings

settings = get_settings()  # the params' defaults
cother_ingest = ingest_dag(
    "cother_ingest", __doc__, "0 9 * * *", settings.region_set, list(settings.regions), settings.cases_source
)
