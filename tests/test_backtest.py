"""The rolling-origin backtest on the bundled Seoul period: at least 8 folds per horizon, each fitted
only on targets known at its first origin, every forecaster scored on the same days."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import empty_warehouse, publish_seoul

from cother.ingest.sources.sample import bundled_period
from cother.transform import dbt
from cother_core.regions import all_regions
from cother_ml.backtest import BacktestConfig, backtest, folds, scores
from cother_ml.features import WEATHER_FEATURES, examples_by_horizon, labelled
from cother_ml.fitting import NO_WEATHER, TrainingConfig, fit
from cother_ml.forecaster import Forecaster
from cother_ml.grain import DAILY
from cother_ml.storage import load_mart

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def frames(postgres_server):
    empty_warehouse()
    publish_seoul(*bundled_period())
    assert dbt.build()["success"]
    mart = load_mart(["seoul"])
    return examples_by_horizon(mart, DAILY)


def test_each_fold_is_fitted_only_on_targets_known_at_its_first_origin(frames):
    fitted_until = []

    class Recording(Forecaster):
        def fit(self, examples: pd.DataFrame, selected: pd.Series) -> Forecaster:
            fitted_until.append((self.horizon, examples.loc[selected, "target_date"].max()))
            return super().fit(examples, selected)

    features = DAILY.feature_columns(weather=True)
    one_thread = BacktestConfig(workers=1)
    forecasts = backtest(frames, lambda horizon: Recording(horizon, features, list(all_regions())), DAILY, one_thread)
    windows = folds(labelled(frames[1], DAILY)["target_date"])
    count = BacktestConfig().folds
    assert len(windows) == count >= 8
    assert sorted(forecasts.groupby("horizon")["fold"].nunique().items()) == [(1, count), (7, count)]
    for (horizon, last_target), fold in zip(fitted_until, windows * len(DAILY.horizons), strict=True):
        origin = fold.start - pd.Timedelta(days=1)  # the evening before the fold's first day
        assert last_target <= origin - pd.Timedelta(days=horizon - 1)
    first_day = forecasts.groupby("fold")["target_date"].min()
    assert (first_day.diff().dropna() > pd.Timedelta(0)).all()  # the folds move forward in time


def test_every_forecaster_is_scored_on_the_same_days(frames):
    features = DAILY.feature_columns(weather=True)
    forecasts = backtest(frames, lambda horizon: Forecaster(horizon, features, list(all_regions())), DAILY)
    fold_scores = scores(forecasts, DAILY)
    assert set(fold_scores["forecaster"]) == set(DAILY.forecasters)
    naive = fold_scores[fold_scores["forecaster"] == "seasonal_naive"]
    assert (naive["mase"] == 1).all()  # MASE is against seasonal naive on the same days
    days = fold_scores[fold_scores["forecaster"] != "project_2021"].groupby(["horizon", "fold"])["days"].nunique()
    assert (days == 1).all()
    # each fold's MAE is the mean absolute error of its own forecasts
    for name in ("model", "persistence"):
        by_hand = (forecasts["actual"] - forecasts[name]).abs().groupby([forecasts["horizon"], forecasts["fold"]])
        scored = fold_scores[fold_scores["forecaster"] == name].set_index(["horizon", "fold"])["mae"]
        assert scored.to_dict() == pytest.approx(by_hand.mean().to_dict()), name


def test_the_folds_fitted_on_two_threads_forecast_as_one_thread_does(frames):
    features = DAILY.feature_columns(weather=True)
    one, two = (
        backtest(
            frames,
            lambda horizon: Forecaster(horizon, features, list(all_regions())),
            DAILY,
            BacktestConfig(workers=workers),
        )
        for workers in (1, 2)
    )
    pd.testing.assert_frame_equal(one, two)


def test_a_horizon_whose_model_loses_its_latest_folds_publishes_the_best_naive_forecast(frames):
    """In the demo the 7-day model lost to the naive forecasters (62.1 against 52.8 MAE), yet its
    forecasts were published as the model's."""
    from dataclasses import replace

    from cother_ml.baselines import NAIVE
    from cother_ml.features import upcoming

    fitted = fit(frames, list(all_regions()))
    week = fitted.backtest["horizon"] == 7
    losing = replace(fitted, backtest=fitted.backtest.assign(model=fitted.backtest["model"].where(~week, 1e6)))
    choice = losing.published
    name = choice[7]["forecaster"]
    assert name in NAIVE and choice[7]["best_naive"] == name
    assert choice[7]["mae_model"] > choice[7]["mae_best_naive"]
    assert choice[1] == fitted.published[1]  # the other horizon as it was
    forecasts = losing.forecasts().set_index("horizon")
    assert forecasts.loc[7, "forecaster"] == name
    assert forecasts.loc[7, "forecast"] == NAIVE[name](upcoming(frames[7])).iloc[0]
    assert forecasts.loc[1, "forecaster"] == fitted.published[1]["forecaster"]


