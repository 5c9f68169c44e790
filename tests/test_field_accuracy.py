"""Field accuracy on the test warehouse: the champion's forecasts scored beside persistence's once
reported (marts.fct_forecast_accuracy), an alert once per stretch where it does worse, read by the gate;
their quantiles' WIS and coverage, an alert once per stretch where the 95 % intervals hold too few. The
champion is the version the registry's alias holds: the module's model has four versions (no artifacts:
their forecasts are written here), v3 the champion."""

import json
from datetime import date, timedelta

import pytest
from conftest import empty_warehouse, publish_seoul

from cother.transform import dbt

pytestmark = pytest.mark.integration

STRETCH = [date(2021, 2, 1) + timedelta(days=i) for i in range(14)]
FEBRUARY = [date(2021, 2, 1) + timedelta(days=i) for i in range(28)]
WORSE, NARROW = "champion_worse_than_persistence", "champion_intervals_too_narrow"
MODEL = "cother_test_field_accuracy"


@pytest.fixture(scope="module")
def two_months(postgres_server):
    """The bundled Seoul counts of 2021-01-01..2021-02-28 published and built, and the module's model
    registered with four versions, once for the module."""
    from cother_core.settings import get_settings
    from cother_ml import registry

    empty_warehouse()
    publish_seoul(date(2021, 1, 1), date(2021, 2, 28))
    assert dbt.build()["success"]
    client = registry.client()
    client.create_registered_model(MODEL)
    for _ in range(4):
        client.create_model_version(MODEL, source=get_settings().mlflow_artifacts.as_uri())


@pytest.fixture
def warehouse(two_months):
    """The module's published counts, with no forecast or alert yet; v3 the champion, the only version
    ever champion (an alias an earlier test left is removed first)."""
    from cother_core.database import connect
    from cother_ml import aliases, registry

    if registry.alias_version(MODEL, "champion") is not None:
        registry.client().delete_registered_model_alias(MODEL, "champion")
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "truncate ml.forecasts, ml.forecast_quantiles, ml.model_promotions, ml.field_accuracy_alerts,"
            " ml.coverage_alerts"
        )
    aliases.move(MODEL, "champion", "3", "test:field-accuracy", "the module's champion")


@pytest.fixture
def webhook(monkeypatch):
    from fake_api import FakeApi

    fake = FakeApi()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", fake.url("/alerts"))
    yield fake
    fake.close()


def reported() -> dict[date, float]:
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute("select date_day, new_cases from marts.fct_region_daily where region = 'seoul'")
        return dict(cur.fetchall())


def write_forecasts(version: str, alias: str, horizon: int, days: list[date], error) -> None:
    """Seoul forecasts of these days from the day `horizon` before each, `error(day)` off the count."""
    from cother_core.database import connect

    counts = reported()
    rows = [
        (MODEL, version, "seoul", day - timedelta(days=horizon), day, horizon)
        + (max(counts[day] + error(day), 0.0), alias, "model")
        for day in days
    ]
    with connect() as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into ml.forecasts (model_name, model_version, region, origin_date, target_date, horizon_days,"
            " forecast_new_cases, model_alias, forecaster) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def alerts(webhook) -> list[dict]:
    return [json.loads(body) for path, body in webhook.posts if path == "/alerts"]


def test_a_14_day_stretch_where_the_champion_is_worse_than_persistence_alerts_once(warehouse, webhook):
    from cother.transform import field_accuracy
    from cother_ml import storage

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 1000.0)  # far off: worse than persistence
    write_forecasts("3", "champion", 7, STRETCH, lambda day: 0.0)  # exact: better than persistence
    write_forecasts("4", "challenger", 1, STRETCH, lambda day: 1000.0)  # worse, but not the champion
    built = dbt.build()
    assert built["success"]

    first = field_accuracy.check("run-1")
    (alert,) = alerts(webhook)
    assert alert["event"] == "champion_worse_than_persistence"
    (worse,) = alert["worse"]
    assert (worse["region"], worse["horizon_days"], worse["model_version"]) == ("seoul", 1, "3")
    assert worse["days"] == "2021-02-01..2021-02-14" and worse["scored_days"] == 14
    assert worse["mae"] == 1000.0 and worse["persistence_mae"] < worse["mae"]
    assert "seoul, horizon 1: champion v3 MAE 1000.0 vs persistence" in worse["message"]
    assert first[WORSE]["alerted"] == [worse]

    assert field_accuracy.check("run-1")[WORSE]["alerted"] == []  # a retry: nothing again
    assert field_accuracy.check("run-2")[WORSE]["alerted"] == []  # the next run over the same stretch: nothing
    assert len(alerts(webhook)) == 1

    (flag,) = storage.field_flags(MODEL, "3")  # what the next retrain's gate reads
    assert (flag["region"], flag["horizon_days"], flag["mae"]) == ("seoul", 1, 1000.0)
    assert storage.field_flags(MODEL, "4") == []


