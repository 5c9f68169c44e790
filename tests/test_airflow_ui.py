"""The Airflow UI in headless Chromium: log into a real `airflow standalone` started here, see the three
DAGs listed with no import error, open a DAG's page with its grid of tasks and task groups;
screenshots go to test-artifacts/."""

from __future__ import annotations

import json

import pytest
from conftest import TEST_RUNTIME, screenshot, wait_until

from cother.airflow_runner import standalone
from cother.settings import get_settings

DAG_IDS = ["cother_ingest", "cother_retrain", "cother_transform"]


@pytest.fixture(scope="module")
def airflow_ui(airflow_db):
    with standalone(TEST_RUNTIME / "logs" / "ui-standalone.log") as env:
        passwords = get_settings().airflow_home / "simple_auth_manager_passwords.json.generated"
        yield f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}", json.loads(passwords.read_text())["admin"]


def test_log_in_see_the_dags_without_import_errors_and_open_a_grid(airflow_ui, browser):
    from selenium.webdriver.common.by import By

    url, password = airflow_ui
    browser.get(f"{url}/")
    wait_until(browser, lambda b: b.find_elements(By.NAME, "username"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    wait_until(browser, lambda b: "/auth/login" not in b.current_url)

    browser.get(f"{url}/dags")
    listed = wait_until(
        browser, lambda b: all(dag_id in b.find_element(By.TAG_NAME, "body").text for dag_id in DAG_IDS)
    )
    assert listed
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "import error" not in page.lower(), page
    screenshot(browser, "airflow-dag-list.png")

    browser.get(f"{url}/dags/cother_ingest")
    wait_until(browser, lambda b: "plan" in b.find_element(By.TAG_NAME, "body").text)
    page = browser.find_element(By.TAG_NAME, "body").text
    for task_or_group in ("plan", "weather", "cases", "announce", "check_freshness"):
        assert task_or_group in page, f"{task_or_group} is not in the grid"
    screenshot(browser, "airflow-cother-ingest-grid.png")
