"""The ingest DAG's announcement: the raw assets, emitted once for what its runs published."""

from __future__ import annotations

from cother.ingest import KINDS
from cother.ingest.load import claim_unannounced
from cother.orchestration.assets import RAW_BY_KIND


def announce(request: dict | None, dag_run, task_instance, alias_events) -> dict:
    """Emit the raw assets once for everything the request's sources published since their last
    announcement, from the last pending run of the DAG only: a backfill's runs queue up and its last run
    announces them all (run backfills with --max-active-runs 1; with more, the announcement may wait for
    the next run). A run whose plan asked for nothing (it skipped or failed) announces nothing: another
    DAG's batches (a daily backfill's, while the weekly DAG runs) are that DAG's to announce."""
    pending = task_instance.get_dr_count(dag_id=dag_run.dag_id, states=["queued", "running"])
    if pending > 1:
        print(f"{pending - 1} more run(s) of {dag_run.dag_id} to go: the last one announces their partitions")
        return {"announced": {}}
    if request is None:
        print("the plan asked for nothing: nothing to announce")
        return {"announced": {}}
    partitions = claim_unannounced([request[f"{kind}_source"] for kind in KINDS])
    for kind, published in partitions.items():
        regions = sorted({batch["region"] for batch in published})
        alias_events.add(RAW_BY_KIND[kind], extra={"batches": len(published), "regions": regions})
        print(f"announcing {RAW_BY_KIND[kind].name}: {len(published)} region batch(es), {len(regions)} region(s)")
    return {"announced": {kind: len(published) for kind, published in partitions.items()}}
