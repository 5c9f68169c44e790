"""Retraining into the real MLflow registry: the promotion gate, promotion and rollback by hand, the
lineage and artifacts of a version, a consumer of @champion, and `mlflow models serve` over HTTP.

The module registers under a model name of its own, so other tests' versions do not interfere."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import urllib.request
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import empty_warehouse, publish_seoul, registered_model, row_count

from cother.ingest.sources.sample import bundled_period
from cother.orchestration.airflow_runner import free_port, wait_for
from cother.transform import dbt
from cother_core.database import connect, mlflow_url
from cother_ml import aliases, registry, surge
from cother_ml.grain import DAILY
from cother_ml.pyfunc_model import output_column
from cother_ml.retrain import retrain
from cother_ml.storage import load_mart

pytestmark = pytest.mark.integration

MODEL_NAME = "cother_test_registry"


@pytest.fixture(scope="module")
def model_name(postgres_server):
    with registered_model(MODEL_NAME) as name:
        yield name


@pytest.fixture(scope="module")
def first(model_name):
    """The bundled Seoul period published and built, and a first retrain. Seoul's backtest holds one
    surge, fewer than the 10 a surge warning's level is chosen on by default (COTHER_SURGE_MIN_EPISODES):
    this retrain chooses it on that one, so that its level is written and warned from."""
    empty_warehouse()
    publish_seoul(*bundled_period())
    assert dbt.build()["success"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COTHER_SURGE_MIN_EPISODES", "1")
        return retrain("korea", ["seoul"], {"dbt_invocation_id": "test"}, moved_by="test:first")


def version_tags(version: str) -> dict:
    return registry.client().get_model_version(MODEL_NAME, version).tags


def test_the_first_version_beats_the_baselines_and_becomes_champion(first):
    assert first["promoted"] and first["alias"] == "champion", first["decision"]
    assert registry.champion_version(MODEL_NAME) == first["version"]
    model, best_naive = {}, float("inf")
    for row in first["backtest"]:
        if row["horizon"] == 1:
            model[row["forecaster"]] = row["mae"]
    best_naive = min(model["persistence"], model["seasonal_naive"], model["mean_7d"])
    assert model["model"] < best_naive


def test_a_version_carries_its_lineage_and_artifacts(first):
    import mlflow

    tags = version_tags(first["version"])
    assert tags["training_start"] == "2020-10-27" and tags["training_end"] == "2021-10-05"
    assert tags["regions"] == "seoul" and tags["dbt_invocation_id"] == "test"
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select reporting_cadence from marts.dim_region where region = 'seoul'")
        [[habit]] = cur.fetchall()
    assert habit == "daily" and tags["reporting_cadence"] == "daily 1"  # Seoul's habit when it was trained
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select batch_id, validation_id from raw.batch_log order by batch_id")
        published = cur.fetchall()
    assert tags["batch_ids"] == ",".join(batch for batch, _ in published)
    assert tags["gx_validation_ids"] == ",".join(sorted(validation for _, validation in published))
    assert len(tags["training_data_sha256"]) == 64 and tags["git_commit"]
    run = registry.client().get_model_version(MODEL_NAME, first["version"]).run_id
    files = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run)}
    nested = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run, "backtest")}
    assert {"model_card.md", "feature_importance.png", "backtest"} <= files
    assert nested == {"backtest/forecasts.csv", "backtest/scores.csv", "backtest/actual_vs_forecast.png"}
    card = mlflow.artifacts.load_text(f"runs:/{run}/model_card.md")
    assert "Rolling-origin backtest" in card and "project_2021" in card and first["decision"] in card
    info = mlflow.models.get_model_info(f"models:/{MODEL_NAME}/{first['version']}")
    assert info.signature is not None and info.saved_input_example_info is not None


def test_a_retrain_answers_the_weather_question_in_its_output_card_and_metrics(first):
    """The model without the weather features on the same folds: per horizon the MAE difference and the
    Diebold-Mariano test, in the retrain's output (JSON, no NaN), as MLflow metrics and in the card."""
    import mlflow
    from scipy.stats import t

    rows = first["weather_effect"]
    json.dumps(rows, allow_nan=False)
    assert [row["horizon"] for row in rows] == [1, 7]
    metrics = mlflow.get_run(first["run_id"]).data.metrics
    for row in rows:
        assert row["difference"] == pytest.approx(row["mae_with"] - row["mae_without"], abs=2e-3)
        assert row["days"] == 8 * 28 and row["reason"] is None, row  # 8 folds of 28 days, each forecast both ways
        # two-sided, from a Student t with days - 1 degrees of freedom (both figures rounded to 4 places)
        assert row["p_value"] == pytest.approx(2 * t.sf(abs(row["dm_statistic"]), row["days"] - 1), abs=2e-4)
        h = row["horizon"]
        assert metrics[f"h{h}_weather_mae_difference"] == pytest.approx(row["difference"])
        assert metrics[f"h{h}_weather_dm_statistic"] == pytest.approx(row["dm_statistic"])
        assert metrics[f"h{h}_weather_dm_p_value"] == pytest.approx(row["p_value"])
    card = mlflow.artifacts.load_text(f"runs:/{first['run_id']}/model_card.md")
    assert "## Does the weather help?" in card and "horizon 7: the weather" in card


