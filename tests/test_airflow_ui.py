"""`cother demo`, the core of the README's first command, end to end on the test database: the 17
provinces over a year, run twice with the same row counts. Then the Airflow UI in headless Chromium over
what the demo ran: log into a real Airflow stack started here, see the three DAGs listed with no import
error, open a DAG's page with its grid of tasks and task groups; see the asset graph go from the raw
tables through the mart to the model, and go from the retrain's task to the MLflow run that registered
its model version in one click (plugins/cother_ui.py, against a real MLflow UI started here), and open
the Forecasts page from the navigation: every region at a glance, each horizon's forecasts named by the
forecaster the warehouse records, the overview fitting its frame at 1,400 pixels; one region's chart
with its forecasters, its 50 % and 95 % intervals and the coverage so far; screenshots go to
test-artifacts/. (The demo and the UI share one module so that the pipeline over the 17 provinces
runs once for both.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

import pytest
from conftest import TEST_RUNTIME, empty_warehouse, mlflow_request, registered_model, screenshot, wait_until

from cother.local import mlflow_server
from cother.orchestration.airflow_runner import latest_run_id, local_stack
from cother_core.database import metadata_rows
from cother_core.regions import get_set, region_sets
from cother_core.settings import get_settings
from cother_ml.grain import grain_of

pytestmark = pytest.mark.system

DAG_IDS = ["cother_ingest", "cother_retrain", "cother_transform"]
ASSETS = ["raw.weather", "raw.cases", "marts.fct_training_features", "model.cother_cases_forecaster"]
MODEL_NAME = "cother_test_airflow_ui"


def request(url: str, token: str | None = None, method: str = "GET", body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=120)


def get_json(url: str, token: str | None = None, method: str = "GET", body: dict | None = None):
    with request(url, token, method, body) as answer:
        return json.load(answer) if answer.status != 204 else None


def demo() -> str:
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "cother"), "demo"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def pipeline(airflow_db):
    """`cother demo` twice on an empty warehouse (as on a fresh install), before the stack starts (its
    scheduler and the demo's `airflow dags test` would otherwise update the same rows at once): each time
    one run of each DAG over the bundled period for the 17 provinces, registering under a model name of
    this module's own. Yields both outputs, the DAG runs the demos made (dag_id, run_id) and the latest
    run id of each DAG (the second demo's)."""
    with registered_model(MODEL_NAME):
        empty_warehouse()
        before = latest_run_id()
        outputs = (demo(), demo())
        runs = metadata_rows("select dag_id, run_id from dag_run where id > %s order by id", (before,))
        yield {"outputs": outputs, "runs": runs, "latest": dict(runs)}


@contextmanager
def airflow_stack(log_name: str, **settings: str) -> Iterator[dict[str, str]]:
    """The Airflow stack (`cother stack`'s processes, their log in the test runtime's logs), with these
    settings; yields its address, the admin password and a REST API token."""
    with local_stack(TEST_RUNTIME / "logs" / log_name, **settings) as env:
        url = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
        passwords = get_settings().airflow_home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        assert passwords.stat().st_mode & 0o777 == 0o600  # the admin's password: readable by its owner only
        token = get_json(f"{url}/auth/token", method="POST", body={"username": "admin", "password": password})
        yield {"url": url, "password": password, "token": token["access_token"]}


@pytest.fixture(scope="module")
def airflow_ui(pipeline, mlflow_ui):
    """The Airflow stack, its "MLflow run" links to the MLflow UI above (COTHER_MLFLOW_UI_URL). The demos'
    runs are deleted at the end, so that the other tests' counts of DAG runs stay theirs."""
    with airflow_stack("ui-airflow.log", COTHER_MLFLOW_UI_URL=mlflow_ui) as stack:
        try:
            yield stack
        finally:
            for dag_id, run_id in pipeline["runs"]:
                get_json(f"{stack['url']}/api/v2/dags/{dag_id}/dagRuns/{run_id}", stack["token"], "DELETE")


def rows_per_table(output: str) -> str:
    return re.search(r"Rows per table\n((?:  .*\n)+)", output)[1]


def test_the_demo_runs_the_three_dags_for_the_17_provinces_twice_with_the_same_rows(pipeline):
    first, second = pipeline["outputs"]
    for heading in ("Per region: rows published", "Rows per table", "Validation (Great Expectations)", "dbt build"):
        assert heading in first
    assert "raw_coronaboard_cases            17 regions passed, failed: none" in first
    assert "fct_training_features            17 regions passed" in first
    table = re.search(r"Per region: .*\n  region .*\n((?:  \w+ .*\n)+)", first)[1]
    assert len(table.splitlines()) == 17 and "seoul" in table and "jeju" in table
    assert re.search(r"raw.coronaboard_cases\s+6222\n", rows_per_table(first))  # 17 provinces x 366 days
    assert f'Load it with: mlflow.pyfunc.load_model("models:/{MODEL_NAME}@champion")' in first
    assert rows_per_table(second) == rows_per_table(first)
    assert "unchanged unchanged" in second
    # the weekly world set reaches today: WHO's weekly file through 2026-04-19, forecast 4 weeks on
    assert "The world_weekly set: 234 countries and areas published" in first
    assert re.search(
        r"  \w+_weekly +[\d,]+  \d+ on 2026-04-26 +\d+ on 2026-05-03 +\d+ on 2026-05-10 +\d+ on 2026-05-17", first
    )


def log_in(browser, stack: dict[str, str]) -> str:
    """Log into the stack's UI as its admin; its address."""
    from selenium.webdriver.common.by import By

    browser.get(f"{stack['url']}/")
    wait_until(browser, lambda b: b.find_elements(By.NAME, "username"))
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(stack["password"])
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    wait_until(browser, lambda b: "/auth/login" not in b.current_url)
    return stack["url"]


@pytest.fixture(scope="module")
def logged_in(airflow_ui, browser):
    return log_in(browser, airflow_ui)


def test_log_in_see_the_dags_without_import_errors_and_open_a_grid(logged_in, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{logged_in}/dags")
    listed = wait_until(
        browser, lambda b: all(dag_id in b.find_element(By.TAG_NAME, "body").text for dag_id in DAG_IDS)
    )
    assert listed
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "import error" not in page.lower(), page
    screenshot(browser, "airflow-dag-list.png")

    browser.get(f"{logged_in}/dags/cother_ingest")
    wait_until(browser, lambda b: "plan" in b.find_element(By.TAG_NAME, "body").text)
    page = browser.find_element(By.TAG_NAME, "body").text
    for task_or_group in ("plan", "weather", "cases", "announce", "check_freshness"):
        assert task_or_group in page, f"{task_or_group} is not in the grid"
    screenshot(browser, "airflow-cother-ingest-grid.png")


def test_the_asset_graph_goes_from_the_raw_tables_through_the_mart_to_the_model(pipeline, logged_in, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{logged_in}/assets")
    wait_until(browser, lambda b: all(name in b.find_element(By.TAG_NAME, "body").text for name in ASSETS))
    screenshot(browser, "airflow-assets.png")

    browser.find_element(By.LINK_TEXT, "model.cother_cases_forecaster").click()  # its graph: all it comes from
    graph = ASSETS + DAG_IDS
    wait_until(browser, lambda b: all(node in b.find_element(By.TAG_NAME, "body").text for node in graph))
    screenshot(browser, "airflow-asset-graph.png")


def test_the_retrain_task_links_the_mlflow_run_of_its_model_version(
    pipeline, airflow_ui, mlflow_ui, logged_in, browser
):
    from selenium.webdriver.common.by import By

    run_id, token = pipeline["latest"]["cother_retrain"], airflow_ui["token"]
    task_instances = f"{logged_in}/api/v2/dags/cother_retrain/dagRuns/{run_id}/taskInstances"
    # one train_and_register per region set the run trained (the demo's last retrain: the weekly set's)
    returned = get_json(f"{task_instances}/train_and_register/xcomEntries/return_value?map_index=0", token)["value"]
    api = f"{mlflow_ui}/api/2.0/mlflow"
    with mlflow_request(
        f"{api}/model-versions/get?name={returned['model_name']}&version={returned['version']}"
    ) as answer:
        version = json.load(answer)["model_version"]
    with mlflow_request(f"{api}/runs/get?run_id={version['run_id']}") as answer:
        run = json.load(answer)["run"]["info"]
    link = f"{mlflow_ui}/#/runs/{run['run_id']}"
    assert get_json(f"{task_instances}/train_and_register/links?map_index=0", token)["extra_links"] == {
        "MLflow run": link
    }
    assert get_json(f"{task_instances}/plan/links", token)["extra_links"] == {"MLflow run": None}

    # the MLflow UI asks for its login: given once in an address, the browser keeps it for the UI's origin
    login = mlflow_ui.replace("://", f"://{mlflow_server.ADMIN}:{mlflow_server.admin_password()}@")
    browser.get(f"{login}/api/2.0/mlflow/experiments/search?max_results=1")
    # the task instance's Details tab, where Airflow shows its extra links
    browser.get(f"{logged_in}/dags/cother_retrain/runs/{run_id}/tasks/train_and_register/mapped/0/details")
    button = wait_until(browser, lambda b: b.find_elements(By.LINK_TEXT, "MLflow run"))[0]
    assert button.get_attribute("href") == link
    screenshot(browser, "airflow-retrain-mlflow-link.png")

    airflow_tab = browser.current_window_handle
    button.click()
    wait_until(browser, lambda b: len(b.window_handles) == 2)
    browser.switch_to.window(next(handle for handle in browser.window_handles if handle != airflow_tab))
    try:  # MLflow opens the run in its experiment
        run_page = f"#/experiments/{run['experiment_id']}/runs/{run['run_id']}"
        wait_until(browser, lambda b: b.current_url.endswith(run_page))
        wait_until(browser, lambda b: run["run_name"] in b.find_element(By.TAG_NAME, "body").text)
        screenshot(browser, "mlflow-run-from-airflow.png")
    finally:
        browser.close()
        browser.switch_to.window(airflow_tab)


def refused(url: str, token: str | None = None) -> int:
    """The HTTP status of a request that must be refused."""
    with pytest.raises(urllib.error.HTTPError) as error:
        request(url, token)
    return error.value.code


def test_the_forecasts_page_and_its_endpoints_are_behind_airflows_login(airflow_ui):
    pages = f"{airflow_ui['url']}/forecasts"
    for path in ("/", "/api/overview", "/regions/seoul", "/api/regions/seoul"):
        assert refused(pages + path) == 401, path  # no session, no token
        assert refused(pages + path, "not-a-token") == 403, path
    overview = get_json(f"{pages}/api/overview", airflow_ui["token"])
    listed = {region["region"] for region_set in overview["sets"] for region in region_set["regions"]}
    assert listed == {region.id for region_set in region_sets().values() for region in region_set.regions}
    seoul = get_json(f"{pages}/api/regions/seoul", airflow_ui["token"])
    assert seoul["champion"]["model_name"] == MODEL_NAME and seoul["forecasts"] and seoul["reported"]
    with pytest.raises(urllib.error.HTTPError) as unknown:
        request(f"{pages}/regions/atlantis", airflow_ui["token"])
    assert unknown.value.code == 404 and "busan" in unknown.value.read().decode()  # the list of regions


def painted(element) -> int:
    """Pixels of an element's screenshot that are not the white page behind it."""
    from PIL import Image

    image = Image.open(BytesIO(element.screenshot_as_png)).convert("L")
    return sum(count for shade, count in enumerate(image.histogram()) if shade < 200)


def champion_version(model_name: str) -> str:
    """The version the registry's champion alias points at (the one truth of which version is champion)."""
    from cother_ml import registry

    return registry.champion_version(model_name)


def published_forecasters(model_name: str, version: str) -> dict[str, dict[int, str]]:
    """Per region and horizon, the forecaster of the version's latest forecast, as the warehouse holds
    them (the demo publishes persistence 7 days ahead: the model lost that horizon)."""
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select distinct on (region, horizon_days) region, horizon_days, forecaster from marts.fct_forecasts"
            " where model_name = %s and model_version = %s order by region, horizon_days, origin_date desc",
            (model_name, version),
        )
        found: dict[str, dict[int, str]] = {}
        for region, horizon, name in cur.fetchall():
            found.setdefault(region, {})[horizon] = name
    return found


def surge_warned(model_name: str, version: str) -> set[tuple[str, int]]:
    """The (region, horizon) forecasts of the version that warn of a surge, as the warehouse holds them."""
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select region, horizon_days from marts.fct_surge_warnings"
            " where model_name = %s and model_version = %s and is_warned",
            (model_name, int(version)),
        )
        return set(cur.fetchall())


def in_words(name: str) -> str:
    return name.replace("_", " ")


def made_by(name: str, version: str) -> str:
    return f"model v{version}" if name == "model" else in_words(name)


def assert_forecasters_named(browser, region_set: str, model_name: str, version: str) -> dict[str, dict[int, str]]:
    """On the overview, each region's cell of each horizon names who made its forecast as the warehouse
    has it (the champion version trained on every region here), a persistence forecast a whole number of
    weeks ahead without its change (it is the count it would be compared with), and the set's line says
    who made each horizon's forecasts. Returns the forecasters."""
    from selenium.webdriver.common.by import By

    grain, forecasters = grain_of(region_set), published_forecasters(model_name, version)
    section = browser.find_element(By.CSS_SELECTOR, f"section[data-set='{region_set}']")
    for region, by_horizon in forecasters.items():
        assert set(by_horizon) == set(grain.horizons), (region, by_horizon)
        row = section.find_element(By.CSS_SELECTOR, f"tr[data-region='{region}']")
        for horizon, name in by_horizon.items():
            cell = row.find_element(By.CSS_SELECTOR, f"td[data-horizon='{horizon}']")
            assert cell.find_element(By.CLASS_NAME, "by").text.endswith(f" · {made_by(name, version)}"), cell.text
            if name == "persistence":  # no change shown (a surge warning's chance may be)
                assert not cell.find_elements(By.CLASS_NAME, "change"), cell.text
    made = section.find_element(By.CLASS_NAME, "made-by").text
    for horizon in grain.horizons:
        (name,) = {by_horizon[horizon] for by_horizon in forecasters.values()}
        beat = "" if name == "model" else f", which beat model v{version} on its backtest"
        assert f"{grain.label(horizon)}: {made_by(name, version)}{beat}" in made, made
    return forecasters


def assert_fits_its_frame(browser) -> None:
    """At the browser's 1,400 pixels, the page does not scroll sideways: each table fits the frame that
    would scroll it (overflow-x: auto)."""
    assert browser.get_window_size()["width"] == 1400
    page, frames = browser.execute_script(
        "const page = document.documentElement;"
        "return [[page.scrollWidth, page.clientWidth], Array.from(document.querySelectorAll('.frame'),"
        " frame => [frame.scrollWidth, frame.clientWidth, getComputedStyle(frame).overflowX])];"
    )
    assert page[0] <= page[1], page
    assert frames and all(wide <= room and overflow == "auto" for wide, room, overflow in frames), frames


def assert_region_chart(browser, chart, forecasters: dict[int, str], grain, version: str) -> None:
    """A region's chart: each horizon's live forecast and backtest named by who made the live one, the
    first horizon's other naive forecasters dashed, the first horizon's backtest drawn with its 50 % and
    95 % intervals and each live forecast with its own; then the coverage so far said (the suite's
    forecasts are all of days not yet reported: none scored)."""
    from selenium.webdriver.common.by import By

    legend, first = chart.text, grain.label(grain.first_horizon)
    for horizon, name in forecasters.items():
        label = grain.label(horizon)
        assert f"published {label}: {made_by(name, version)}" in legend, legend
        assert f"{in_words(name)}, {label} (backtest)" in legend, legend
    for name in grain.naive[:2]:
        assert name == forecasters[grain.first_horizon] or f"{in_words(name)}, {first} (backtest)" in legend
    assert "reported" in legend and "50 % interval" in legend and "95 % interval" in legend, legend
    assert len(chart.find_elements(By.CSS_SELECTOR, "polygon.band")) == 2  # the backtest's 95 % and 50 % areas
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.band")) == 2 * len(forecasters)  # a bar each, per forecast
    caption = browser.find_element(By.CLASS_NAME, "caption").text
    assert f"50 % (darker) and 95 % intervals of the {first} backtest forecasts and of each published" in caption
    assert painted(chart) > 2000  # lines drawn, not an empty frame
    assert "none scored yet" in browser.find_element(By.ID, "coverage").text


def open_forecasts(browser, url: str):
    """The Forecasts page opened from the UI's navigation; the frame the UI shows it in."""
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/")
    nav = wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "a[href$='plugin/forecasts']"))
    nav[0].click()
    return wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "iframe[src*='forecasts/']"))[0]