def test_a_region_with_too_few_days_in_the_slice_is_forecast_by_the_best_naive_forecaster_and_marked(frames, tmp_path):
    """Busan, with only Seoul's last 20 days as its history, is not a region the model learnt: the
    retrain's forecasts and the registered model both answer for it with each horizon's best naive
    forecaster, and say so; Seoul keeps the published forecaster. Both ask the one Publication, which
    the registered model reads back from its model_config (as JSON, as MLflow keeps it)."""
    import json

    from cother_ml import registry
    from cother_ml.baselines import NAIVE
    from cother_ml.features import upcoming
    from cother_ml.publication import MIN_TRAINING_DAYS
    from cother_ml.pyfunc_model import CasesForecastModel, output_column

    def with_busan(frame: pd.DataFrame) -> pd.DataFrame:
        recent = frame[frame["target_date"] > frame["target_date"].max() - pd.Timedelta(days=20)]
        return pd.concat([frame, recent.assign(region="busan")], ignore_index=True)

    fitted = fit({horizon: with_busan(frame) for horizon, frame in frames.items()}, list(all_regions()))
    assert (
        fitted.trained_regions == ["seoul"]
        and labelled(with_busan(frames[1]), DAILY)["region"].eq("busan").sum() < MIN_TRAINING_DAYS
    )
    forecasts = fitted.forecasts().set_index(["region", "horizon"])
    boosters = {}
    for horizon, forecaster in fitted.forecasters.items():
        boosters[f"booster_h{horizon}"] = str(tmp_path / f"booster_h{horizon}.txt")
        forecaster.model.booster_.save_model(boosters[f"booster_h{horizon}"])
    config = json.loads(json.dumps(registry.model_config(fitted.forecasters, fitted.publication, DAILY)))
    served = CasesForecastModel().load(boosters, config)
    assert served.publication == fitted.publication
    for horizon, choice in fitted.published.items():
        ahead = upcoming(fitted.examples[horizon]).set_index("region", drop=False)
        busan, seoul = forecasts.loc[("busan", horizon)], forecasts.loc[("seoul", horizon)]
        assert (busan["forecaster"], bool(busan["region_in_training"])) == (choice["best_naive"], False)
        assert busan["forecast"] == NAIVE[choice["best_naive"]](ahead.loc[["busan"]]).iloc[0]
        assert (seoul["forecaster"], bool(seoul["region_in_training"])) == (choice["forecaster"], True)
        answered = served.predict(None, ahead.loc[["busan", "seoul"]])[output_column(horizon)]
        assert answered.tolist() == pytest.approx([busan["forecast"], seoul["forecast"]])
        names = served.publication.names(ahead.loc[["busan", "seoul"], "region"], horizon)
        assert names.tolist() == [busan["forecaster"], seoul["forecaster"]]


def test_with_the_weather_off_no_model_without_it_is_fitted_and_the_output_says_so(frames):
    fitted = fit(frames, list(all_regions()), TrainingConfig(weather=False))
    assert fitted.without_weather is None and fitted.weather_effect == NO_WEATHER
    assert not set(WEATHER_FEATURES) & set(fitted.forecasters[1].features)


def test_the_model_without_the_weather_is_backtested_on_the_same_rows_without_the_baselines(frames):
    plain, next_day = DAILY.feature_columns(weather=False), {1: frames[1]}
    forecasts = backtest(
        next_day, lambda horizon: Forecaster(horizon, plain, list(all_regions())), DAILY, baselines=False
    )
    with_baselines = backtest(next_day, lambda horizon: Forecaster(horizon, plain, list(all_regions())), DAILY)
    assert list(forecasts.columns) == ["region", "origin_date", "target_date", "horizon", "actual", "fold", "model"]
    pd.testing.assert_frame_equal(forecasts, with_baselines[forecasts.columns])