# What drifts in Seoul's newest 28 days of the bundled period (September 2021) against the rest of its year,
# over the KL threshold of 0.5: the case counts' weekly growth (both weeks; Seoul is its set's only
# published region, so the set's growth is Seoul's) and its volatility, and the weather of September
# against the whole year's (temperatures, humidity, pressure). The day-to-day ratios, the calendar and the
# rain do not.
DRIFTED_IN_SEOUL = [
    "cases_growth_7d",
    "cases_growth_7d_previous",
    "cases_volatility_7d",
    "region_set_growth_7d",
    "region_set_growth_7d_previous",
    "temperature_mean_c_lag_1",
    "temperature_min_c_lag_1",
    "temperature_max_c_lag_1",
    "relative_humidity_mean_pct_lag_1",
    "pressure_msl_hpa_lag_1",
]


def test_a_version_carries_the_drift_of_its_training_slice(first):
    """The slice's newest 28 days against the rest of its window, per model feature: in the retrain's
    output (JSON, no NaN), as the version's tags, as drift.json on its run, and in the card's "Drift"."""
    import mlflow

    drift = first["drift"]
    json.dumps(drift, allow_nan=False)
    assert drift["measured"] and drift["newest_days"] == 28 and drift["threshold"] == 0.5
    assert drift["training_window"] == "2020-10-27..2021-09-07" and drift["newest_window"] == "2021-09-08..2021-10-05"
    assert [row["feature"] for row in drift["features"]] == DAILY.feature_columns(True)
    assert drift["drifted"] == [row["feature"] for row in drift["features"] if row["drifted"]] == DRIFTED_IN_SEOUL
    tags = version_tags(first["version"])
    assert tags["drifted_features"] == ",".join(DRIFTED_IN_SEOUL)
    assert tags["drift_validation_id"] == drift["validation_id"]
    assert json.loads(mlflow.artifacts.load_text(f"runs:/{first['run_id']}/drift.json")) == drift
    card = mlflow.artifacts.load_text(f"runs:/{first['run_id']}/model_card.md")
    assert "## Drift" in card and "The newest 28 days of the training slice (2021-09-08..2021-10-05)" in card
    for row in drift["features"]:
        divergence = "infinite" if row["kl_divergence"] is None else f"{row['kl_divergence']:.3f}"
        shown = f"| {row['feature']} | {divergence} |" if row["drifted"] else f"| {row['feature']} |"
        assert (shown in card) == row["drifted"], row
        if row["note"]:
            assert f"{row['feature']} ({row['note']})" in card
    assert "No feature drifted." not in card


