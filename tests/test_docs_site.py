"""The served dbt docs site in headless Chromium (Debian's chromium and chromedriver, which `make
test` installs): a model page shows every column with its description, and the lineage graph draws
the model's parents and consumers. Screenshots are kept in test-artifacts/ (COTHER_TEST_ARTIFACTS);
the browser is conftest's."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from conftest import ROOT, empty_warehouse, publish_seoul, screenshot, wait_until

from cother.transform import dbt, docs_site
from cother_core.settings import get_settings

pytestmark = pytest.mark.system

MODEL = "fct_training_features"
GRAPH_LABELS = "return angular.element(document.body).injector().get('graph').graph.elements.filter(e => !e.data.source).map(e => e.data.label)"
PAINTED_PIXELS = """
const layer = document.querySelector('canvas[data-id="layer2-node"]');
const pixels = layer.getContext('2d').getImageData(0, 0, layer.width, layer.height).data;
let painted = 0;
for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
return painted;
"""


@pytest.fixture(scope="module")
def docs_url(postgres_server):
    empty_warehouse()
    publish_seoul(date(2021, 1, 1), date(2021, 3, 31))
    assert dbt.build()["success"]
    dbt.generate_docs(after_build=True)
    with docs_site.served(0, 0) as (dbt_docs, _):
        yield dbt_docs


def documented_columns() -> dict[str, str]:
    path = ROOT / "dbt_project" / "models" / "marts" / f"{MODEL}.yml"
    (model,) = yaml.safe_load(path.read_text())["models"]
    return {column["name"]: " ".join(column["description"].split()) for column in model["columns"]}


def test_a_model_page_shows_every_column_with_its_description(docs_url, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{docs_url}#!/model/model.cother.{MODEL}")
    wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "column-details tr.column-row"))
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('column-details tr.column-row'))"
        ".map(r => Array.from(r.querySelectorAll('td')).map(c => c.textContent.trim().replace(/\\s+/g, ' ')))"
    )
    shown = {cells[0]: cells for cells in rows if cells}
    for column, description in documented_columns().items():
        assert column in shown, f"column {column} is not on the page"
        assert description in shown[column], f"column {column}: {shown[column]} lacks {description!r}"
    screenshot(browser, "dbt-docs-model-page.png")


def graph_label(node: dict) -> str:
    """How the lineage graph names a node: an exposure by its label, a source as source.table."""
    if node["resource_type"] == "source":
        return f"{node['source_name']}.{node['name']}"
    return node.get("label") or node["name"]


def test_the_lineage_graph_draws_the_models_parents_and_consumers(docs_url, browser):
    from selenium.webdriver.common.by import By

    manifest = json.loads((get_settings().dbt_target_dir / "manifest.json").read_text())
    unique_id = f"model.cother.{MODEL}"
    nodes = {**manifest["nodes"], **manifest["sources"], **manifest["exposures"]}
    neighbours = [*manifest["parent_map"][unique_id], *manifest["child_map"][unique_id], unique_id]
    expected = {graph_label(nodes[node]) for node in neighbours if not node.startswith("test.")}

    browser.get(f"{docs_url}#!/model/{unique_id}")
    wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "a[title='View Lineage Graph']"))[0].click()
    labels = wait_until(browser, lambda b: b.execute_script(GRAPH_LABELS))
    assert set(labels) == expected
    assert wait_until(browser, lambda b: b.execute_script(PAINTED_PIXELS) > 1000)  # the nodes are drawn
    screenshot(browser, "dbt-docs-lineage-graph.png")
