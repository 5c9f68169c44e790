"""A region set's model fitted on plain frames: the rolling-origin backtest beside the baselines (and,
when the model reads the weather, the model without it on the same folds) with its quantile forecasts
scored (cother_ml.backtest_intervals) and the surge warning's level chosen on it (cother_ml.surge), then
the refit of each horizon on every labelled day, and the forecasts from each region's last report with
their quantiles and surge warnings.
No database, no registry: cother_ml.retrain reads the mart and keeps what this returns."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from cother_ml import backtest_intervals, intervals, promotion, publication, surge
from cother_ml.backtest import BacktestConfig, backtest, folds, scores, summary
from cother_ml.features import has_label, labelled, upcoming
from cother_ml.forecaster import Forecaster
from cother_ml.grain import DAILY, Grain
from cother_ml.publication import Publication
from cother_ml.weather_effect import compare

NO_WEATHER = "not measured: the model reads no weather (COTHER_WEATHER_FEATURES=false)"
NO_WEATHER_SOURCE = "not measured: a weekly set runs without weather (no weather source reaches its weeks)"


@dataclass(frozen=True)
class TrainingConfig:
    grain: Grain = DAILY  # the region set's cadence, horizons, features, naive forecasters and fitting
    weather: bool = True  # whether the model reads the weather features (where its grain has them)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    surge_min_episodes: int = surge.MIN_EPISODES  # the fewest backtest surges a warning level is chosen on
    # per horizon, the set's champion's level: kept where the backtest holds fewer surges (surge.backtest_level)
    surge_levels_before: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Fitted:
    config: TrainingConfig
    examples: dict[int, pd.DataFrame]  # per horizon
    rows: pd.DataFrame  # the labelled examples of the first horizon: the training slice
    backtest: pd.DataFrame  # out-of-sample forecasts of every forecaster, per fold, with the WIS (backtest_intervals)
    fold_scores: pd.DataFrame
    summary: pd.DataFrame  # the mean of each metric over the folds, per horizon and forecaster
    forecasters: dict[int, Forecaster]  # refitted on every labelled day
    # the backtest forecasts of the model without the weather features, on the same folds (None when the
    # model reads no weather): the model column only, no baselines
    without_weather: pd.DataFrame | None = None

    def latest(self, horizon: int, folds: int) -> pd.DataFrame:
        """The backtest forecasts of a horizon on the last `folds` folds."""
        last = self.config.backtest.folds - folds
        return self.backtest[(self.backtest["horizon"] == horizon) & (self.backtest["fold"] > last)]

    @cached_property
    def published(self) -> dict[int, dict]:
        """Per horizon, the forecaster its forecasts are published from (promotion.published): the model,
        or the naive forecaster that beat it on the latest backtest folds."""
        latest = promotion.LATEST_FOLDS
        return {horizon: promotion.published(self.latest(horizon, latest)) for horizon in self.forecasters}

    @cached_property
    def trained_regions(self) -> list[str]:
        """The regions the refitted models learnt (cother_ml.publication.trained_regions)."""
        return publication.trained_regions(self.rows)

    @cached_property
    def publication(self) -> Publication:
        """The forecaster per horizon and region that its forecasts are made with and that the registered
        version answers with (cother_ml.publication.Publication, in its model_config)."""
        return Publication.of_backtest(self.published, self.trained_regions)

    def forecasts(self) -> pd.DataFrame:
        """From each region's last report, the forecast of every horizon: region, origin_date,
        target_date, horizon, forecast, the forecaster that made it (self.publication: the published one;
        the best naive forecaster for a region the models did not learn) and whether the region was learnt."""
        parts = []
        for horizon, forecaster in self.forecasters.items():
            ahead = upcoming(self.examples[horizon])
            missing = sorted(set(self.examples[horizon]["region"]) - set(ahead["region"]))
            if missing:  # named and skipped: no count on the origin day to forecast from
                print(f"no forecast {horizon} day(s) ahead for regions {missing}: their last report has no count")
            names, values = self.publication.forecast(ahead, horizon, forecaster.predict)
            parts.append(
                ahead[["region", "origin_date", "target_date", "horizon"]].assign(
                    forecast=values, forecaster=names, region_in_training=self.publication.in_training(ahead["region"])
                )
            )
        return pd.concat(parts, ignore_index=True)

    def quantiles(self, forecasts: pd.DataFrame) -> np.ndarray:
        """The quantiles at the hubs' levels of these forecasts (self.forecasts()), one column per level,
        by their forecaster (cother_ml.publication.quantiles), calibrated on the backtest."""
        return publication.quantiles(self.backtest, forecasts, forecasts["forecaster"])

    @cached_property
    def counts(self) -> pd.DataFrame:
        """Each region's reported counts (region, date, count) in the examples (cother_ml.surge.counts_of)."""
        return surge.counts_of(self.examples[self.config.grain.first_horizon])

    @property
    def surge_definition(self) -> surge.SurgeDefinition:
        return surge.DEFINITIONS[self.config.grain.cadence]

    @cached_property
    def surge_levels(self) -> dict[int, surge.Level]:
        """Per horizon, the surge warning's level chosen on the backtest (cother_ml.surge.backtest_level),
        on the probabilities of the backtest forecasts of the forecaster the horizon publishes, with the
        quantiles its forecasts get (cother_ml.publication.intervals_of), each fold's calibrated on the
        folds before it: the level is chosen on probabilities of the kind it is compared with."""
        definition = self.surge_definition
        found = surge.episodes(surge.levels(self.counts, definition), definition)
        chosen = {}
        for horizon, choice in self.published.items():
            rows = self.backtest[self.backtest["horizon"] == horizon]
            name = choice["forecaster"]
            quantiles = intervals.backtest_quantiles(rows, name, publication.intervals_of(name))
            probability = surge.surge_probability(rows, quantiles, self.counts, definition)
            by_origin = surge.by_origin(rows, probability)
            before = self.config.surge_levels_before.get(horizon)
            chosen[horizon] = surge.backtest_level(by_origin, found, definition, self.config.surge_min_episodes, before)
        return chosen

    def surge_warnings(self, forecasts: pd.DataFrame, quantiles: np.ndarray) -> pd.DataFrame:
        """Per forecast (self.forecasts(), and its quantiles), on its index: the count its target day would
        reach at a surge's pace (`threshold`, cother_ml.surge.thresholds), the probability of a count above
        it read off its quantiles (NaN without them), its horizon's level (NaN where none was chosen) and
        whether the probability reaches the level (`warned`)."""
        threshold = surge.thresholds(forecasts, self.counts, self.surge_definition)
        probability = surge.probability_above(quantiles, threshold)
        chosen = {horizon: level.level for horizon, level in self.surge_levels.items()}
        level = forecasts["horizon"].map(chosen).to_numpy(dtype=float)
        return pd.DataFrame(
            {"threshold": threshold, "probability": probability, "level": level, "warned": probability >= level},
            index=forecasts.index,
        )

    @cached_property
    def interval_scores(self) -> list[dict]:
        """Per horizon, the backtest's quantile forecasts scored: WIS and parts, coverage, relative WIS."""
        return backtest_intervals.by_horizon(self.backtest)

    @cached_property
    def calibration(self) -> pd.DataFrame:
        """What the registered model calibrates its quantiles on: per horizon, the backtest rows of the
        last intervals.RECENT_DAYS (all that intervals' methods read from a forecast made after the
        backtest), with the model's and persistence's forecasts."""
        columns = ["region", "origin_date", "target_date", "horizon", "actual", "model", "persistence"]
        rows = self.backtest.dropna(subset=["actual"])[columns]
        return pd.concat([intervals.recent(group) for _, group in rows.groupby("horizon")], ignore_index=True)

    @cached_property
    def weather_effect(self) -> list[dict] | str:
        """Per horizon, the model with the weather against the model without it on the same backtest
        days (cother_ml.weather_effect); a sentence when the model reads no weather."""
        if self.without_weather is None:
            return NO_WEATHER if self.config.grain.weather else NO_WEATHER_SOURCE
        return compare(self.backtest, self.without_weather)

    def feature_importance(self) -> dict[str, dict[str, int]]:
        return {f"h{horizon}": model.feature_importance() for horizon, model in self.forecasters.items()}