def test_a_version_carries_its_quantile_scores_in_its_output_metrics_card_and_backtest(first):
    """Per horizon the backtest's WIS with its parts, coverage and relative WIS against the hubs' baseline:
    in the retrain's output (JSON, no NaN), as MLflow metrics, in the card; the WIS per row in the
    backtest artifact the next gate reads."""
    import mlflow

    scores = first["intervals"]
    json.dumps(scores, allow_nan=False)
    assert [row["horizon"] for row in scores] == [1, 7]
    metrics = mlflow.get_run(first["run_id"]).data.metrics
    card = mlflow.artifacts.load_text(f"runs:/{first['run_id']}/model_card.md")
    assert "## Quantile forecasts, scored as the forecast hubs score them" in card
    backtest = registry.load_backtest(first["run_id"])
    for row in scores:
        h = row["horizon"]
        assert row["forecasts"] == 7 * 28  # the 7 folds after the first, of 28 days each
        parts = row["dispersion"] + row["overprediction"] + row["underprediction"]
        assert parts == pytest.approx(row["wis"])
        scored = backtest[(backtest["horizon"] == h) & backtest["model_wis"].notna()]
        assert row["relative_wis"] == pytest.approx(scored["model_wis"].mean() / scored["baseline_wis"].mean())
        assert (row["coverage_50"], row["coverage_95"]) == pytest.approx(
            (scored["model_covered_50"].mean(), scored["model_covered_95"].mean())
        )
        for name in ("wis", "relative_wis", "coverage_50", "coverage_95", "baseline_wis"):
            assert metrics[f"h{h}_{name}"] == pytest.approx(row[name])
        assert metrics[f"h{h}_wis_dispersion"] == pytest.approx(row["dispersion"])
        assert f"| {DAILY.label(h)} | {row['forecasts']} | {row['wis']:.1f} |" in card
        assert scored["model_wis"].mean() == pytest.approx(row["wis"]) and len(scored) == row["forecasts"]


def test_a_retrain_writes_each_forecasts_quantiles_and_the_registered_model_answers_the_same(first):
    """23 non-decreasing counts per forecast in ml.forecast_quantiles (marts.fct_forecast_quantiles), the
    median the point; the registered model and `cother predict` answer those quantiles for that row."""
    from cother_ml.intervals import QUANTILE_LEVELS
    from cother_ml.predict import predict
    from cother_ml.pyfunc_model import quantile_column

    assert first["quantiles_written"] == 2 * 23
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select horizon_days, array_agg(quantile_level::float order by quantile_level),"
            " array_agg(quantile_value order by quantile_level), min(forecast_new_cases)"
            " from marts.fct_forecast_quantiles where model_name = %s and model_version = %s"
            " group by horizon_days order by horizon_days",
            (MODEL_NAME, int(first["version"])),
        )
        written = {horizon: (levels, values, point) for horizon, levels, values, point in cur.fetchall()}
    assert list(written) == [1, 7]
    for levels, values, point in written.values():
        assert levels == pytest.approx(QUANTILE_LEVELS.tolist())
        assert values == sorted(values) and values[0] >= 0 and values[0] < values[-1]
        assert values[11] == round(point)
    row = load_mart(["seoul"]).query("is_forecast_row")
    answered = registry.load(MODEL_NAME, first["version"]).predict(row)
    for horizon, (_, values, _) in written.items():
        assert [answered[quantile_column(horizon, level)].iloc[0] for level in QUANTILE_LEVELS] == values
    served = predict("seoul", row["date_day"].iloc[0].date())
    for forecast in served["forecasts"]:
        assert list(forecast["quantiles"].values()) == written[forecast["horizon_days"]][1]


