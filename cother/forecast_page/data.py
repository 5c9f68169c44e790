"""What the Forecasts page shows, read from the warehouse's marts and the MLflow registry with
parameterised SQL: every region at a glance, one region in detail (with its forecasts' 50 % and 95 %
intervals and their coverage so far), each region set's champion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from cother_core.clock import today
from cother_core.database import connect
from cother_core.regions import CADENCE_DAYS, Region, get_region, get_set, region_sets, set_of
from cother_core.settings import get_settings
from cother_ml import registry
from cother_ml.backtest import mean_absolute_error
from cother_ml.grain import Grain, grain_of
from cother_ml.intervals import QUANTILE_LEVELS, backtest_quantiles
from cother_ml.publication import INTERVALS


@dataclass(frozen=True)
class Periods:
    """What the page reads and says of a region by its set's cadence (config/regions): the period one
    count covers, how many of them the region's chart and its rolling accuracy span, how long after its
    period ends a count is usually published, and what the overview's change is against."""

    cadence: str
    name: str  # "day", or "week" (ending on Sunday: a weekly count's day is its Sunday)
    history: int  # the region chart's span, in periods up to the region's latest
    rolling: int  # the window of the rolling accuracy against persistence, in periods
    lag_days: int  # after its period ends, the days the source usually takes to publish its count
    compared: str  # the overview's change of a forecast: against which count

    @property
    def step_days(self) -> int:
        return CADENCE_DAYS[self.cadence]

    @property
    def history_days(self) -> int:
        return self.history * self.step_days

    @property
    def rolling_days(self) -> int:
        return self.rolling * self.step_days

    def when(self, day: date) -> str:
        """A count's day in words: "2021-10-06", or "week to 2026-04-19"."""
        return f"{day:%Y-%m-%d}" if self.step_days == 1 else f"{self.name} to {day:%Y-%m-%d}"


PERIODS = {
    "daily": Periods("daily", "day", history=182, rolling=28, lag_days=0, compared="vs a week before"),
    # WHO fills a week in over the days after its Sunday (cother/ingest/sources/who.py waits for it)
    "weekly": Periods("weekly", "week", history=104, rolling=12, lag_days=7, compared="vs last reported"),
}


def periods_of(region_set: str) -> Periods:
    return PERIODS[get_set(region_set).cadence]


def horizons(grain: Grain) -> list[dict]:
    """A set's horizons, in days (as ml.forecasts records them) and in words."""
    return [{"horizon_days": horizon, "label": grain.label(horizon)} for horizon in grain.horizons]


