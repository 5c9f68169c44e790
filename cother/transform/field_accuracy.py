"""Field accuracy: is the champion doing worse than it should on the days reported since it forecast
them? After each dbt build, per region and horizon, over the champion's last scored days of
marts.fct_forecast_accuracy, two watches (cother/alerts.py):

- worse than persistence: over its last COTHER_FIELD_ACCURACY_DAYS scored days, its MAE above
  persistence's on the same days; an alert names the region, the horizon and both figures
  (ml.field_accuracy_alerts, which the next retrain's promotion gate reads: cother_ml.storage.field_flags);
- intervals too narrow: over its last COVERAGE_DAYS scored days with quantiles, its 95 % intervals held
  fewer than COVERAGE_FLOOR of the actuals (ml.coverage_alerts).

The champion of a model is the version its `champion` alias holds in the MLflow registry, the one
`models:/<name>@champion` serves, asked when the check runs (cother_ml.aliases.holder_of, which first
records an alias moved outside the project in ml.model_promotions); neither the last row of
ml.model_promotions nor the alias a version's forecasts were written with (ml.forecasts.model_alias).

Each stretch alerted is kept, so that a retried task or the next run over the same days alerts nothing;
a champion that stays off alerts again once a whole new stretch of scored days has come in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psycopg2 import sql

from cother import alerts
from cother_core.database import connect
from cother_core.settings import get_settings
from cother_core.warehouse import ensure_warehouse

MART = "fct_forecast_accuracy"
COVERAGE_DAYS = 28  # the scored days with quantiles over which the 95 % intervals' coverage is watched
COVERAGE_FLOOR = 0.80  # below this share of actuals inside them, the intervals are too narrow

# The champions (champions(): %(champion_names)s and their %(champion_versions)s), their scored days (those
# with quantiles when %(with_quantiles)s), ranked newest first per region and horizon.
CHAMPION_SCORED_DAYS = """
with

champions as (
    select
        champion.model_name,
        champion.model_version
    from unnest(%(champion_names)s::text[], %(champion_versions)s::integer[]) as champion (model_name, model_version)
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
    where not %(with_quantiles)s or accuracy.covered_95 is not null
)
"""

# Its last N scored days per region and horizon, where its MAE over them is above persistence's.
WORSE_THAN_PERSISTENCE = (
    CHAMPION_SCORED_DAYS
    + """
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
)

# Its last N scored days with quantiles per region and horizon, where its 95 % intervals held too few actuals.
TOO_NARROW = (
    CHAMPION_SCORED_DAYS
    + """
select
    model_name,
    model_version::text,
    region,
    horizon_days,
    min(date_day) as stretch_start,
    max(date_day) as stretch_end,
    count(*) as scored_days,
    avg(covered_95::integer) as coverage_95
from ranked
where recency <= %(days)s
group by model_name, model_version, region, horizon_days
having count(*) = %(days)s and avg(covered_95::integer) < %(floor)s
order by model_name, region, horizon_days
"""
)

# Record a stretch unless one already alerted for the same version, region and horizon overlaps it.
RECORD_ALERT = """
insert into {table} ({columns})
select {values}
where not exists (
    select 1 from {table} as alerted
    where alerted.model_name = %(model_name)s and alerted.model_version = %(model_version)s
        and alerted.region = %(region)s and alerted.horizon_days = %(horizon_days)s
        and alerted.stretch_end >= %(stretch_start)s
)
on conflict do nothing
returning model_name
"""

KEYS = ["model_name", "model_version", "region", "horizon_days", "stretch_start", "stretch_end", "scored_days"]


@dataclass(frozen=True)
class Watch:
    event: str  # the alert's event
    key: str  # the alert's list of stretches
    table: str  # where the stretches alerted are kept
    query: str  # the champion's stretches to alert on
    figures: tuple[str, ...]  # the stretch's figures, after KEYS
    params: Callable[[], dict]  # the query's parameters
    message: Callable[[dict], str]  # a stretch in one sentence (its figures rounded)