def test_a_retrain_writes_each_forecasts_surge_warning_with_the_level_its_backtest_chose(first):
    """Per horizon a level chosen on the backtest's surges (Seoul's one: July 2021; November 2020's is before
    the backtest), in the retrain's output (JSON, no NaN), as MLflow metrics and in the card; per forecast
    in ml.surge_warnings (marts.fct_surge_warnings) the probability read off its quantiles that the count
    passes a surge's rise from the counts at its origin, the level and whether it reaches it."""
    import mlflow

    from cother_ml.intervals import QUANTILE_LEVELS

    levels = {row["horizon"]: row for row in first["surge_levels"]}
    json.dumps(first["surge_levels"], allow_nan=False)
    assert list(levels) == [1, 7] and first["surge_warnings_written"] == 2
    metrics = mlflow.get_run(first["run_id"]).data.metrics
    card = mlflow.artifacts.load_text(f"runs:/{first['run_id']}/model_card.md")
    assert "## Surge warning" in card
    for h, row in levels.items():
        assert row["episodes"] == 1 and 0 < row["level"] < 1 and row["recall"] == 1 and not row["kept"], row
        assert metrics[f"h{h}_surge_level_kept"] == 0
        assert 0 < row["warned_share"] < 1
        assert metrics[f"h{h}_surge_level"] == pytest.approx(row["level"]) and metrics[f"h{h}_surge_episodes"] == 1
        assert f"| {DAILY.label(h)} | {row['level']:.2f} | 1 | 100.0% | {row['warned_share']:.1%} |" in card
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select horizon_days, warning.origin_date, surge_threshold, surge_probability, warning_level, is_warned,"
            " array_agg(quantile_value order by quantile_level) from marts.fct_surge_warnings as warning"
            " join marts.fct_forecast_quantiles using (model_name, model_version, region, date_day, horizon_days)"
            " where model_name = %s and model_version = %s"
            " group by 1, 2, 3, 4, 5, 6 order by horizon_days",
            (MODEL_NAME, int(first["version"])),
        )
        written = cur.fetchall()
    assert [row[0] for row in written] == [1, 7]
    mart = load_mart(["seoul"])
    counts = surge.counts_of(mart.assign(target_date=mart["date_day"], actual=mart["new_cases"]))
    forecasts = pd.DataFrame(
        {"region": "seoul", "origin_date": pd.Timestamp(written[0][1]), "horizon": [row[0] for row in written]}
    )
    thresholds = surge.thresholds(forecasts, counts, surge.DEFINITIONS["daily"])
    quantiles = np.array([row[6] for row in written])
    assert quantiles.shape == (2, len(QUANTILE_LEVELS))
    probabilities = surge.probability_above(quantiles, thresholds)
    for (h, _, threshold, probability, level, warned, _), expected_threshold, expected in zip(
        written, thresholds, probabilities, strict=True
    ):
        assert threshold == pytest.approx(expected_threshold) and probability == pytest.approx(expected)
        assert level == pytest.approx(levels[h]["level"]) and warned == (probability >= level)
    regions = [] if not any(row[5] for row in written) else ["seoul"]
    assert first["surge_warned_regions"] == regions


def test_the_champions_surge_warning_alerts_once_and_the_mart_shows_when(first):
    """The retrain's champion warns of Seoul or not, as its forecasts say: the alert check alerts on
    exactly the regions it warns of, once, and the mart shows the alert on the horizons that warned."""
    from cother import surge_alerts

    alerted = surge_alerts.check(MODEL_NAME, "test-run")
    assert alerted["warned"] == first["surge_warned_regions"] == [alert["region"] for alert in alerted["alerted"]]
    assert surge_alerts.check(MODEL_NAME, "test-run") == {"warned": alerted["warned"], "alerted": []}
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select is_warned, alerted_at is not null from marts.fct_surge_warnings"
            " where model_name = %s and model_version = %s",
            (MODEL_NAME, int(first["version"])),
        )
        shown = cur.fetchall()
    assert len(shown) == 2 and all(warned == sent for warned, sent in shown)