def test_the_forecasts_page_lists_every_region_and_draws_a_regions_forecasts(pipeline, logged_in, browser):
    from selenium.webdriver.common.by import By

    frame = open_forecasts(browser, logged_in)
    browser.switch_to.frame(frame)
    try:
        wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tr[data-region='seoul']"))
        version = champion_version(MODEL_NAME)
        forecasters = assert_forecasters_named(browser, "korea", MODEL_NAME, version)
        assert set(forecasters) == set(get_set("korea").ids)  # each province with its forecasts
        assert forecasters["seoul"][7] == "persistence"  # the demo's 7-day forecasts: the model lost that horizon
        assert_fits_its_frame(browser)
        warning = browser.find_elements(By.CSS_SELECTOR, "section[data-set='korea'] td[data-horizon] .surge")
        shown = {
            (
                cell.find_element(By.XPATH, "./../..").get_attribute("data-region"),
                int(cell.find_element(By.XPATH, "./..").get_attribute("data-horizon")),
            )
            for cell in warning
        }
        assert shown == surge_warned(MODEL_NAME, version)  # a surge warning where the champion warns, only there
        assert all(cell.text.startswith("surge warning: ") and cell.text.endswith("% chance") for cell in warning)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert f"{MODEL_NAME} v" in body  # the korea set's champion
        assert "No champion yet" in body  # the world set: no model trained here
        browser.switch_to.default_content()
        screenshot(browser, "forecasts-overview.png")
        browser.switch_to.frame(frame)

        browser.find_element(By.CSS_SELECTOR, "tr[data-region='seoul'] a").click()
        chart = wait_until(browser, lambda b: b.find_elements(By.ID, "cases-chart"))[0]
        assert_region_chart(browser, chart, forecasters["seoul"], grain_of("korea"), version)
        assert "persistence, 7-day (backtest)" in chart.text and "seasonal naive, next-day (backtest)" in chart.text
        surge = browser.find_element(By.ID, "surge").text  # Seoul's forecasts with their chance of a surge
        assert "surge above" in surge and "chance" in surge and "next-day" in surge and "7-day" in surge, surge
        body = browser.find_element(By.TAG_NAME, "body").text
        assert f"{MODEL_NAME} v" in body  # the champion's version
        assert "°C" in browser.find_element(By.ID, "temperature-chart").text  # the weather, with its unit
    finally:
        browser.switch_to.default_content()
    screenshot(browser, "forecasts-seoul.png")


def test_every_port_the_stack_and_its_helpers_listen_on_is_on_loopback(airflow_ui):
    """The API server, the MLflow UI, and no log server (Airflow's bind every interface)."""
    import psutil

    listening = set()
    for process in psutil.Process().children(recursive=True):
        try:
            title = " ".join(process.cmdline())[:60]
            listening |= {
                (title, c.laddr.ip) for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN
            }
        except psutil.Error:
            continue  # a task process that has just ended
    assert any("api_server" in title or "api-server" in title for title, _ in listening), listening
    assert {ip for _, ip in listening} <= {"127.0.0.1", "::1"}, listening
