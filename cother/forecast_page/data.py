"""What the Forecasts page shows, read from the warehouse's marts and the MLflow registry with
parameterised SQL: every region at a glance, one region in detail, each region set's champion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import pandas as pd

from cother.core.database import connect
from cother.core.regions import Region, get_region, region_sets, set_of
from cother.core.settings import get_settings
from cother.ingest.stages import today
from cother.ml import registry
from cother.ml.backtest import mean_absolute_error
from cother.ml.grain import grain_of

HISTORY_DAYS = 182  # the detail chart's span, up to the region's latest day
ROLLING_DAYS = 28  # the window of the rolling accuracy against persistence

LATEST_FORECASTS = """
with latest as (
    select distinct on (region, horizon_days)
        region, horizon_days, origin_date, date_day, forecast_new_cases, forecaster, region_in_training
    from marts.fct_forecasts
    where model_name = %(model)s and model_version = %(version)s
    order by region, horizon_days, origin_date desc
)
select latest.region, latest.horizon_days, latest.origin_date, latest.date_day, latest.forecast_new_cases,
    latest.forecaster, latest.region_in_training, week_before.new_cases
from latest
left join marts.fct_region_daily as week_before
    on week_before.region = latest.region and week_before.date_day = latest.date_day - 7
"""
# the latest day the source reported, with a daily count or not (a weekly reporter's days have none)
LATEST_DAYS = "select region, max(date_day) from marts.fct_region_daily group by region"
OPEN_QUARANTINE = "select region, count(*) from quarantine.batches where replayed_at is null group by region"
CADENCE = "select region, reporting_cadence, reporting_cadence_since from marts.dim_region"
DAILY = """
select date_day, new_cases, temperature_mean_c, precipitation_mm
from marts.fct_region_daily
where region = %(region)s
    and date_day > (select max(date_day) from marts.fct_region_daily where region = %(region)s) - %(days)s
order by date_day
"""
LIVE_FORECASTS = """
select horizon_days, date_day, forecast_new_cases from marts.fct_forecasts
where model_name = %(model)s and model_version = %(version)s and region = %(region)s
order by horizon_days, date_day
"""
PROMOTED = """
select moved_at, moved_by, reason from ml.model_promotions
where model_name = %s and alias_name = 'champion' and model_version = %s order by id desc limit 1
"""


class UnknownRegion(KeyError):
    pass


# How a region reports its cases (marts.dim_region), in words.
HABITS = {
    "daily": "reports daily",
    "few_cases": "too few cases to tell how it reports (under 5 a day)",
    "weekly": "reports weekly",
    "irregular": "reports irregularly",
}


@dataclass(frozen=True)
class Cadence:
    """How a region reports its cases now (marts.dim_region): daily, few_cases, weekly or irregular,
    since the first day of that stretch; None before 28 days of data."""

    habit: str | None = None
    since: date | None = None

    @property
    def not_daily(self) -> bool:
        """A weekly or irregular reporter: its days have no daily count (int_cases__daily_from_cumulative),
        so the daily model makes no forecast from them."""
        return self.habit in ("weekly", "irregular")

    def in_words(self) -> str:
        """E.g. 'reports weekly since 2022-07-04'."""
        if self.habit is None:
            return "not known yet (under 28 days of data)"
        return f"{HABITS[self.habit]} since {self.since:%Y-%m-%d}"


@dataclass(frozen=True)
class Champion:
    region_set: str
    model_name: str
    version: str
    run_id: str
    training_window: str
    promoted_at: datetime | None
    promoted_by: str | None
    reason: str | None
    backtest: list[dict]  # per horizon and forecaster, the mean MAE over the folds


def _query(statement: str, params=None) -> list[tuple]:
    """Rows of a statement; none where the warehouse has no such table yet (nothing built)."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_forecasts') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute(statement, params)
        return cur.fetchall()


def champion(region_set: str) -> Champion | None:
    """The set's champion, or None (no model registered, or none has won yet)."""
    with registry.for_set(region_set) as name:
        version = registry.alias_version()
        if version is None:
            return None
        metrics = registry.client().get_run(version.run_id).data.metrics
    promoted = _query(PROMOTED, (name, str(version.version)))
    moved_at, moved_by, reason = promoted[0] if promoted else (None, None, None)
    grain = grain_of(region_set)
    backtest = [
        {"horizon": horizon, "forecaster": forecaster, "mae": metrics.get(f"h{horizon}_{forecaster}_mae")}
        for horizon in grain.horizons
        for forecaster in grain.forecasters
    ]
    tags = version.tags
    return Champion(
        region_set=region_set,
        model_name=name,
        version=str(version.version),
        run_id=version.run_id,
        training_window=f"{tags.get('training_start', '?')}..{tags.get('training_end', '?')}",
        promoted_at=moved_at,
        promoted_by=moved_by,
        reason=reason,
        backtest=backtest,
    )


def is_late(latest_day: date | None) -> bool:
    """Whether a region's latest reported day is more than COTHER_FRESHNESS_DAYS behind yesterday."""
    yesterday = today() - timedelta(days=1)
    return latest_day is None or (yesterday - latest_day).days > get_settings().freshness_days