def test_the_gate_reads_a_champions_wis_from_its_backtest_and_from_its_live_quantiles(first):
    """Up to its training end the champion's WIS per row is its backtest artifact's; after it, the WIS of
    the quantiles it answers live; a version registered before its quantiles has WIS on its backtest days
    alone (the gate then compares WIS there, and MAE on every day)."""
    from types import SimpleNamespace

    from cother_ml.features import examples_by_horizon, labelled
    from cother_ml.intervals import QUANTILE_LEVELS
    from cother_ml.pyfunc_model import quantile_column
    from cother_ml.quantile_scores import weighted_interval_score
    from cother_ml.retrain import champion_out_of_sample

    rows = labelled(examples_by_horizon(load_mart(["seoul"]), DAILY)[1], DAILY)
    stored = registry.load_backtest(first["run_id"])
    latest = stored[(stored["horizon"] == 1) & (stored["fold"] > 4)]
    end = pd.Timestamp(version_tags(first["version"])["training_end"]) - pd.Timedelta(days=14)
    earlier = SimpleNamespace(
        run_id=first["run_id"], version=first["version"], tags={"training_end": f"{end:%Y-%m-%d}"}
    )
    forecasts, failure = champion_out_of_sample(MODEL_NAME, earlier, latest, rows, 1)
    before = (latest["target_date"] <= end).to_numpy()
    assert failure is None and (~before).sum() == 14
    assert forecasts["model_wis"][before].tolist() == latest["model_wis"][before].tolist()
    # after it, the WIS of the quantiles the version answers for those rows
    live = rows.merge(latest.loc[~before, ["region", "target_date"]])
    answered = registry.load(MODEL_NAME, first["version"]).predict(live)
    quantiles = answered[[quantile_column(1, level) for level in QUANTILE_LEVELS]]
    expected = weighted_interval_score(live["actual"], quantiles, QUANTILE_LEVELS)["wis"]
    assert forecasts["model_wis"][~before].tolist() == pytest.approx(expected.tolist())
    register_as_older_code(first, days_before_end=14)  # champion now
    try:
        forecasts, failure = champion_out_of_sample(
            MODEL_NAME, registry.alias_version(MODEL_NAME, "champion"), latest, rows, 1
        )
        assert failure is None and forecasts["model"].notna().all()
        assert forecasts["model_wis"].notna().tolist() == before.tolist()
    finally:
        registry.set_alias(MODEL_NAME, first["version"])


def test_a_challenger_that_does_not_win_leaves_the_champion_where_it_is(first):
    import mlflow

    second = retrain("korea", ["seoul"], moved_by="test:second")  # the same data: the same folds, no gain
    assert not second["promoted"] and second["alias"] == "challenger"
    assert "does not beat champion" in second["decision"]
    assert registry.champion_version(MODEL_NAME) == first["version"]
    assert str(registry.alias_version(MODEL_NAME, "challenger").version) == second["version"]
    assert version_tags(second["version"])["promotion"] == second["decision"]
    # its backtest's one surge is fewer than the 10 a level is chosen on by default: each horizon keeps the
    # champion's level (first's, chosen on that surge), said in its output and metrics
    before = {row["horizon"]: row["level"] for row in first["surge_levels"]}
    metrics = mlflow.get_run(second["run_id"]).data.metrics
    for row in second["surge_levels"]:
        assert row["kept"] and row["level"] == pytest.approx(before[row["horizon"]]) and row["episodes"] == 1, row
        assert metrics[f"h{row['horizon']}_surge_level_kept"] == 1