def test_the_gate_reads_an_alert_until_a_whole_stretch_is_scored_since_without_a_new_one(warehouse, webhook):
    from cother.transform import field_accuracy
    from cother_ml import storage

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 1000.0)
    assert dbt.build()["success"]
    field_accuracy.check("run-1")
    after = [STRETCH[-1] + timedelta(days=i) for i in range(1, 15)]  # 2021-02-15..2021-02-28, exact
    write_forecasts("3", "champion", 1, after[:13], lambda day: 0.0)
    assert dbt.build()["success"]
    assert field_accuracy.check("run-2")[WORSE]["alerted"] == []
    (flag,) = storage.field_flags(MODEL, "3")  # 13 days scored since: it still holds
    assert flag["days"] == "2021-02-01..2021-02-14"
    write_forecasts("3", "champion", 1, after[13:], lambda day: 0.0)
    assert dbt.build()["success"]
    assert field_accuracy.check("run-3")[WORSE]["alerted"] == []
    assert storage.field_flags(MODEL, "3") == []  # 14: better since, the alert is old
    assert len(alerts(webhook)) == 1


def test_the_mart_scores_each_forecast_beside_persistence_with_a_rolling_28_day_ratio(warehouse):
    from cother_core.database import connect

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 10.0)
    assert dbt.build()["success"]
    counts = reported()
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select date_day, absolute_error, persistence_new_cases, persistence_absolute_error, scored_days_28d,"
            " mae_28d, persistence_mae_28d, mae_ratio_28d from marts.fct_forecast_accuracy order by date_day"
        )
        rows = cur.fetchall()
    assert [row[0] for row in rows] == STRETCH
    last = rows[-1]
    persistence = [abs(counts[day - timedelta(days=1)] - counts[day]) for day in STRETCH]
    assert last[1] == 10.0 and last[2] == counts[STRETCH[-1] - timedelta(days=1)] and last[3] == persistence[-1]
    assert last[4] == 14 and last[5] == pytest.approx(10.0)
    assert last[6] == pytest.approx(sum(persistence) / 14) and last[7] == pytest.approx(10.0 / (sum(persistence) / 14))


def test_a_champion_better_than_persistence_or_too_few_scored_days_alerts_nothing(warehouse, webhook):
    from cother.transform import field_accuracy

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 0.0)
    write_forecasts("3", "champion", 7, STRETCH[:13], lambda day: 1000.0)  # worse, but 13 scored days
    assert dbt.build()["success"]
    assert field_accuracy.check("run-1") == {WORSE: {"found": 0, "alerted": []}, NARROW: {"found": 0, "alerted": []}}
    assert alerts(webhook) == []


def write_quantiles(version: str, horizon: int, days: list[date], offsets) -> None:
    """The 23 quantiles of Seoul's forecasts of these days (written by write_forecasts): the day's count
    plus `offsets(day)`, one per level, non-decreasing."""
    from cother_core.database import connect
    from cother_ml.intervals import QUANTILE_LEVELS

    counts = reported()
    rows = [
        (MODEL, version, "seoul", day - timedelta(days=horizon), day, horizon, float(level))
        + (max(counts[day] + offset, 0.0),)
        for day in days
        for level, offset in zip(QUANTILE_LEVELS, offsets(day), strict=True)
    ]
    with connect() as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into ml.forecast_quantiles (model_name, model_version, region, origin_date, target_date,"
            " horizon_days, quantile_level, quantile_value) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


AROUND = [float(offset) for offset in range(-110, 111, 10)]  # 23 offsets: the count inside every interval
ABOVE = [float(offset) for offset in range(5, 235, 10)]  # the count below every quantile: inside none


def test_the_mart_scores_each_forecasts_quantiles_as_the_hubs_do(warehouse):
    import numpy as np

    from cother_core.database import connect
    from cother_ml.intervals import QUANTILE_LEVELS
    from cother_ml.quantile_scores import weighted_interval_score

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 0.0)
    write_quantiles("3", 1, STRETCH[:7], lambda day: AROUND)
    write_quantiles("3", 1, STRETCH[7:], lambda day: ABOVE)
    assert dbt.build()["success"]
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select actual_new_cases, wis, covered_50, covered_95, coverage_95_28d from marts.fct_forecast_accuracy"
            " order by date_day"
        )
        rows = cur.fetchall()
    actual = np.array([row[0] for row in rows], dtype=float)
    quantiles = np.array(
        [np.maximum(count + np.array(AROUND if i < 7 else ABOVE), 0) for i, count in enumerate(actual)]
    )
    expected = weighted_interval_score(actual, quantiles, QUANTILE_LEVELS)["wis"]
    assert [row[1] for row in rows] == pytest.approx(expected.tolist(), rel=1e-9)
    assert [(row[2], row[3]) for row in rows] == [(True, True)] * 7 + [(False, False)] * 7
    assert rows[-1][4] == pytest.approx(0.5)  # 7 of the 14 days inside


