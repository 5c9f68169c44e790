"""Surge alerts: a model's champion's surge warnings (ml.surge_warnings, which the retrain writes with its
forecasts: cother_ml.surge), sent through the alert channel (cother/alerts.py) once per region and surge.

Run by each retrain of a region set, right after it wrote its forecasts (cother_retrain's
train_and_register): a warning is news the moment it is written, and the next transform run may be a day
(a week, on a weekly set) away. A region alerts when the champion's forecasts from its origin warn at
any horizon and no alert for the region and model went out from an origin less than the surge window
before it (cother_ml.surge.DEFINITIONS: 14 days on a daily set, 28 on a weekly one, the window in which
surge days are one surge). So a warning that stays on alerts again once a window has passed, as
bench/retrain.py surge scores the alerts; a retried task or a rerun alerts nothing again, nor does a
rollback to an older version (its origin falls before the alert).

The champion is the version its alias last moved to (ml.model_promotions records every move); a
version promoted by hand alerts at the set's next retrain. Each alert is kept in ml.surge_alerts,
recorded in the transaction that sends it.
"""

from __future__ import annotations

from cother import alerts
from cother_core.database import connect
from cother_core.warehouse import ensure_warehouse
from cother_ml.surge import DEFINITIONS

EVENT = "surge_warning"

# The warnings of the model's champion (the version its alias last moved to), each with its region's
# cadence; a region no longer in raw.regions (a retired set) has none.
CHAMPION_WARNINGS = """
with

champion as (
    select model_version
    from ml.model_promotions
    where model_name = %(model)s and alias_name = 'champion'
    order by id desc
    limit 1
)

select
    warning.model_version,
    warning.region,
    warning.origin_date,
    regions.cadence,
    warning.horizon_days,
    warning.target_date,
    warning.surge_threshold,
    warning.surge_probability,
    warning.warning_level
from ml.surge_warnings as warning
inner join champion on warning.model_version = champion.model_version
inner join raw.regions as regions on warning.region = regions.region
where warning.model_name = %(model)s and warning.is_warned
order by warning.region, warning.horizon_days
"""

# Record a region's warning unless the region alerted from an origin less than the window before it.
RECORD_ALERT = """
insert into ml.surge_alerts (model_name, model_version, region, origin_date)
select %(model_name)s, %(model_version)s, %(region)s, %(origin_date)s
where not exists (
    select 1 from ml.surge_alerts as alerted
    where alerted.model_name = %(model_name)s and alerted.region = %(region)s
        and alerted.origin_date > %(origin_date)s::date - %(window_days)s::integer
)
on conflict do nothing
returning region
"""


def warned_regions(model_name: str) -> list[dict]:
    """Per region, the champion's warning from its origin: the version, the origin, the surge window of
    the region's cadence and the horizons that warned, each with its target day, threshold, probability
    and level."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(CHAMPION_WARNINGS, {"model": model_name})
        rows = cur.fetchall()
    regions: dict[str, dict] = {}
    for version, region, origin, cadence, horizon, target, threshold, probability, level in rows:
        warning = regions.setdefault(
            region,
            {
                "model_name": model_name,
                "model_version": version,
                "region": region,
                "origin_date": origin.isoformat(),
                "window_days": DEFINITIONS[cadence].window_days,
                "horizons": [],
            },
        )
        warning["horizons"].append(
            {
                "horizon_days": horizon,
                "target_date": target.isoformat(),
                "threshold": round(threshold),
                "probability": round(probability, 2),
                "level": level,
            }
        )
    return list(regions.values())


def check(model_name: str, run_id: str | None = None) -> dict:
    """Alert once on each region the model's champion warns of (see the module); returns the regions it
    warns of and those alerted now (the others alerted within the window before)."""
    ensure_warehouse()
    found = warned_regions(model_name)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("lock table ml.surge_alerts in share row exclusive mode")
        new = []
        for warning in found:
            cur.execute(RECORD_ALERT, warning)
            if cur.fetchone():
                new.append(described(warning))
        if new:  # sent inside the transaction: if the alerts' records cannot be committed, they alert again
            alerts.send({"event": EVENT, "dag_id": "cother_retrain", "run_id": run_id, "surges": new})
    return {"warned": [warning["region"] for warning in found], "alerted": new}


def described(warning: dict) -> dict:
    """A region's warning as JSON, in one sentence too."""
    horizons = "; ".join(
        f"{h['target_date']} ({h['horizon_days']} days ahead) above {h['threshold']:,} with probability"
        f" {h['probability']:.2f} (level {h['level']:.2f})"
        for h in warning["horizons"]
    )
    message = (
        f"{warning['region']}: counts likely to rise at a surge's pace: {horizons}; champion"
        f" v{warning['model_version']} of {warning['model_name']}, forecast from {warning['origin_date']}"
    )
    return {**warning, "message": message}