def test_promote_and_rollback_by_hand_and_a_consumer_of_champion_follows(first):
    import mlflow

    challenger = str(registry.alias_version(MODEL_NAME, "challenger").version)
    registry.configure()
    assert aliases.promote(MODEL_NAME, challenger) == first["version"]
    consumer = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    assert consumer.metadata.run_id == registry.client().get_model_version(MODEL_NAME, challenger).run_id
    assert aliases.rollback(MODEL_NAME) == first["version"]
    assert registry.champion_version(MODEL_NAME) == first["version"]
    moves = aliases.history(MODEL_NAME)
    assert [(m["alias"], m["version"], m["previous"]) for m in moves[:2]] == [
        ("champion", first["version"], challenger),
        ("champion", challenger, first["version"]),
    ]
    assert moves[0]["moved_by"].startswith("cli:") and moves[0]["reason"] == f"rollback from v{challenger}"


def test_each_retrain_writes_its_forecasts_for_both_horizons(first):
    assert row_count(f"ml.forecasts where model_version = '{first['version']}'") == 2
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select horizon_days, origin_date::text, date_day::text from marts.fct_forecasts"
            " where model_name = %s and model_version = %s order by horizon_days",
            (MODEL_NAME, int(first["version"])),
        )
        assert cur.fetchall() == [(1, "2021-10-05", "2021-10-06"), (7, "2021-10-05", "2021-10-12")]


def test_each_horizon_publishes_the_forecaster_its_backtest_chose_and_the_registered_model_answers_the_same(first):
    from cother_ml.predict import predict

    chosen = {int(horizon[1:]): choice["forecaster"] for horizon, choice in first["published"].items()}
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select horizon_days, forecaster, forecast_new_cases, origin_date from ml.forecasts"
            " where model_name = %s and model_version = %s order by horizon_days",
            (MODEL_NAME, first["version"]),
        )
        written = cur.fetchall()
    assert {horizon: forecaster for horizon, forecaster, _, _ in written} == chosen
    served = registry.load(MODEL_NAME, first["version"]).unwrap_python_model()
    assert served.publication.published == chosen  # read back from its model_config
    origin = written[0][3]
    answered = predict("seoul", origin + timedelta(days=1))  # the champion, loaded from the registry
    assert [(f["horizon_days"], f["forecaster"]) for f in answered["forecasts"]] == sorted(chosen.items())
    assert answered["region_in_training"] is True  # Seoul is the region the version trained on
    assert [f["forecast_new_cases"] for f in answered["forecasts"]] == [round(value, 1) for _, _, value, _ in written]


def test_a_prediction_passes_the_model_only_its_signatures_columns(first):
    """`cother predict` reads a whole row of the mart; MLflow would warn of every extra column."""
    from cother_ml.predict import predict

    day = load_mart(["seoul"]).query("is_forecast_row")["date_day"].iloc[0].date()
    warnings = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = warnings.append
    schema_logger = logging.getLogger("mlflow.models.utils")
    schema_logger.addHandler(handler)
    try:
        forecast = predict("seoul", day)
    finally:
        schema_logger.removeHandler(handler)
    assert [f["horizon_days"] for f in forecast["forecasts"]] == [1, 7]
    assert [record.getMessage() for record in warnings] == []


def test_each_registered_model_logs_its_runs_to_an_experiment_of_its_own(first):
    import mlflow

    run = mlflow.get_run(registry.client().get_model_version(MODEL_NAME, first["version"]).run_id)
    assert mlflow.get_experiment(run.info.experiment_id).name == MODEL_NAME