# A forecast's change is against the latest count on or before its origin a whole number of weeks
# before its day: the same weekday a week before (a daily set's horizons of 1 and 7 days), or the week
# the forecast was made from (a weekly set's, 1 to 4 weeks).
LATEST_FORECASTS = """
with latest as (
    select distinct on (region, horizon_days)
        region, horizon_days, origin_date, date_day, forecast_new_cases, forecaster, region_in_training
    from marts.fct_forecasts
    where model_name = %(model)s and model_version = %(version)s
    order by region, horizon_days, origin_date desc
)
select latest.region, latest.horizon_days, latest.origin_date, latest.date_day, latest.forecast_new_cases,
    latest.forecaster, latest.region_in_training, compared.new_cases, surge.surge_probability, surge.is_warned
from latest
left join marts.fct_region_daily as compared
    on compared.region = latest.region
    and compared.date_day = latest.date_day - 7 * ceil(latest.horizon_days / 7.0)::integer
left join marts.fct_surge_warnings as surge
    on surge.model_name = %(model)s and surge.model_version = %(version)s
    and surge.region = latest.region and surge.horizon_days = latest.horizon_days
    and surge.origin_date = latest.origin_date and surge.date_day = latest.date_day
"""
# the latest day the source reported, with a daily count or not (a weekly reporter's days have none)
LATEST_DAYS = "select region, max(date_day) from marts.fct_region_daily group by region"
OPEN_QUARANTINE = "select region, count(*) from quarantine.batches where replayed_at is null group by region"
CADENCE = "select region, reporting_cadence, reporting_cadence_since from marts.dim_region"
REPORTED = """
select date_day, new_cases, temperature_mean_c, precipitation_mm
from marts.fct_region_daily
where region = %(region)s
    and date_day > (select max(date_day) from marts.fct_region_daily where region = %(region)s) - %(days)s
order by date_day
"""
# the central intervals the page draws, in percent, widest first (drawn first, the narrower over it);
# the quantile levels of their bounds
WIDTHS = (95, 50)
BOUNDS = {"lower_95": 0.025, "upper_95": 0.975, "lower_50": 0.25, "upper_50": 0.75}
# a region's forecasts by the version, who made each, and their bounds (null where it wrote no quantiles)
LIVE_FORECASTS = """
select
    forecasts.horizon_days,
    forecasts.date_day,
    forecasts.forecast_new_cases,
    forecasts.forecaster,
    forecasts.region_in_training,
    max(quantiles.quantile_value) filter (where quantiles.quantile_level = %(lower_95)s) as lower_95,
    max(quantiles.quantile_value) filter (where quantiles.quantile_level = %(upper_95)s) as upper_95,
    max(quantiles.quantile_value) filter (where quantiles.quantile_level = %(lower_50)s) as lower_50,
    max(quantiles.quantile_value) filter (where quantiles.quantile_level = %(upper_50)s) as upper_50,
    surge.surge_threshold,
    surge.surge_probability,
    surge.warning_level,
    coalesce(surge.is_warned, false) as surge_warned,
    surge.alerted_at
from marts.fct_forecasts as forecasts
left join marts.fct_forecast_quantiles as quantiles
    on quantiles.model_name = forecasts.model_name
    and quantiles.model_version = forecasts.model_version
    and quantiles.region = forecasts.region
    and quantiles.date_day = forecasts.date_day
    and quantiles.horizon_days = forecasts.horizon_days
left join marts.fct_surge_warnings as surge
    on surge.model_name = forecasts.model_name
    and surge.model_version = forecasts.model_version
    and surge.region = forecasts.region
    and surge.date_day = forecasts.date_day
    and surge.horizon_days = forecasts.horizon_days
    and surge.origin_date = forecasts.origin_date
where forecasts.model_name = %(model)s and forecasts.model_version = %(version)s and forecasts.region = %(region)s
group by
    forecasts.horizon_days, forecasts.date_day, forecasts.forecast_new_cases, forecasts.forecaster,
    forecasts.region_in_training, surge.surge_threshold, surge.surge_probability, surge.warning_level,
    surge.is_warned, surge.alerted_at
order by forecasts.horizon_days, forecasts.date_day
"""
SURGE_COLUMNS = ["surge_threshold", "surge_probability", "warning_level", "surge_warned", "alerted_at"]
LIVE_COLUMNS = ["horizon", "date_day", "forecast", "forecaster", "region_in_training", *BOUNDS, *SURGE_COLUMNS]
# Per horizon, a region's forecasts scored so far with their quantiles (marts.fct_forecast_accuracy) by
# every version that has been the set's champion, and how many fell in their 50 % and 95 % intervals.
COVERAGE = """
select horizon_days, count(*), count(*) filter (where covered_50), count(*) filter (where covered_95)
from marts.fct_forecast_accuracy
where model_name = %(model)s and region = %(region)s and covered_50 is not null
    and model_version in (
        select model_version::integer from ml.model_promotions
        where model_name = %(model)s and alias_name = 'champion'
    )
group by horizon_days
order by horizon_days
"""
COVERAGE_COLUMNS = ["horizon", "scored", "inside_50", "inside_95"]
PROMOTED = """
select moved_at, moved_by, reason from ml.model_promotions
where model_name = %s and alias_name = 'champion' and model_version = %s order by id desc limit 1
"""


class UnknownRegion(KeyError):
    pass


# How a region reports its cases (marts.dim_region), in words.
HABITS = {
    "daily": "reports daily",
    "few_cases": "too few cases to tell how it reports (under 140 in 28 days)",
    "weekly": "reports weekly",
    "irregular": "reports irregularly",
}


