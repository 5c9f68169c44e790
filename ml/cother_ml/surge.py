"""Surge warnings, recall first: from each forecast's quantiles (cother_ml.intervals), the probability
that the count rises at a surge's pace over the horizon, and a warning when it passes a level chosen on
the surges before; scored per surge (an episode), beside the rule a reader of the counts would apply.

What a surge is, in the reported counts of a region (SurgeDefinition, one per cadence):

- its level: the mean daily count of the 7 days up to a day (daily sets; null unless all 7 have a
  count), the week's count (weekly sets);
- a surge day (or week): the level up by more than RISE (50 %) on the level a week before, which was at
  least `min_level` (30 a day, the floor below which the daily model is not fitted, as a rise there is
  a handful of cases; 210 a week, the same 30 a day). Up 50 % a week, counts double in 12 days;
- an episode: a region's surge days, those less than `window_days` apart joined (14 days daily, 28
  weekly): a wave that pauses for a few days is one surge. Its onset is its first day, the day the
  counts show it. Each episode is counted once.

The probability, per forecast (region, origin, horizon h): that the count at the target day is above
the reference at the origin (at least `min_level`: a surge starts there; from a week of 0 the question
would be whether there is any count at all) grown at a surge's pace over the horizon, x (1 + RISE)^(h / 7),
read off the forecast's CDF interpolated linearly between its quantiles (flat beyond the outer ones: a
probability is known only within 0.01 and 0.99). The reference is the week's level at the origin: on a
weekly set last week's count; on a daily set the 7-day mean, put on the target day's weekday by that
weekday's usual share of its week (the median, over its last 4 days known at the origin, of the day's
count over the 7-day mean up to it), since a day's forecast carries its weekday's reporting (Korea's
Monday reports a fraction of Wednesday's).

A warning: the probability at or above a level on a forecast's origin day. The level is chosen for
recall on the episodes before (`chosen_level`): the highest level at which at least RECALL_TARGET of
the earlier episodes were warned of in time, once they are at least MIN_EPISODES. A retrain's version
chooses its level per horizon so on its backtest, whose episodes all came before its forecasts
(`backtest_level`, cother_ml.fitting.Fitted.surge_levels): those of its folds with quantiles, all but
the first; where they are too few, it keeps the level of the set's champion (no warning without one).
Scored over periods (`levels_by_period`), each period's level is chosen so on the episodes whose onset
fell in the span such a backtest covers before it, or kept from the period before. The rule baseline
(`rule_warnings`): the level up by more than RULE_RISE (25 %) on the week before, from the same
minimum: "the 7-day mean up 25 % on the week before" (daily), "last week up 25 % on the week before"
(weekly). On daily sets also the Epidemic Volatility Index (`evi_warnings`), as its authors' package
issues it, with its case definition set to this surge's rise.

How a warning is scored (`scores`), over a span of origin days:

- an episode is caught when a warning was on some day from `window_days` before its onset up to the
  onset; its lead is the days from the first such warning to the onset (0: on the day the counts show
  it). Recall: the share of the episodes with onset in the span caught;
- an alert is what the alert channel sends: a region's warning on a day with no alert in the
  `window_days` before (a warning that stays on alerts again after that many days). It is true when it
  falls from `window_days` before an episode's onset to the episode's last day, false otherwise.
  Precision: the share of the span's alerts that are true; false alarms per region-month: the false
  alerts over the region-months with a forecast in the span;
- a warning that is on often catches surges by chance: the recall by chance is the share of region-days
  with a warning in the window before them, what a surge starting on any day would find.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cother_ml.intervals import QUANTILE_LEVELS
from cother_ml.quantile_scores import cdf

RISE = 0.5  # a surge: the week's level up by more than this on the week before
RULE_RISE = 0.25  # the rule baseline's rise
RECALL_TARGET = 0.8  # the share of earlier episodes a chosen level must have warned of
MIN_EPISODES = 10  # a level is chosen on at least this many earlier episodes (the retrain: COTHER_SURGE_MIN_EPISODES)
LEVELS = np.round(np.arange(1, 100) / 100, 2)  # the warning levels chosen among
EVI_WINDOWS = range(7, 31)  # the EVI package's rolling windows (days), 7 to lag_max = 30
EVI_CUTS = np.round(np.arange(1, 51) / 100, 2)  # and its cuts, 0.01 to 0.50


@dataclass(frozen=True)
class SurgeDefinition:
    step_days: int  # the days between two counts of a region: 1 daily, 7 weekly
    min_level: float  # the level (a day's mean, or a week's count) the week before a surge day must reach
    window_days: int  # surge days less apart are one episode; a warning counts this far ahead; an alert holds this long
    rise: float = RISE

    @property
    def week_rows(self) -> int:
        """The rows of a region in a week: 7 daily, 1 weekly."""
        return 7 // self.step_days


DEFINITIONS = {
    "daily": SurgeDefinition(step_days=1, min_level=30, window_days=14),
    "weekly": SurgeDefinition(step_days=7, min_level=210, window_days=28),
}


def counts_of(first_horizon: pd.DataFrame) -> pd.DataFrame:
    """Each region's reported counts (region, date, count), from a grain's examples of its first horizon
    (cother_ml.features.examples), whose target day is the row's own."""
    rows = first_horizon[["region", "target_date", "actual"]]
    return rows.rename(columns={"target_date": "date", "actual": "count"})