def test_mlflow_models_serve_answers_over_http_with_the_champions_forecast(first):
    row = load_mart(["seoul"]).query("is_forecast_row")
    model = registry.load(MODEL_NAME)
    expected = model.predict(row)
    columns = model.metadata.get_input_schema().input_names()
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_url(), **registry.QUIET_MLFLOW}
    uri = f"models:/{MODEL_NAME}@champion"
    command = ["mlflow", "models", "serve", "-m", uri, "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def ping() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_for(ping, 300, "mlflow models serve", every_s=1)
        body = {"dataframe_split": json.loads(row[columns].to_json(orient="split", index=False))}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            (predicted,) = json.load(answer)["predictions"]
    finally:
        server.terminate()
        server.wait(120)
    for horizon in (1, 7):
        assert predicted[output_column(horizon)] == pytest.approx(expected[output_column(horizon)].iloc[0])


def test_a_retried_retrain_registers_nothing_and_moves_no_alias_again(first):
    """Airflow's retry of a retrain task (the same DAG run, the same training data) returns what the
    first attempt registered and decided; no version is registered and no alias moved a second time."""
    attempt = "airflow:cother_retrain/manual__retried"
    once = retrain("korea", ["seoul"], moved_by=attempt)
    versions = registry.client().search_model_versions(f"name = '{MODEL_NAME}'")
    moves = aliases.history(MODEL_NAME, 1000)
    again = retrain("korea", ["seoul"], moved_by=attempt)
    quantiles = row_count(f"ml.forecast_quantiles where model_version = '{once['version']}'")
    keys = ("version", "run_id", "alias", "promoted", "decision", "forecasts_written", "quantiles_written")
    for key in (*keys, "surge_warnings_written", "surge_levels"):
        assert again[key] == once[key], key
    assert row_count(f"ml.forecast_quantiles where model_version = '{once['version']}'") == quantiles == 2 * 23
    assert row_count(f"ml.surge_warnings where model_version = '{once['version']}'") == 2
    assert len(registry.client().search_model_versions(f"name = '{MODEL_NAME}'")) == len(versions)
    assert aliases.history(MODEL_NAME, 1000) == moves


def test_a_retrain_killed_after_registering_its_version_and_before_tagging_it_finds_it_on_retry(first):
    """The attempt registered its version (its run tagged from the start) and was killed before it
    tagged the version: the retry of the same caller finds that version by its run, tags it, writes its
    forecasts and moves its alias; no second version."""
    from cother_core.regions import get_set
    from cother_core.settings import get_settings
    from cother_ml import retrain as steps
    from cother_ml.fitting import TrainingConfig, fit
    from cother_ml.grain import grain_of

    attempt = "airflow:cother_retrain/manual__killed"
    grain = grain_of("korea")
    examples, validations, drifted = steps.load_and_gate(grain, ["seoul"])
    fitted = fit(examples, sorted(get_set("korea").ids), TrainingConfig(grain, get_settings().weather_features))
    decision = steps.judge(MODEL_NAME, fitted, get_settings().promotion_margin)
    tags = steps.lineage_tags("korea", fitted, validations, None, drifted)
    before = len(registry.client().search_model_versions(f"name = '{MODEL_NAME}'"))
    killed, _ = steps.log_version(MODEL_NAME, fitted, decision, {**tags, "registered_by": attempt}, drifted)
    assert "promotion" not in version_tags(killed)  # registered, never tagged
    retried = retrain("korea", ["seoul"], moved_by=attempt)
    assert retried["version"] == killed
    assert len(registry.client().search_model_versions(f"name = '{MODEL_NAME}'")) == before + 1
    assert version_tags(killed)["registered_by"] == attempt and version_tags(killed)["promotion"]
    assert registry.holds(MODEL_NAME, retried["alias"], killed)
    assert row_count(f"ml.forecasts where model_version = '{killed}'") == 2


def register_as_older_code(first, days_before_end: int, gone_columns: tuple[str, ...] = ()) -> str:
    """`first`'s boosters registered as the code before the 7-day anchor did, and made champion: no
    anchoring and no published forecasters in its model_config, neither the naive forecasters' lags nor
    the anchors' growth among its input's own columns, and `gone_columns` in its input, which the mart no
    longer has. Its backtest is `first`'s, its training end `days_before_end` days before `first`'s."""
    import tempfile
    from pathlib import Path

    import mlflow

    from cother_ml.report import BACKTEST_ARTIFACT
    from cother_ml.target import DERIVED

    current = registry.load(MODEL_NAME, first["version"]).unwrap_python_model()
    config = {"features": current.features, "regions": current.regions, "horizons": list(current.boosters)}
    columns = list(dict.fromkeys([*(f for f in current.features if f not in DERIVED), "day_of_week", "cases_mean_7d"]))
    rows = load_mart(["seoul"]).dropna(subset=columns).tail(30)
    example = rows[columns].astype({c: "float64" for c in columns if c != "region"})
    registry.use_experiment(MODEL_NAME)
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as folder:
        boosters = {f"booster_h{h}": str(Path(folder) / f"booster_h{h}.txt") for h in current.boosters}
        for h, booster in current.boosters.items():
            booster.save_model(boosters[f"booster_h{h}"])
        backtest = mlflow.artifacts.download_artifacts(
            run_id=first["run_id"], artifact_path=BACKTEST_ARTIFACT, dst_path=folder
        )
        mlflow.log_artifact(backtest, artifact_path=str(Path(BACKTEST_ARTIFACT).parent))
        version = registry.log_pyfunc(MODEL_NAME, boosters, config, example.assign(**dict.fromkeys(gone_columns, 1.0)))
    training_end = pd.Timestamp(version_tags(first["version"])["training_end"]) - pd.Timedelta(days=days_before_end)
    registry.tag_version(MODEL_NAME, version, {"training_end": f"{training_end:%Y-%m-%d}", "run_id": run.info.run_id})
    registry.set_alias(MODEL_NAME, version)
    return version


def common_days(decision: str) -> tuple[int, int]:
    """From a gate's reason: the days the new version and the champion were compared on, and the gate's days."""
    count, start, end = re.search(r"on (\d+) common days (\S+)\.\.(\S+)", decision).groups()
    return int(count), (pd.Timestamp(end) - pd.Timestamp(start)).days + 1


def test_a_champion_registered_by_older_code_forecasts_as_it_learnt_and_the_gate_runs_it_after_its_training(first):
    """The registry runs an older version with the current code: its own anchoring (the 7-day mean and
    the whole change at 7 days too), its own input; the next retrain's gate forecasts with it live."""
    from cother_ml.forecaster import model_input

    older = register_as_older_code(first, days_before_end=14)
    try:
        rows = load_mart(["seoul"]).dropna(subset=["cases_mean_7d", "cases_log_ratio_lag_1"]).tail(10)
        model = registry.load(MODEL_NAME, older)
        learnt = model.unwrap_python_model()
        seven_days = learnt.anchoring.for_horizon(rows, 7)
        change = learnt.boosters[7].predict(model_input(seven_days, learnt.features, learnt.regions))
        expected = np.expm1(np.log1p(rows["cases_mean_7d"].to_numpy()) + change)
        assert model.predict(rows)[output_column(7)].to_numpy() == pytest.approx(expected)
        after = retrain("korea", ["seoul"], moved_by="test:after-an-older-champion")
        assert f"champion v{older}" in after["decision"] and "cannot forecast" not in after["decision"]
        # the alias was set outside aliases.move: the retrain's gate found it and recorded it
        outside = [m for m in aliases.history(MODEL_NAME, 1000) if m["version"] == older and m["alias"] == "champion"]
        assert [m["moved_by"] for m in outside] == [aliases.OUTSIDE]
        compared, gate_days = common_days(after["decision"])
        assert compared == gate_days  # 14 of them forecast live
    finally:
        registry.set_alias(MODEL_NAME, first["version"])


def test_a_champion_whose_input_the_mart_no_longer_has_is_compared_on_its_backtest_days_alone(first):
    older = register_as_older_code(first, days_before_end=14, gone_columns=("month_of_year",))
    try:
        after = retrain("korea", ["seoul"], moved_by="test:after-a-champion-that-cannot-run")
        assert f"champion v{older} cannot forecast the current rows (MlflowException" in after["decision"]
        assert "month_of_year" in after["decision"] and "compared on its backtest days alone" in after["decision"]
        compared, gate_days = common_days(after["decision"])
        assert compared == gate_days - 14
    finally:
        registry.set_alias(MODEL_NAME, first["version"])