@dataclass(frozen=True)
class Cadence:
    """How a region reports its cases now (marts.dim_region): daily, few_cases, weekly or irregular,
    since the first day of that stretch (None before 28 days of data); and its set's cadence."""

    set_cadence: str
    habit: str | None = None
    since: date | None = None

    @property
    def uncounted(self) -> bool:
        """A daily set's weekly or irregular reporter: its days have no daily count
        (int_cases__daily_from_cumulative), so the model makes no forecast from them. A weekly set's
        weeks are counted whatever the habit: reporting weekly is that set's own."""
        return self.set_cadence == "daily" and self.habit in ("weekly", "irregular")

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
    backtest: list[dict]  # per horizon (in days and words) and forecaster, the mean MAE over the folds


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
    name = registry.model_name_of(region_set)
    version = registry.alias_version(name)
    if version is None:
        return None
    metrics = registry.client().get_run(version.run_id).data.metrics
    promoted = _query(PROMOTED, (name, str(version.version)))
    moved_at, moved_by, reason = promoted[0] if promoted else (None, None, None)
    grain = grain_of(region_set)
    backtest = [
        {
            "horizon": horizon,
            "label": grain.label(horizon),
            "forecaster": forecaster,
            "mae": metrics.get(f"h{horizon}_{forecaster}_mae"),
        }
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


def is_late(latest_day: date | None, periods: Periods) -> bool:
    """Whether a region's next count is overdue: its latest is more than a period, the source's usual
    lag (Periods.lag_days) and COTHER_FRESHNESS_DAYS before today. A daily region is late when its latest
    day is more than COTHER_FRESHNESS_DAYS behind yesterday; a weekly one, with COTHER_FRESHNESS_DAYS at 1,
    when its latest Sunday is more than 15 days before today: the week after it has ended, WHO has had a
    week to publish it, and a day more has passed."""
    allowed = periods.step_days + periods.lag_days + get_settings().freshness_days
    return latest_day is None or (today() - latest_day).days > allowed


def cadences() -> dict[str, Cadence]:
    """Every region's reporting cadence, by region id; a region not classified yet has its set's alone."""
    reported = {region: (habit, since) for region, habit, since in _query(CADENCE)}
    return {
        region.id: Cadence(region_set.cadence, *reported.get(region.id, (None, None)))
        for region_set in region_sets().values()
        for region in region_set.regions
    }


def can_differ(forecaster: str, horizon: int) -> bool:
    """Whether a forecast can differ from the count its change is against (LATEST_FORECASTS): the
    seasonal naive forecast is that count, and so is persistence's a whole number of weeks ahead (the
    origin's own count)."""
    return not (forecaster == "seasonal_naive" or (forecaster == "persistence" and horizon % 7 == 0))


def in_words(forecaster: str) -> str:
    """A forecaster's name as the page says it: "seasonal naive", "mean 4w"."""
    return forecaster.replace("_", " ")


def trained(region_in_training) -> bool:
    """Whether the version that made a forecast trained on its region (null: written before that was
    recorded, when every region was)."""
    return region_in_training is None or bool(region_in_training)


def made_by(forecaster: str, region_in_training, version: str) -> str:
    """Who made a forecast, in words: the model's version, or the naive forecaster the version published
    for the horizon (it beat the model on the version's backtest: `published`), or the one it published
    for a region it did not train on (said)."""
    if forecaster == "model":
        return f"model v{version}"
    if not trained(region_in_training):
        return f"{in_words(forecaster)} (v{version} did not train on this region)"
    return in_words(forecaster)


def published(forecasts: list[dict], version: str) -> str:
    """In words, who made a horizon's forecasts (overview's) for the regions the version trained on: the
    model, or the naive forecaster that beat it on the version's backtest; "" without any."""
    names = sorted({forecast["forecaster"] for forecast in forecasts if trained(forecast["region_in_training"])})
    return "; ".join(
        f"model v{version}" if name == "model" else f"{in_words(name)}, which beat model v{version} on its backtest"
        for name in names
    )


def overview() -> dict:
    """Every region of every configured set, with the set's horizons and periods and, per horizon, who
    made its forecasts (`published`): per region, its latest forecast per horizon by the set's champion
    and who made it, the change against the count of a whole number of weeks before (LATEST_FORECASTS,
    where it can differ), its latest day and whether it is late, how it reports its cases, and its open
    quarantined batches."""
    latest_days = dict(_query(LATEST_DAYS))
    quarantined = dict(_query(OPEN_QUARANTINE))
    reporting = cadences()
    sets = []
    for name, region_set in region_sets().items():
        best = champion(name)
        grain, periods = grain_of(name), PERIODS[region_set.cadence]
        forecasts: dict[str, dict[int, dict]] = {}
        published_by: dict[int, str] = {}
        if best is not None:
            for region, horizon, origin, day, value, forecaster, in_training, compared, chance, warned in _query(
                LATEST_FORECASTS, {"model": best.model_name, "version": best.version}
            ):
                forecasts.setdefault(region, {})[horizon] = {
                    "origin": origin,
                    "date": day,
                    "forecast": value,
                    "compared": compared,
                    "change": value / compared - 1 if compared and can_differ(forecaster, horizon) else None,
                    "forecaster": forecaster,
                    "region_in_training": in_training,
                    "made_by": made_by(forecaster, in_training, best.version),
                    "surge_probability": chance,
                    "surge_warned": bool(warned),
                }
            published_by = {
                horizon: published([shown[horizon] for shown in forecasts.values() if horizon in shown], best.version)
                for horizon in grain.horizons
            }
        regions = [
            {
                "region": region.id,
                "name": region.name,
                "latest_day": latest_days.get(region.id),
                "late": is_late(latest_days.get(region.id), periods),
                "cadence": reporting[region.id],
                "open_quarantine": quarantined.get(region.id, 0),
                "forecasts": forecasts.get(region.id, {}),
            }
            for region in region_set.regions
        ]
        sets.append(
            {
                "region_set": name,
                "periods": periods,
                "horizons": horizons(grain),
                "champion": best,
                "published": published_by,
                "regions": regions,
            }
        )
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


def rolling_accuracy(backtest: pd.DataFrame, grain: Grain, periods: Periods) -> pd.DataFrame:
    """The first horizon's backtest forecasts of one region (next day, or 1 week): per target day, the
    MAE of the model and of persistence over the last `periods.rolling` periods, and their ratio (below
    1: the model is better)."""
    rows = backtest[backtest["horizon"] == grain.first_horizon].sort_values("target_date").set_index("target_date")
    errors = pd.DataFrame(
        {
            "model": (rows["model"] - rows["actual"]).abs(),
            "persistence": (rows["persistence"] - rows["actual"]).abs(),
        }
    )
    rolled = errors.rolling(f"{periods.rolling_days}D", min_periods=periods.rolling // 2).mean()
    return rolled.assign(ratio=rolled["model"] / rolled["persistence"]).dropna().reset_index()


def coverage_so_far(model_name: str, region_id: str) -> pd.DataFrame:
    """Per horizon (COVERAGE_COLUMNS), the region's forecasts by every version of the model that has
    been champion scored so far with their quantiles, and how many fell inside their 50 % and 95 %
    intervals; no row for a horizon with none."""
    return pd.DataFrame(_query(COVERAGE, {"model": model_name, "region": region_id}), columns=COVERAGE_COLUMNS)


@lru_cache(maxsize=16)
def _backtest_bounds(run_id: str, forecaster: str) -> pd.DataFrame:
    """The BOUNDS of a run's backtest forecasts by `forecaster` (on the backtest's index), each
    fold's calibrated on the folds before it as the retrain scores them: by the method of who made them
    (cother_ml.publication.INTERVALS); NaN in the first fold."""
    backtest = _backtest(run_id)
    method = INTERVALS["model" if forecaster == "model" else "naive"]
    quantiles = backtest_quantiles(backtest, forecaster, method)
    columns = {
        name: quantiles[:, np.flatnonzero(np.isclose(QUANTILE_LEVELS, level))[0]] for name, level in BOUNDS.items()
    }
    return pd.DataFrame(columns, index=backtest.index)


def detail(region_id: str) -> dict:
    """One region: its counts (and weather) over the last `history` periods of its set, how it reports
    its cases, its champion's live forecasts at the set's horizons (who made each, with their bounds),
    its backtest forecasts (the first horizon's bounds by the forecaster of its live forecast, the
    model's where it has none), the coverage so far of the intervals of its scored forecasts, the
    rolling accuracy of the first horizon against persistence, and the champion."""
    chosen = region(region_id)
    region_set = set_of(chosen.id)
    grain, periods = grain_of(region_set), periods_of(region_set)
    reported = pd.DataFrame(
        _query(REPORTED, {"region": chosen.id, "days": periods.history_days}),
        columns=["date_day", "new_cases", "temperature_mean_c", "precipitation_mm"],
    )
    best = champion(region_set)
    live = pd.DataFrame(columns=LIVE_COLUMNS)
    coverage = pd.DataFrame(columns=COVERAGE_COLUMNS)
    backtest = bounds = None
    if best is not None:
        live = pd.DataFrame(
            _query(LIVE_FORECASTS, {"model": best.model_name, "version": best.version, "region": chosen.id, **BOUNDS}),
            columns=LIVE_COLUMNS,
        )
        coverage = coverage_so_far(best.model_name, chosen.id)
        stored = _backtest(best.run_id)
        if stored is not None:
            backtest = stored[stored["region"] == chosen.id]
    forecasters = dict(zip(live["horizon"], live["forecaster"], strict=True))  # who made each horizon's live one
    scored = backtest is not None and not backtest.empty
    first = backtest[backtest["horizon"] == grain.first_horizon] if scored else None
    if scored:
        bounds = first[["target_date"]].join(
            _backtest_bounds(best.run_id, forecasters.get(grain.first_horizon, "model"))
        )
    return {
        "region": chosen,
        "region_set": region_set,
        "grain": grain,
        "periods": periods,
        "reported": reported,
        "cadence": cadences()[chosen.id],
        "champion": best,
        "live": live,
        "forecasters": forecasters,
        "coverage": coverage,
        "backtest": backtest,
        "backtest_bounds": bounds,
        "accuracy": rolling_accuracy(backtest, grain, periods) if scored else None,
        "first_horizon_mae": {
            name: mean_absolute_error(first["actual"], first[name]) for name in ("model", "persistence")
        }
        if scored
        else None,
    }