def cadences() -> dict[str, Cadence]:
    """Every region's reporting cadence, by region id."""
    return {region: Cadence(habit, since) for region, habit, since in _query(CADENCE)}


def can_differ(forecaster: str, horizon: int) -> bool:
    """Whether a forecast can differ from the count of the same weekday a week before its day: the
    seasonal naive forecast is that count, and so is persistence's 7 days ahead (the origin's own count)."""
    return not (forecaster == "seasonal_naive" or (forecaster == "persistence" and horizon == 7))


def made_by(forecaster: str, region_in_training: bool | None, version: str) -> str:
    """Who made a forecast, in words: the model's version, or the naive forecaster the version published
    for the horizon, or for a region the version did not train on."""
    if forecaster == "model":
        return f"model v{version}"
    if region_in_training is False:
        return f"{forecaster} (v{version} did not train on this region)"
    return f"{forecaster} (beat model v{version} on its backtest)"


def overview() -> dict:
    """Every region of every configured set: its latest forecast per horizon by the set's champion and
    who made it, the change against the same weekday a week before (where it can differ), its latest
    day and whether it is late, how it reports its cases, and its open quarantined batches."""
    latest_days = dict(_query(LATEST_DAYS))
    quarantined = dict(_query(OPEN_QUARANTINE))
    reporting = cadences()
    sets = []
    for name, region_set in region_sets().items():
        best = champion(name)
        forecasts: dict[str, dict[int, dict]] = {}
        if best is not None:
            for region, horizon, origin, day, value, name, trained, week_before in _query(
                LATEST_FORECASTS, {"model": best.model_name, "version": best.version}
            ):
                forecasts.setdefault(region, {})[horizon] = {
                    "origin": origin,
                    "date": day,
                    "forecast": value,
                    "week_before": week_before,
                    "change": value / week_before - 1 if week_before and can_differ(name, horizon) else None,
                    "made_by": made_by(name, trained, best.version),
                }
        regions = [
            {
                "region": region.id,
                "name": region.name,
                "latest_day": latest_days.get(region.id),
                "late": is_late(latest_days.get(region.id)),
                "cadence": reporting.get(region.id, Cadence()),
                "open_quarantine": quarantined.get(region.id, 0),
                "forecasts": forecasts.get(region.id, {}),
            }
            for region in region_set.regions
        ]
        sets.append({"region_set": name, "champion": best, "regions": regions})
    return {"sets": sets}


@lru_cache(maxsize=8)
def _backtest(run_id: str) -> pd.DataFrame | None:
    """A run's backtest forecasts; a run's artifacts never change, so they are read once."""
    return registry.load_backtest(run_id)


def region(region_id: str) -> Region:
    try:
        return get_region(region_id)
    except KeyError:
        raise UnknownRegion(region_id) from None


def rolling_accuracy(backtest: pd.DataFrame) -> pd.DataFrame:
    """Next-day backtest forecasts of one region: per target day, the MAE of the model and of
    persistence over the last ROLLING_DAYS days, and their ratio (below 1: the model is better)."""
    rows = backtest[backtest["horizon"] == 1].sort_values("target_date").set_index("target_date")
    errors = pd.DataFrame(
        {
            "model": (rows["model"] - rows["actual"]).abs(),
            "persistence": (rows["persistence"] - rows["actual"]).abs(),
        }
    )
    rolled = errors.rolling(f"{ROLLING_DAYS}D", min_periods=ROLLING_DAYS // 2).mean()
    return rolled.assign(ratio=rolled["model"] / rolled["persistence"]).dropna().reset_index()


def detail(region_id: str) -> dict:
    """One region: its daily counts and weather over the last HISTORY_DAYS days, how it reports its
    cases, its champion's live and backtest forecasts at both horizons, the baselines' backtest
    forecasts, the rolling accuracy against persistence, and the champion."""
    chosen = region(region_id)
    daily = pd.DataFrame(
        _query(DAILY, {"region": chosen.id, "days": HISTORY_DAYS}),
        columns=["date_day", "new_cases", "temperature_mean_c", "precipitation_mm"],
    )
    best = champion(set_of(chosen.id))
    live = pd.DataFrame(columns=["horizon", "date_day", "forecast"])
    backtest = None
    if best is not None:
        live = pd.DataFrame(
            _query(LIVE_FORECASTS, {"model": best.model_name, "version": best.version, "region": chosen.id}),
            columns=["horizon", "date_day", "forecast"],
        )
        stored = _backtest(best.run_id)
        if stored is not None:
            backtest = stored[stored["region"] == chosen.id]
    scored = backtest is not None and not backtest.empty
    next_day = backtest[backtest["horizon"] == 1] if scored else None
    return {
        "region": chosen,
        "region_set": set_of(chosen.id),
        "daily": daily,
        "cadence": cadences().get(chosen.id, Cadence()),
        "champion": best,
        "live": live,
        "backtest": backtest,
        "accuracy": rolling_accuracy(backtest) if scored else None,
        "next_day_mae": {
            name: mean_absolute_error(next_day["actual"], next_day[name]) for name in ("model", "persistence")
        }
        if scored
        else None,
    }
