"""
### cother_ingest_weekly: land, validate and publish WHO's weekly cases, by source

A run covers a weekly region set (`world_weekly`: the countries and areas of WHO's weekly file, a row
per country and Sunday), or some regions of it, without weather (no weather source is weekly).
Scheduled every day (10:00 Asia/Seoul), cheaply: a run asks for the Sundays after the last one the
cases source has published for its regions (from the file's first week on a fresh install), through
the last Sunday before the run. WHO publishes a week some days after it ends and fills it in over some
days: the file's newest Sunday bounds what a run takes, and that Sunday waits until every country that
has the week before has it too (`land` names those it waits for). When there is no new week, nothing is
published, announced or retrained: the run skips, its `plan` (no week has ended since) or `land` (the
file has no new week yet) saying so in one line, with no quarantine and no alert. Trigger with
`start_date`/`end_date` to load (or reload, taking WHO's revisions of older weeks) any range. The
tasks are those of `cother_ingest` (the same Airflow DAG, `cother/orchestration/ingest_dag.py`).
"""

from cother.orchestration.ingest_dag import ingest_dag

cother_ingest_weekly = ingest_dag("cother_ingest_weekly", __doc__, "0 10 * * *", "world_weekly", [], "who_weekly")
