"""Is every source on time? After each ingestion run, the latest day published per kind and region
against the last day the run asked for; a source more than COTHER_FRESHNESS_DAYS behind is late and
an alert names it (cother/alerts.py). A weekly file is judged against the weeks it holds
(the last day of the batch landed from it): WHO publishing a week some days after it ends is not late,
and a run whose file held no new week (its land said so) has nothing to judge."""

from __future__ import annotations

from datetime import date

from cother import alerts
from cother.ingest import KINDS
from cother.ingest.sources import get_source
from cother_core.database import connect
from cother_core.settings import get_settings
from cother_core.warehouse import ensure_warehouse


def late_sources(request: dict, allowed_days: int, landed: list[dict | None] = ()) -> list[dict]:
    """The (kind, region) pairs of a run's request whose latest published day is too old, or absent;
    `landed`: the batches the run landed (None where a kind landed nothing)."""
    ensure_warehouse()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select kind, region, max(end_date) from raw.batch_log where region = any(%s) group by kind, region",
            (request["regions"],),
        )
        latest = {(kind, region): day for kind, region, day in cur.fetchall()}
    held = {batch["source"]: date.fromisoformat(batch["end"]) for batch in landed if batch}
    late = []
    for kind in KINDS:
        source = request[f"{kind}_source"]
        if get_source(source).step_days > 1 and source not in held:
            continue
        expected = held.get(source, date.fromisoformat(request["end"]))
        for region in request[f"{kind}_regions"]:
            published = latest.get((kind, region))
            if published is None or (expected - published).days > allowed_days:
                late.append(
                    {
                        "kind": kind,
                        "region": region,
                        "source": source,
                        "expected_through": expected.isoformat(),
                        "last_published": published.isoformat() if published else None,
                        "days_behind": (expected - published).days if published else None,
                    }
                )
    return late


def check(request: dict, landed: list[dict | None], dag_id: str, run_id: str) -> dict:
    """Alert on the late sources of a run's request; returns them."""
    late = late_sources(request, get_settings().freshness_days, landed)
    if late:
        alerts.send({"event": "source_late", "dag_id": dag_id, "run_id": run_id, "late": late})
    return {"late": late}
