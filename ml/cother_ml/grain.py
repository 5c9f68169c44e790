"""What a region set's model reads and forecasts, by the set's cadence (config/regions: `daily` or
`weekly`): its features mart, the days between two rows, its horizons (in days: what ml.forecasts
records), its features, its anchor and its naive forecasters. Daily and weekly sets go through one code
path (features, backtest, fit, promotion, registry, forecasts); these are its values.

- daily: a row per day of marts.fct_training_features, horizons 1 and 7 days; persistence, seasonal
  naive (the same weekday) and the 7-day mean; the model may read the weather.
- weekly: a row per Sunday of marts.fct_training_features_weekly (the week's count), horizons 1 to 4
  weeks as the forecast hubs use; persistence (last week) and the mean of the last 4 weeks; no weather
  (the bundled weather ends in 2023, WHO's weekly file goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cother_core.regions import CADENCE_DAYS, STANDARD_HORIZONS, get_set
from cother_ml import baselines, features
from cother_ml.forecaster import PARAMS, ForecasterConfig
from cother_ml.target import ANCHORING, WEEKLY_ANCHORING, Anchoring


@dataclass(frozen=True)
class Grain:
    cadence: str
    mart: str  # the features mart a row of which is the period after a forecast origin
    suite: str  # the training slice's expectation suite (cother_ml.slice_gate)
    step_days: int  # the days between two rows of a region
    horizons: tuple[int, ...]  # in days
    case_features: tuple[str, ...]
    calendar_features: tuple[str, ...]
    weather: bool  # whether a model of this grain may read the weather features
    naive: tuple[str, ...]  # its naive forecasters (cother_ml.baselines.NAIVE)
    scale: str  # the naive forecaster MASE is against
    anchoring: Anchoring
    forecaster: ForecasterConfig  # how its model is fitted
    anchor_inputs: tuple[str, ...]  # the mart columns its anchors read
    lookback_rows: int  # the rows before it a row's features read (its oldest lag)
    description: str  # what the model forecasts and against which anchor, for its model card

    @property
    def first_horizon(self) -> int:
        """The horizon the promotion gate and the training slice are judged on."""
        return self.horizons[0]

    @property
    def lookback_days(self) -> int:
        """The days before it a row's features read."""
        return self.lookback_rows * self.step_days

    @property
    def forecasters(self) -> list[str]:
        """The forecasters a backtest scores: the model, the naive ones, the 2021 project where weather is."""
        return ["model", *self.naive, *(["project_2021"] if self.weather else [])]

    @property
    def input_columns(self) -> list[str]:
        """What the registered model reads besides the features: the anchors' and naive forecasters' inputs."""
        naive = [baselines.NAIVE_INPUTS[name](horizon) for name in self.naive for horizon in self.horizons]
        calendar = ["day_of_week"] if "day_of_week" in self.calendar_features else []
        return list(dict.fromkeys([*calendar, *self.anchor_inputs, *naive]))

    def feature_columns(self, weather: bool) -> list[str]:
        """The model's features: the region, the case and calendar features, and the weather if it reads it."""
        weather_features = features.WEATHER_FEATURES if weather and self.weather else []
        return ["region", *self.case_features, *self.calendar_features, *weather_features]

    def label(self, horizon: int) -> str:
        """A horizon in words: "next-day", "7-day", "1-week", "4-week"."""
        if self.step_days == 1:
            return "next-day" if horizon == 1 else f"{horizon}-day"
        return f"{horizon // self.step_days}-week"


DAILY = Grain(
    cadence="daily",
    mart="marts.fct_training_features",
    suite="fct_training_features",
    step_days=CADENCE_DAYS["daily"],
    horizons=tuple(steps * CADENCE_DAYS["daily"] for steps in STANDARD_HORIZONS["daily"]),
    case_features=tuple(features.CASE_FEATURES),
    calendar_features=tuple(features.CALENDAR_FEATURES),
    weather=True,
    naive=("persistence", "seasonal_naive", "mean_7d"),
    scale="seasonal_naive",
    anchoring=ANCHORING,
    forecaster=ForecasterConfig(),
    anchor_inputs=("cases_mean_7d", "cases_growth_7d"),
    lookback_rows=21,  # cases_lag_21, the oldest weekly mean
    description=(
        "Forecasts of daily new COVID-19 cases per region, 1 and 7 days ahead: one LightGBM per horizon over"
        " all regions (the region is a categorical feature), predicting the log change against an anchor:"
        " next day, the mean count of the 7 days up to the origin (cases_mean_7d); 7 days ahead, the origin's"
        f" count grown by {ANCHORING.trend_share[7]:.0%} of the last week's log growth (a damped trend), and the"
        f" forecast keeps {ANCHORING.change_kept[7]:.0%} of the model's predicted change."
        " Input: rows of marts.fct_training_features."
    ),
)
WEEKLY = Grain(
    cadence="weekly",
    mart="marts.fct_training_features_weekly",
    suite="fct_training_features_weekly",
    step_days=CADENCE_DAYS["weekly"],
    horizons=tuple(steps * CADENCE_DAYS["weekly"] for steps in STANDARD_HORIZONS["weekly"]),
    case_features=tuple(features.WEEKLY_CASE_FEATURES),
    calendar_features=("week_of_year",),
    weather=False,
    naive=("persistence", "mean_4w"),
    scale="persistence",
    anchoring=WEEKLY_ANCHORING,
    # 2 to 4 weeks ahead a row weighs the square root of its anchor, chosen on the quarters 2021Q1..2021Q4
    # (before the benchmark's); 1 week ahead every region alike: weighed, it lost the benchmark's quarters to
    # one forecast, China's week of 2023-01-01 (docs/model.md, "Weekly sets")
    # Each tree is grown on half the training weeks, drawn anew for each tree (bagging): on 2021Q1..2021Q4 as
    # good or better at every horizon, and a fit takes about 60 % of the time (the l1 objective computes its
    # leaf values on the drawn weeks only), which a weekly run's 36 fits feel.
    forecaster=ForecasterConfig(
        level_weight={14: 0.5, 21: 0.5, 28: 0.5}, params={**PARAMS, "subsample": 0.5, "subsample_freq": 1}
    ),
    anchor_inputs=("cases_mean_4w",),
    lookback_rows=8,  # cases_lag_8
    description=(
        "Forecasts of weekly new COVID-19 cases per region (weeks ending on Sunday, as WHO's weekly file),"
        " 1 to 4 weeks ahead: one LightGBM per horizon over all regions (the region is a categorical"
        " feature), predicting the log change against the mean count of the 4 weeks up to the origin"
        " (cases_mean_4w); 2 to 4 weeks ahead each training week weighs the square root of that mean, so"
        " the large regions count more, as in a pooled MAE; 1 week ahead the forecast is held near the last"
        " week's count after a week of extreme growth (beyond e-fold, the median of the model's forecast, the"
        " last week and that mean; its log change over the last week at most 70 % of that week's own)."
        " No weather: the set runs without it."
        " Input: rows of marts.fct_training_features_weekly."
    ),
)
GRAINS = {grain.cadence: grain for grain in (DAILY, WEEKLY)}


def grain_of(region_set: str) -> Grain:
    """The grain of a region set, with the set's own horizons (config/regions/<set>.yml)."""
    configured = get_set(region_set)
    grain = GRAINS[configured.cadence]
    return grain if configured.horizon_days == grain.horizons else replace(grain, horizons=configured.horizon_days)