def wide(counts: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """The counts (region, date, count) as one column per region on a complete calendar of the cadence."""
    table = counts.pivot(index="date", columns="region", values="count").sort_index()
    return table.asfreq(f"{definition.step_days}D")


def levels(counts: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """The level a surge is defined on, per region and day: the mean of the 7 days up to it, all with a
    count (daily), the week's count (weekly)."""
    rows = definition.week_rows
    return wide(counts, definition).rolling(rows, min_periods=rows).mean()


def rising(level: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """Whether each day's level is up by more than the definition's rise on a week before, from at least its
    minimum level."""
    before = level.shift(definition.week_rows)
    return (level > (1 + definition.rise) * before) & (before >= definition.min_level)


def episodes(level: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """Each surge once: per region, its surge days with those less than `window_days` apart joined; the
    onset (the first surge day) and the last surge day."""
    flags = rising(level, definition)
    rows = []
    for region in flags.columns:
        days = flags.index[flags[region].to_numpy()]
        if days.empty:
            continue
        starts = np.r_[True, np.diff(days.to_numpy()) >= pd.Timedelta(days=definition.window_days)]
        ends = np.r_[starts[1:], True]
        rows += [(region, onset, end) for onset, end in zip(days[starts], days[ends], strict=True)]
    return pd.DataFrame(rows, columns=["region", "onset", "end"])


def probability_above(quantiles, thresholds, levels=QUANTILE_LEVELS) -> np.ndarray:
    """Per forecast (a row of quantiles at `levels`), the probability that the count is above its threshold:
    1 - F(threshold), F read off the quantiles (cother_ml.quantile_scores.cdf: linear between them,
    jumping where several levels share a value, flat at the outer levels beyond them). NaN where the
    quantiles or the threshold are."""
    return 1 - cdf(quantiles, thresholds, levels)


def at(table: pd.DataFrame, dates: pd.Series, regions: pd.Series) -> np.ndarray:
    """The values of a wide table (dates x regions) at each (date, region); NaN where it has none."""
    values = table.stack(future_stack=True)
    return np.array(values.reindex(pd.MultiIndex.from_arrays([dates, regions])), dtype=float)


def weekday_share(counts: pd.DataFrame, level: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Per region and origin day, the usual share of the target weekday (horizon days ahead) in its week:
    the median over its last 4 days known at the origin of the day's count over the 7-day mean up to it."""
    ratio = wide(counts, DEFINITIONS["daily"]) / level
    first = -(-horizon // 7)  # the latest week back whose same weekday is known at the origin
    shifted = pd.concat([ratio.shift(7 * weeks - horizon) for weeks in range(first, first + 4)])
    return shifted.groupby(level=0).median()


def thresholds(forecasts: pd.DataFrame, counts: pd.DataFrame, definition: SurgeDefinition) -> np.ndarray:
    """Per forecast (rows of region, origin_date, horizon in days), the count above which its target day's
    would be a surge's: the reference at the origin (the minimum level where its level is lower or
    unknown) grown by (1 + rise)^(horizon / 7). NaN on a daily set where the weekday's share is unknown
    (none of its last 4 days had a level)."""
    level = levels(counts, definition)
    reference = np.fmax(at(level, forecasts["origin_date"], forecasts["region"]), definition.min_level)
    if definition.step_days == 1:
        for horizon, rows in forecasts.groupby("horizon").indices.items():
            share = weekday_share(counts, level, int(horizon))
            reference[rows] *= at(share, forecasts["origin_date"].iloc[rows], forecasts["region"].iloc[rows])
    growth = (1 + definition.rise) ** (forecasts["horizon"].to_numpy(dtype=float) / 7)
    return reference * growth


def surge_probability(
    forecasts: pd.DataFrame, quantiles: np.ndarray, counts: pd.DataFrame, definition: SurgeDefinition
) -> np.ndarray:
    """Per forecast (rows of region, origin_date, horizon in days; their quantiles), the probability that
    its count is above its threshold (`thresholds`)."""
    return probability_above(quantiles, thresholds(forecasts, counts, definition))


def by_origin(forecasts: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """One horizon's values per forecast as a table: origin days x regions."""
    table = forecasts[["origin_date", "region"]].assign(value=values)
    return table.pivot(index="origin_date", columns="region", values="value").sort_index()


def rule_warnings(level: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """The rule baseline's warnings per region and day: the level up by more than RULE_RISE on the week before."""
    return rising(level, replace(definition, rise=RULE_RISE))


def evi_warnings(level: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """The Epidemic Volatility Index's warnings per region and day (daily sets), as the EVI package's
    deviant() issues them (Kostoulas et al. 2021, Sci. Rep. 11: 23775; github.com/ku-awdc/EVI)."""
    return level.apply(lambda series: pd.Series(evi_series(series, definition.rise), index=level.index))


def evi_series(level: pd.Series, rise: float) -> np.ndarray:
    """EVI on one region's 7-day mean x: for a window of m days the sample standard deviation of x over
    it, and EVI_t its relative change on the day before (NaN read as 0); a warning on day t at window m
    and cut c when EVI_t >= c and x_t is above the mean of x over the 7 days up to t. The case to catch
    on day s: the mean of x over the next 7 days above (1 + rise) times its mean over the 7 up to s. Each
    day t the window (7..30) and cut (0.01..0.50) that maximise sensitivity + specificity - 1 over the
    days s whose case is known (s + 7 <= t) give its warning; the first of them, 7 and 0.01 (the
    package's start), while none is known."""
    x = level.to_numpy(dtype=float)
    series = pd.Series(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.array([series.rolling(m).std().to_numpy() for m in EVI_WINDOWS])
        evi = np.nan_to_num((deviation[:, 1:] - deviation[:, :-1]) / deviation[:, :-1], nan=0.0)
    evi = np.concatenate([np.zeros((len(EVI_WINDOWS), 1)), evi], axis=1)
    week_mean = series.rolling(7).mean()
    climbing = (series > week_mean).to_numpy()
    tests = (evi[:, None, :] >= EVI_CUTS[None, :, None]) & climbing  # window x cut x day
    ahead = week_mean.shift(-7).to_numpy()
    known = np.isfinite(week_mean.to_numpy()) & np.isfinite(ahead)
    case = known & (week_mean.to_numpy() * (1 + rise) <= ahead)
    calm = known & ~case
    found = np.cumsum(tests & case, axis=2) / np.maximum(np.cumsum(case), 1)
    cleared = np.cumsum(~tests & calm, axis=2) / np.maximum(np.cumsum(calm), 1)
    youden = (found + cleared - 1).reshape(-1, len(x))  # up to each day s, over the days up to s
    days = np.arange(len(x))
    best = np.argmax(youden[:, np.clip(days - 7, 0, None)], axis=0)  # what was known on day t: the cases up to t - 7
    return tests.reshape(-1, len(x))[best, days]


def window_peaks(probability: pd.DataFrame, surges: pd.DataFrame, definition: SurgeDefinition) -> np.ndarray:
    """Per episode, the highest probability issued from `window_days` before its onset up to it: the
    episode is caught at every level up to that (NaN when none was issued)."""
    window = pd.Timedelta(days=definition.window_days)
    return np.array(
        [
            probability.loc[onset - window : onset, region].max() if region in probability else np.nan
            for region, onset in zip(surges["region"], surges["onset"], strict=True)
        ],
        dtype=float,
    )


def chosen_level(peaks: np.ndarray, target: float = RECALL_TARGET, min_episodes: int = MIN_EPISODES) -> float | None:
    """The highest of LEVELS at which at least `target` of the episodes were caught (each episode's peak
    probability in its window at or above it); None with fewer than `min_episodes` episodes with a peak."""
    peaks = peaks[~np.isnan(peaks)]
    if len(peaks) < min_episodes:
        return None
    recall = (peaks[None, :] >= LEVELS[:, None]).mean(axis=1)
    return float(LEVELS[recall >= target].max()) if (recall >= target).any() else float(LEVELS[0])


@dataclass(frozen=True)
class Level:
    """A horizon's warning level chosen on a backtest, or kept from the version before it (`backtest_level`),
    and what it did there."""

    level: float | None  # None: too few episodes to choose on and no level before (chosen_level), so no warning
    # the backtest's episodes with a probability issued in their window: those it was chosen on, unless kept
    episodes: int
    # the share of them warned of in their window at it (chosen: RECALL_TARGET or more, unless even LEVELS[0]
    # falls short); None without any
    recall: float | None
    warned_share: float | None  # the share of the backtest's probabilities (region x origin day) at or above it
    kept: bool = False  # the level before, kept as the backtest held too few episodes to choose on


def backtest_level(
    probability: pd.DataFrame,
    surges: pd.DataFrame,
    definition: SurgeDefinition,
    min_episodes: int = MIN_EPISODES,
    before: float | None = None,
) -> Level:
    """The level of one horizon's backtest probabilities (origin days x regions), chosen on every episode
    with a probability in its window (`chosen_level`); where they are too few, the level `before` (the
    set's champion's), so that a quiet spell, whose backtest holds few surges, does not silence the warning
    before the next one; with the recall and the share warned at it."""
    peaks = window_peaks(probability, surges, definition)
    peaks = peaks[~np.isnan(peaks)]
    level = chosen_level(peaks, min_episodes=min_episodes)
    kept = level is None and before is not None
    level = before if kept else level
    if level is None:
        return Level(None, len(peaks), None, None)
    issued = probability.to_numpy(dtype=float)
    issued = issued[~np.isnan(issued)]
    recall = float(np.mean(peaks >= level)) if len(peaks) else None
    warned_share = float(np.mean(issued >= level)) if len(issued) else None
    return Level(level, len(peaks), recall, warned_share, kept)


def levels_by_period(
    probability: pd.DataFrame,
    surges: pd.DataFrame,
    periods: pd.PeriodIndex,
    definition: SurgeDefinition,
    lookback: pd.Timedelta,
) -> dict[pd.Period, float | None]:
    """Per period, the level chosen on the episodes whose onset fell in the `lookback` before it (so on
    warnings issued before it too), as a retrain at its start chooses on the episodes of its backtest's
    folds with quantiles (`backtest_level`); where they are fewer than MIN_EPISODES, the period before's
    (None until a period has had enough)."""
    peaks = window_peaks(probability, surges, definition)
    onset = surges["onset"]
    chosen, before = {}, None
    for period in periods:
        level = chosen_level(peaks[onset.between(period.start_time - lookback, period.start_time, "left").to_numpy()])
        chosen[period] = before = before if level is None else level
    return chosen


def warnings(probability: pd.DataFrame, chosen: dict[pd.Period, float | None]) -> pd.DataFrame:
    """Per region and origin day, whether the probability reached the level of the day's period (no
    warning in a period without a level)."""
    period = probability.index.to_period(next(iter(chosen)).freq)
    level = pd.Series(period.map(lambda p: chosen.get(p)), index=probability.index, dtype=float)
    return probability.ge(level, axis=0)


def alerts(warned: pd.DataFrame, definition: SurgeDefinition) -> pd.DataFrame:
    """What the alert channel sends: per region, a warning day with no alert in the `window_days` before."""
    hold = pd.Timedelta(days=definition.window_days)
    rows = []
    for region in warned.columns:
        last = None
        for day in warned.index[warned[region].fillna(False).to_numpy(dtype=bool)]:
            if last is None or day - last >= hold:
                rows.append((region, day))
                last = day
    return pd.DataFrame(rows, columns=["region", "day"])


def caught_by(surges: pd.DataFrame, day: pd.Timestamp, window: pd.Timedelta) -> bool:
    """Whether an alert on this day is true: from `window` before one of these episodes' onset to its last day."""
    return bool(((surges["onset"] - window <= day) & (day <= surges["end"])).any())


def episode_leads(warned: pd.DataFrame, surges: pd.DataFrame, definition: SurgeDefinition) -> np.ndarray:
    """Per episode, the days from the first warning (region x origin day) from `window_days` before its
    onset up to it, to the onset (0: on the onset); NaN when none was on: the episode was missed."""
    window = pd.Timedelta(days=definition.window_days)
    leads = []
    for region, onset in zip(surges["region"], surges["onset"], strict=True):
        on = warned.loc[onset - window : onset, region] if region in warned else pd.Series(dtype=bool)
        days = on.index[on.fillna(False).to_numpy(dtype=bool)]
        leads.append((onset - days[0]).days if len(days) else np.nan)
    return np.array(leads, dtype=float)


def scores(
    warned: pd.DataFrame,
    issued: pd.DataFrame,
    surges: pd.DataFrame,
    span: tuple[pd.Timestamp, pd.Timestamp],
    definition: SurgeDefinition,
) -> dict:
    """Recall, precision, false alarms per region-month and the median lead (days) of warnings (region x
    origin day) over the origin days of `span`; `issued` marks the region-days with a forecast. Beside
    them, the share of the region-days warned, and the recall by chance: the share of the region-days
    with a warning from `window_days` before up to them, the recall a surge whose onset fell on any day
    would see."""
    start, end = span
    window = pd.Timedelta(days=definition.window_days)
    scored = surges[surges["onset"].between(start, end)]
    leads = episode_leads(warned, scored, definition)
    leads = leads[~np.isnan(leads)]
    sent = alerts(warned, definition)
    sent = sent[sent["day"].between(start, end)]
    true = [caught_by(surges[surges["region"] == region], day, window) for region, day in sent.itertuples(index=False)]
    in_span = issued.loc[start:end]
    region_months = int(in_span.groupby(in_span.index.to_period("M")).any().to_numpy().sum())
    false_alerts = len(sent) - int(np.sum(true))
    on = warned.fillna(False).astype(float)
    in_window = on.rolling(window + pd.Timedelta(days=1)).max().loc[start:end]  # a warning from `window` before
    return {
        "warned_share": float(on.loc[start:end].to_numpy()[in_span.to_numpy()].mean()),
        "chance_recall": float(in_window.to_numpy()[in_span.to_numpy()].mean()),
        "episodes": len(scored),
        "caught": len(leads),
        "recall": len(leads) / len(scored) if len(scored) else np.nan,
        "alerts": len(sent),
        "precision": float(np.mean(true)) if len(sent) else np.nan,
        "false_alarms": false_alerts,
        "region_months": region_months,
        "false_per_region_month": false_alerts / region_months if region_months else np.nan,
        "median_lead_days": float(np.median(leads)) if len(leads) else np.nan,
    }