def test_a_28_day_stretch_where_the_champions_95_intervals_hold_too_few_alerts_once(warehouse, webhook):
    from cother.transform import field_accuracy

    misses = set(FEBRUARY[::4])  # 7 of 28 outside: 75 % coverage
    write_forecasts("3", "champion", 1, FEBRUARY, lambda day: 0.0)
    write_quantiles("3", 1, FEBRUARY, lambda day: ABOVE if day in misses else AROUND)
    write_forecasts("4", "challenger", 1, FEBRUARY, lambda day: 0.0)
    write_quantiles("4", 1, FEBRUARY, lambda day: ABOVE)  # inside none, but not the champion
    few_misses = set(FEBRUARY[:5])  # 23 of 28 inside: 82 %, above the floor
    write_forecasts("3", "champion", 7, FEBRUARY, lambda day: 0.0)
    write_quantiles("3", 7, FEBRUARY, lambda day: ABOVE if day in few_misses else AROUND)
    assert dbt.build()["success"]

    first = field_accuracy.check("run-1")
    (alert,) = alerts(webhook)
    assert alert["event"] == NARROW
    (narrow,) = alert["too_narrow"]
    assert (narrow["region"], narrow["horizon_days"], narrow["model_version"]) == ("seoul", 1, "3")
    assert narrow["days"] == "2021-02-01..2021-02-28" and narrow["scored_days"] == 28
    assert narrow["coverage_95"] == 0.75 and "held 75% of the actuals" in narrow["message"]
    assert first[NARROW]["alerted"] == [narrow] and first[WORSE]["alerted"] == []  # exact points: no MAE alert

    assert field_accuracy.check("run-1")[NARROW]["alerted"] == []  # a retry: nothing again
    assert field_accuracy.check("run-2")[NARROW]["alerted"] == []  # the next run over the same stretch: nothing
    assert len(alerts(webhook)) == 1


def test_the_champion_scored_is_the_one_the_registrys_alias_holds_even_when_moved_outside_the_project(
    warehouse, webhook
):
    """The alias moved with MLflow's own client (as through the MLflow UI): the version it holds is
    scored, not the one the last recorded move left it on nor the one whose forecasts were written as
    champion; the move is recorded in ml.model_promotions as made outside the project."""
    from cother.transform import field_accuracy
    from cother_ml import aliases, registry, storage

    write_forecasts("3", "champion", 1, STRETCH, lambda day: 0.0)  # exact
    write_forecasts("4", "challenger", 1, STRETCH, lambda day: 1000.0)  # far off
    assert dbt.build()["success"]
    assert field_accuracy.check("run-1")[WORSE] == {"found": 0, "alerted": []}  # v3, exact

    registry.client().set_registered_model_alias(MODEL, "champion", "4")
    assert storage.last_move(MODEL, "champion")[0] == "3"  # the log does not know yet
    (worse,) = field_accuracy.check("run-2")[WORSE]["alerted"]
    assert (worse["model_version"], worse["region"], worse["horizon_days"], worse["mae"]) == ("4", "seoul", 1, 1000.0)
    assert storage.last_move(MODEL, "champion") == ("4", "3")
    assert aliases.history(MODEL, 1)[0]["moved_by"] == aliases.OUTSIDE
    assert [alert["event"] for alert in alerts(webhook)] == [WORSE]


def test_the_coverage_so_far_counts_each_champions_scored_forecasts_inside_their_intervals(warehouse):
    """Of Seoul's next-day forecasts of 2021-02-01..04 by v3, the champion: two inside both
    intervals, one inside the 95 % alone, one inside neither; a 7-day one without quantiles is not
    scored, nor is anything of v4, never champion."""
    from cother.forecast_page import data, region_view
    from cother_ml.grain import DAILY

    days = [date(2021, 2, 1) + timedelta(days=n) for n in range(4)]
    in_95_alone = [offset + 70 for offset in AROUND]  # the 0.25 quantile above the count, the 0.025 one below
    offsets = dict(zip(days, [AROUND, AROUND, in_95_alone, ABOVE], strict=True))
    for version, alias in (("3", "champion"), ("4", "challenger")):
        write_forecasts(version, alias, 1, days, lambda day: 0.0)
        write_quantiles(version, 1, days, offsets.get)
    write_forecasts("3", "champion", 7, days[:1], lambda day: 0.0)
    coverage = data.coverage_so_far(MODEL, "seoul")
    assert coverage.to_dict(orient="records") == [{"horizon": 1, "scored": 4, "inside_50": 2, "inside_95": 3}]
    shown = region_view.coverage_section({"coverage": coverage, "grain": DAILY, "periods": data.PERIODS["daily"]})
    assert "<td>next-day</td><td>4</td><td>2 (50%)</td><td>3 (75%)</td>" in shown
    assert "<td>7-day</td><td colspan='3' class='empty'>none scored yet</td>" in shown
