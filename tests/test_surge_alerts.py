"""Surge alerts on the test warehouse: a model's champion's surge warnings, written as the retrain writes
them (cother_ml.storage.write_forecasts), sent through the alert channel once per region and surge
window; not again on a retry or a rerun, for a newer champion still warning within the window, for a
challenger or after a rollback."""

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import table_contents

pytestmark = pytest.mark.integration

MODEL = "cother_test_surge_alerts"
ORIGIN = date(2021, 7, 4)  # a Sunday, as a weekly set's origins are
LEVEL = 0.4


@pytest.fixture
def webhook(warehouse, api, monkeypatch):
    """An empty warehouse with the region sets in raw.regions, and the alert channel a loopback webhook."""
    from cother_core.warehouse import sync_regions

    sync_regions()
    monkeypatch.setenv("COTHER_ALERT_WEBHOOK_URL", api.url("/alerts"))
    return api


def write_version(version: str, origin: date, probability: float, alias: str = "champion", region: str = "seoul"):
    """A version's forecasts of a region from `origin` (next day and 7 days ahead) and their surge
    warnings: the next day's probability 0.1, the 7-day one's `probability`, both against LEVEL; with
    alias champion, the alias moved to it."""
    from cother_ml import storage

    days = pd.Timestamp(origin) + pd.to_timedelta([1, 7], unit="D")
    forecasts = pd.DataFrame(
        {
            "region": region,
            "origin_date": pd.Timestamp(origin),
            "target_date": days,
            "horizon": [1, 7],
            "forecast": [100.0, 240.0],
            "forecaster": "model",
            "region_in_training": True,
        }
    )
    chances = np.array([0.1, probability])
    warnings = pd.DataFrame(
        {"threshold": [110.0, 225.0], "probability": chances, "level": LEVEL, "warned": chances >= LEVEL}
    )
    storage.write_forecasts(MODEL, version, alias, forecasts, np.full((2, 23), np.nan), warnings)
    if alias == "champion":
        move(version)


def move(version: str) -> None:
    from cother_ml import storage

    storage.record_move(MODEL, "champion", version, None, "test", "the surge alert tests", {})


def sent(webhook) -> list[dict]:
    return [surge for path, body in webhook.posts if path == "/alerts" for surge in json.loads(body)["surges"]]


def alerted_regions(run_id: str) -> list[str]:
    from cother import surge_alerts

    return [alert["region"] for alert in surge_alerts.check(MODEL, run_id)["alerted"]]


def test_a_champions_surge_warning_alerts_once_per_region_and_surge(webhook):
    from cother import surge_alerts

    write_version("3", ORIGIN, 0.72)
    write_version("4", ORIGIN, 0.9, alias="challenger", region="busan")  # warns, but not the champion
    first = surge_alerts.check(MODEL, "run-1")
    assert first["warned"] == ["seoul"]
    (alert,) = sent(webhook)
    assert json.loads(webhook.posts[0][1])["event"] == "surge_warning"
    assert alert["region"] == "seoul" and alert["model_version"] == "3" and alert["origin_date"] == "2021-07-04"
    assert alert["horizons"] == [
        {"horizon_days": 7, "target_date": "2021-07-11", "threshold": 225, "probability": 0.72, "level": LEVEL}
    ]
    assert alert["message"] == (
        "seoul: counts likely to rise at a surge's pace: 2021-07-11 (7 days ahead) above 225 with probability 0.72"
        f" (level 0.40); champion v3 of {MODEL}, forecast from 2021-07-04"
    )
    assert first["alerted"] == [alert]

    assert alerted_regions("run-1") == []  # a retry
    assert alerted_regions("run-2") == []  # the next run, the same champion
    write_version("5", ORIGIN + timedelta(days=1), 0.8)  # a new champion, still warning, the next day
    assert alerted_regions("run-3") == []
    move("3")  # a rollback to the version that alerted
    assert alerted_regions("run-4") == []
    assert len(sent(webhook)) == 1
    assert table_contents("ml.surge_alerts")[0][:4] == (MODEL, "3", "seoul", "2021-07-04")
    assert len(table_contents("ml.surge_alerts")) == 1


@pytest.mark.parametrize(("region", "window", "step"), [("seoul", 14, 1), ("fr_weekly", 28, 7)])
def test_a_warning_that_stays_on_alerts_again_once_its_surge_window_has_passed(webhook, region, window, step):
    write_version("3", ORIGIN, 0.5, region=region)
    assert alerted_regions("run-1") == [region]
    write_version("4", ORIGIN + timedelta(days=window - step), 0.6, region=region)  # within the window
    assert alerted_regions("run-2") == []
    write_version("5", ORIGIN + timedelta(days=window), 0.6, region=region)  # a window after the alert
    assert alerted_regions("run-3") == [region]
    assert [alert["model_version"] for alert in sent(webhook)] == ["3", "5"]


def test_no_warning_or_no_champion_alerts_nothing(webhook):
    from cother import surge_alerts

    write_version("3", ORIGIN, 0.9, alias="challenger")  # no champion yet
    assert surge_alerts.check(MODEL, "run-1") == {"warned": [], "alerted": []}
    write_version("4", ORIGIN, LEVEL - 0.01)  # a champion below its level
    assert surge_alerts.check(MODEL, "run-2") == {"warned": [], "alerted": []}
    assert sent(webhook) == []
