"""The test suite runs against its own embedded PostgreSQL, Airflow metadata and MLflow registry.

Everything lives in .runtime/test (wiped at the start of each session) on port COTHER_TEST_PG_PORT
(55433 by default; Redis, for the Celery tests, on COTHER_TEST_REDIS_PORT, 56380), so tests never touch
the demo's data. Under pytest-xdist (`make test` runs two workers, a test file each at a time) worker N
has its own: .runtime/test-gwN, both ports plus 100 N. The environment is set here, before anything
imports cother_core.settings or airflow.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under pytest-xdist
TEST_RUNTIME = ROOT / ".runtime" / (f"test-{WORKER}" if WORKER else "test")
PORT_OFFSET = 100 * int(WORKER.removeprefix("gw")) if WORKER else 0

os.environ.pop("COTHER_DATABASE_URL", None)
os.environ.pop("COTHER_AIRFLOW_DATABASE_URL", None)
os.environ.pop("COTHER_MLFLOW_DATABASE_URL", None)
os.environ["COTHER_RUNTIME_DIR"] = str(TEST_RUNTIME)
os.environ["COTHER_LANDING_DIR"] = str(TEST_RUNTIME / "landing")
os.environ["COTHER_PG_PORT"] = str(int(os.environ.get("COTHER_TEST_PG_PORT", "55433")) + PORT_OFFSET)
os.environ["COTHER_REDIS_PORT"] = str(int(os.environ.get("COTHER_TEST_REDIS_PORT", "56380")) + PORT_OFFSET)

from cother.local import postgres  # noqa: E402
from cother.orchestration.airflow_env import configure_airflow  # noqa: E402

# The last session's server stopped and its folder wiped before anything reads the runtime folder:
# configure_airflow's database URL carries the embedded server's password, generated into it.
postgres.EmbeddedPostgres().stop()
shutil.rmtree(TEST_RUNTIME, ignore_errors=True)
configure_airflow()

RAW_AND_MART_SCHEMAS = ["raw", "quarantine", "ml", "reference", "staging", "intermediate", "marts"]


@pytest.fixture(scope="session")
def postgres_server():
    """A fresh embedded PostgreSQL for the session (its folder wiped above), with the warehouse, Airflow
    and MLflow databases."""
    server = postgres.EmbeddedPostgres()
    postgres.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def airflow_db(postgres_server):
    from cother.orchestration.airflow_runner import migrate

    migrate(log=TEST_RUNTIME / "logs" / "airflow-migrate.log")


@contextmanager
def registered_model(name: str) -> Iterator[str]:
    """Register under a model name of the test module's own (COTHER_MODEL_NAME) while the block runs,
    so that one module's versions and aliases do not meet another's."""

    before = os.environ.get("COTHER_MODEL_NAME")
    os.environ["COTHER_MODEL_NAME"] = name
    try:
        yield name
    finally:
        if before is None:
            os.environ.pop("COTHER_MODEL_NAME")
        else:
            os.environ["COTHER_MODEL_NAME"] = before


def group_ended(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return False
    except ProcessLookupError:
        return True


@pytest.fixture(scope="module")
def mlflow_ui(postgres_server):
    """The MLflow UI that `make mlflow-ui` serves (`cother mlflow-ui`), on a free port, started from a
    shell whose PATH does not have the venv's bin folder (as a fresh shell's)."""
    import signal
    import subprocess
    import sys
    import urllib.request

    from cother.orchestration.airflow_runner import free_port, wait_for

    def healthy(url: str) -> bool:
        try:
            urllib.request.urlopen(url, timeout=10).close()
            return True
        except OSError:
            return False

    port, venv_bin = free_port(), Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv_bin)
    log = TEST_RUNTIME / "logs" / "mlflow-ui.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        command = [str(venv_bin / "cother"), "mlflow-ui", "--port", str(port)]
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PATH": path}, start_new_session=True
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: process.poll() is None and healthy(f"{url}/health"), 120, f"the MLflow UI (log: {log})")
            yield url
        finally:  # `cother mlflow-ui` ends at once, its server after it
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(60)
            wait_for(lambda: group_ended(process.pid), 60, "the MLflow UI to stop", every_s=0.5)


def mlflow_request(url: str, body: dict | None = None, login: bool = True, password: str | None = None):
    """A request to the MLflow UI's server (a POST of `body` if given), as its admin (with `password`, by
    default the generated one) or, without `login`, as anyone; its answer."""
    import base64
    import json
    import urllib.request

    from cother.local import mlflow_server

    headers = {"Content-Type": "application/json"}
    if login:
        credentials = f"{mlflow_server.ADMIN}:{password or mlflow_server.admin_password()}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    return urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=60)


@pytest.fixture
def api(monkeypatch):
    """The loopback stand-in for every live source (tests/fake_api.py), with short retries."""
    from fake_api import KDCA, KMA, OPEN_METEO, WHO, WHO_WEEKLY, FakeApi

    fake = FakeApi()
    monkeypatch.setenv("COTHER_OPEN_METEO_URL", fake.url(OPEN_METEO))
    monkeypatch.setenv("COTHER_KMA_URL", fake.url(KMA))
    monkeypatch.setenv("COTHER_KDCA_URL", fake.url(KDCA))
    monkeypatch.setenv("COTHER_WHO_URL", fake.url(WHO))
    monkeypatch.setenv("COTHER_WHO_WEEKLY_URL", fake.url(WHO_WEEKLY))
    monkeypatch.setenv("COTHER_DATA_GO_KR_SERVICE_KEY", "test-service-key")
    monkeypatch.setenv("COTHER_HTTP_BACKOFF_BASE_S", "0.05")
    monkeypatch.setenv("COTHER_HTTP_ATTEMPTS", "3")
    monkeypatch.setenv("COTHER_HTTP_READ_TIMEOUT_S", "0.5")
    yield fake
    fake.close()


def empty_warehouse() -> None:
    """The raw, quarantine and dbt schemas dropped, the raw tables created again."""
    from cother_core.database import connect
    from cother_core.warehouse import apply_schema

    with connect() as conn, conn.cursor() as cur:
        for schema in RAW_AND_MART_SCHEMAS:
            cur.execute(f"drop schema if exists {schema} cascade")  # noqa: S608 -- fixed names above
    apply_schema()


def land(source: str, regions, start, end, force: bool = False) -> dict:
    """One batch of a source for these regions (an id or a list of ids) and days, landed."""
    from cother.ingest import stages
    from cother.ingest.sources import get_source

    kind = get_source(source).kind
    regions = [regions] if isinstance(regions, str) else list(regions)
    request = {f"{kind}_source": source, f"{kind}_regions": regions, "start": str(start), "end": str(end)}
    return stages.land({**request, "regions": regions, "force_fetch": force}, kind)


def check(batch: dict) -> dict:
    """The batch through its gate; RegionsFailed naming every region that failed."""
    from cother.ingest import stages

    return stages.raise_failures(stages.validate(batch))


def load(source: str, regions, start, end) -> dict:
    """Landed, validated (RegionsFailed if any region fails) and published."""
    from cother.ingest import stages

    return stages.publish(check(land(source, regions, start, end)))


def publish_seoul(start, end) -> None:
    """The bundled Seoul weather and cases of these days landed, validated and published."""
    for source in ("sample_weather", "sample_cases"):
        load(source, "seoul", start, end)


@pytest.fixture
def warehouse(postgres_server):
    """An empty warehouse and an empty landing zone."""
    empty_warehouse()
    shutil.rmtree(TEST_RUNTIME / "landing", ignore_errors=True)


def table_contents(table: str) -> list[tuple]:
    """Every row of a table but its load time, in a stable order."""
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"select * from {table}")  # noqa: S608 -- test helper, table names from the tests
        columns = [column.name for column in cur.description]
        keep = [i for i, name in enumerate(columns) if name != "loaded_at"]
        return sorted(tuple(str(row[i]) for i in keep) for row in cur.fetchall())


def card_of(summary, weather, drift) -> str:
    """The model card of a model `m` with these backtest scores, weather test and drift, and nothing else of note."""
    from cother_ml import report
    from cother_ml.grain import DAILY

    return report.model_card(
        "m",
        DAILY,
        version_tags={},
        summary=summary,
        decision="why",
        importance={"h1": {"x": 1}},
        published={},
        weather=weather,
        drift=drift,
        intervals=[],
        surge=[],
    )


def row_count(table: str) -> int:
    from cother_core.database import connect

    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"select count(*) from {table}")  # noqa: S608 -- test helper
        return cur.fetchone()[0]


# Headless Chromium (Debian's chromium and chromedriver, which `make test` installs), for the browser tests.
ARTIFACTS = Path(os.environ.get("COTHER_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    yield driver
    driver.quit()


def wait_until(browser, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 120).until(condition)


def screenshot(browser, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / name))


TIERS = ("unit", "integration", "system")
# The files that take longest under `make test` (about four minutes or more each), started first so that no
# worker is left with one of them at the end.
SLOWEST_FIRST = ("test_backfill.py", "test_celery.py", "test_airflow_ui.py", "test_faults.py", "test_end_to_end.py")


def pytest_configure(config):
    """pytest-xdist hands the files to its workers in the order below (by default it would reorder them,
    the files with the most tests first)."""
    if config.pluginmanager.hasplugin("xdist"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    """Every test is in exactly one tier (`make test-fast` runs the unit tier), and a unit test uses no
    service: it may not ask for the embedded PostgreSQL. The slowest files (SLOWEST_FIRST) run first,
    then those with system tests, then those with integration tests, each file's tests together, so
    that the two workers of `make test` end at about the same time."""
    file_rank: dict = {}
    for item in items:
        tiers = {marker.name for marker in item.iter_markers() if marker.name in TIERS}
        if len(tiers) != 1:
            raise pytest.UsageError(f"{item.nodeid} is in tiers {sorted(tiers)}: mark it with one of {TIERS}")
        if tiers == {"unit"} and "postgres_server" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses PostgreSQL: mark it integration or system")
        rank = TIERS[::-1].index(tiers.pop())
        if item.path.name in SLOWEST_FIRST:
            rank = SLOWEST_FIRST.index(item.path.name) - len(SLOWEST_FIRST)
        file_rank[item.path] = min(rank, file_rank.get(item.path, rank))
    items.sort(key=lambda item: file_rank[item.path])
