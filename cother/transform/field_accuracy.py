"""Field accuracy: is the champion doing worse than persistence on the days reported since it forecast
them? After each dbt build, per region and horizon, the champion's last COTHER_FIELD_ACCURACY_DAYS
scored days of marts.fct_forecast_accuracy: where its MAE over them is above persistence's on the same
days, an alert names the region, the horizon and both figures (cother/orchestration/alerts.py).

Each stretch alerted is kept in ml.field_accuracy_alerts, so that a retried task or the next run over
the same days alerts nothing; a champion that stays worse alerts again once a whole new stretch of
scored days has come in. The next retrain's promotion gate reads those rows (cother.ml.storage.field_flags).
"""

from __future__ import annotations

from cother.core.database import connect
from cother.core.settings import get_settings
from cother.core.warehouse import ensure_warehouse
from cother.orchestration import alerts

MART = "fct_forecast_accuracy"

# The champion per model name: the last move of the alias (ml.model_promotions), else the newest version
# whose forecasts were written as champion. Its last N scored days per region and horizon, where its MAE
# over them is above persistence's.
WORSE_THAN_PERSISTENCE = """
with

promoted as (
    select distinct on (model_name)
        model_name,
        model_version::integer as model_version
    from ml.model_promotions
    where alias_name = 'champion'
    order by model_name, moved_at desc, id desc
),

written as (
    select
        model_name,
        max(model_version) as model_version
    from marts.fct_forecast_accuracy
    where model_alias = 'champion'
    group by model_name
),

champions as (
    select
        written.model_name,
        coalesce(promoted.model_version, written.model_version) as model_version
    from written
    left join promoted on written.model_name = promoted.model_name
),

ranked as (
    select
        accuracy.*,
        row_number() over (
            partition by accuracy.model_name, accuracy.model_version, accuracy.region, accuracy.horizon_days
            order by accuracy.date_day desc
        ) as recency
    from marts.fct_forecast_accuracy as accuracy
    inner join champions
        on accuracy.model_name = champions.model_name and accuracy.model_version = champions.model_version
)

select
    model_name,
    model_version::text,
    region,
    horizon_days,
    min(date_day) as stretch_start,
    max(date_day) as stretch_end,
    count(*) as scored_days,
    avg(absolute_error) as mae,
    avg(persistence_absolute_error) as persistence_mae
from ranked
where recency <= %(days)s
group by model_name, model_version, region, horizon_days
having count(*) = %(days)s and avg(absolute_error) > avg(persistence_absolute_error)
order by model_name, region, horizon_days
"""

# Record a stretch unless one already alerted for the same version, region and horizon overlaps it.
RECORD_ALERT = """
insert into ml.field_accuracy_alerts
    (model_name, model_version, region, horizon_days, stretch_start, stretch_end, scored_days, mae, persistence_mae)
select %s, %s, %s, %s, %s, %s, %s, %s, %s
where not exists (
    select 1 from ml.field_accuracy_alerts as alerted
    where alerted.model_name = %s and alerted.model_version = %s and alerted.region = %s
        and alerted.horizon_days = %s and alerted.stretch_end >= %s
)
on conflict do nothing
returning model_name
"""

KEYS = [
    "model_name",
    "model_version",
    "region",
    "horizon_days",
    "stretch_start",
    "stretch_end",
    "scored_days",
    "mae",
    "persistence_mae",
]


def worse_than_persistence(days: int) -> list[dict]:
    """The champion's (region, horizon) stretches of its last `days` scored days where its MAE is
    above persistence's, with both figures."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(WORSE_THAN_PERSISTENCE, {"days": days})
        return [dict(zip(KEYS, row, strict=True)) for row in cur.fetchall()]


def check(run_id: str | None = None) -> dict:
    """Alert once on each stretch where the champion did worse than persistence; returns the stretches
    found and those alerted now (the others were alerted before)."""
    ensure_warehouse()
    days = get_settings().field_accuracy_days
    found = worse_than_persistence(days)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("lock table ml.field_accuracy_alerts in share row exclusive mode")
        new = []
        for stretch in found:
            values = [stretch[key] for key in KEYS]
            cur.execute(RECORD_ALERT, values + values[:4] + [stretch["stretch_start"]])
            if cur.fetchone():
                new.append(described(stretch))
        if new:  # sent inside the transaction: if the alert's records cannot be committed, they alert again
            alerts.send(
                {
                    "event": "champion_worse_than_persistence",
                    "dag_id": "cother_transform",
                    "run_id": run_id,
                    "worse": new,
                }
            )
    return {"found": len(found), "alerted": new}


def described(stretch: dict) -> dict:
    """A stretch as JSON: the region, the horizon and the figures, in one sentence too."""
    mae, persistence = round(stretch["mae"], 1), round(stretch["persistence_mae"], 1)
    days = f"{stretch['stretch_start']:%Y-%m-%d}..{stretch['stretch_end']:%Y-%m-%d}"
    return {
        "model_name": stretch["model_name"],
        "model_version": stretch["model_version"],
        "region": stretch["region"],
        "horizon_days": stretch["horizon_days"],
        "days": days,
        "scored_days": stretch["scored_days"],
        "mae": mae,
        "persistence_mae": persistence,
        "message": (
            f"{stretch['region']}, horizon {stretch['horizon_days']}: champion v{stretch['model_version']} MAE {mae}"
            f" vs persistence {persistence} over the {stretch['scored_days']} scored days {days}"
        ),
    }