def worse_message(stretch: dict) -> str:
    return (
        f"{stretch['region']}, horizon {stretch['horizon_days']}: champion v{stretch['model_version']} MAE"
        f" {stretch['mae']} vs persistence {stretch['persistence_mae']} over the {stretch['scored_days']} scored"
        f" days {stretch['days']}"
    )


def narrow_message(stretch: dict) -> str:
    return (
        f"{stretch['region']}, horizon {stretch['horizon_days']}: champion v{stretch['model_version']}'s 95 %"
        f" intervals held {stretch['coverage_95']:.0%} of the actuals over the {stretch['scored_days']} scored days"
        f" {stretch['days']} (below {COVERAGE_FLOOR:.0%})"
    )


WATCHES = (
    Watch(
        "champion_worse_than_persistence",
        "worse",
        "ml.field_accuracy_alerts",
        WORSE_THAN_PERSISTENCE,
        ("mae", "persistence_mae"),
        lambda: {"days": get_settings().field_accuracy_days, "with_quantiles": False},
        worse_message,
    ),
    Watch(
        "champion_intervals_too_narrow",
        "too_narrow",
        "ml.coverage_alerts",
        TOO_NARROW,
        ("coverage_95",),
        lambda: {"days": COVERAGE_DAYS, "floor": COVERAGE_FLOOR, "with_quantiles": True},
        narrow_message,
    ),
)


def champions() -> dict[str, int]:
    """Per model with scored forecasts, the version its `champion` alias holds in the registry; a model
    whose alias holds none is left out."""
    from cother_ml import aliases
    from cother_ml.promotion import CHAMPION

    with connect() as conn, conn.cursor() as cur:
        cur.execute("select distinct model_name from marts.fct_forecast_accuracy order by model_name")
        names = [name for (name,) in cur.fetchall()]
    holders = {name: aliases.holder_of(name, CHAMPION) for name in names}
    return {name: int(holder.version) for name, holder in holders.items() if holder is not None}


def stretches(watch: Watch, held: dict[str, int]) -> list[dict]:
    """The (region, horizon) stretches of these champions (champions()) that this watch alerts on, with
    their figures."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            watch.query, {**watch.params(), "champion_names": list(held), "champion_versions": list(held.values())}
        )
        return [dict(zip([*KEYS, *watch.figures], row, strict=True)) for row in cur.fetchall()]


def check(run_id: str | None = None) -> dict:
    """Alert once on each stretch of each watch; returns per watch (its event) the stretches found and
    those alerted now (the others were alerted before)."""
    ensure_warehouse()
    held = champions()
    return {watch.event: check_watch(watch, held, run_id) for watch in WATCHES}


def check_watch(watch: Watch, held: dict[str, int], run_id: str | None) -> dict:
    found = stretches(watch, held)
    columns = [*KEYS, *watch.figures]
    schema, table = watch.table.split(".")
    record = sql.SQL(RECORD_ALERT).format(
        table=sql.Identifier(schema, table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(map(sql.Placeholder, columns)),
    )
    with connect() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("lock table {} in share row exclusive mode").format(sql.Identifier(schema, table)))
        new = []
        for stretch in found:
            cur.execute(record, stretch)
            if cur.fetchone():
                new.append(described(stretch, watch))
        if new:  # sent inside the transaction: if the alert's records cannot be committed, they alert again
            alerts.send({"event": watch.event, "dag_id": "cother_transform", "run_id": run_id, watch.key: new})
    return {"found": len(found), "alerted": new}


def described(stretch: dict, watch: Watch) -> dict:
    """A stretch as JSON: the region, the horizon and the figures (rounded), in one sentence too."""
    days = f"{stretch['stretch_start']:%Y-%m-%d}..{stretch['stretch_end']:%Y-%m-%d}"
    figures = {name: round(float(stretch[name]), 1 if "mae" in name else 3) for name in watch.figures}
    described = {key: stretch[key] for key in KEYS if key not in {"stretch_start", "stretch_end"}}
    described |= {"days": days, **figures}
    return described | {"message": watch.message(described)}