def refit(
    examples: dict[int, pd.DataFrame], forecaster: Callable[[int], Forecaster], grain: Grain, workers: int
) -> dict[int, Forecaster]:
    """The forecaster of every horizon fitted on all its labelled rows, `workers` at once as the backtest's
    folds are (each fit single-threaded and deterministic)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        fitted = pool.map(
            lambda horizon: forecaster(horizon).fit(examples[horizon], has_label(examples[horizon], grain)), examples
        )
        return dict(zip(examples, fitted, strict=True))


def fit(examples: dict[int, pd.DataFrame], regions: list[str], config: TrainingConfig = TrainingConfig()) -> Fitted:
    """Backtest and refit on the examples of every horizon (cother_ml.features.examples_by_horizon);
    `regions` are all the regions the model may meet (the region set's), which fix the codes of the
    region feature."""
    grain = config.grain
    first = examples[grain.first_horizon]
    usable = has_label(first, grain)
    if not usable.any():
        raise ValueError("no labelled rows: less history than the features read")
    features = grain.feature_columns(config.weather)

    def forecaster(horizon: int, features: list[str] = features) -> Forecaster:
        return Forecaster(horizon, features, regions, grain.forecaster, grain.anchoring)

    windows = folds(first.loc[usable, "target_date"], config.backtest)
    forecasts = backtest(examples, forecaster, grain, config.backtest, windows)
    without_weather = None
    if config.weather and grain.weather:  # the weather question: the same folds without the weather, no baselines
        plain = grain.feature_columns(weather=False)
        without_weather = backtest(
            examples, lambda h: forecaster(h, plain), grain, config.backtest, windows, baselines=False
        )
    forecasts = backtest_intervals.scored(forecasts)
    fold_scores = scores(forecasts, grain)
    forecasters = refit(examples, forecaster, grain, config.backtest.workers)
    return Fitted(
        config=config,
        examples=examples,
        rows=labelled(first, grain),  # made after the refit: it and the boosters' inputs are never in memory together
        backtest=forecasts,
        fold_scores=fold_scores,
        summary=summary(fold_scores),
        forecasters=forecasters,
        without_weather=without_weather,
    )
