"""The Forecasts page's server-side time (cother/forecast_page): the overview of every region, and one
region's detail, over the 17 provinces x 3 years and the world set x 3 years, each set's champion trained
here, in the benchmarks' own runtime. Targets: the overview under 1 s, a region's detail under 500 ms.

Each figure is the page's HTML built from the warehouse and the registry, as the route answers it: the
first request after the retrains (a region's first one reads the champion's backtest from its MLflow
run) and the median of five after it.

Run: .venv/bin/python bench/forecast_page.py   (about 15 minutes, most of it loading and training)
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date

from bench_runtime import empty_warehouse, load  # sets the runtime before anything imports cother

from cother.forecast_page import app, data, region_view
from cother.ingest.sources import get_source
from cother.local import postgres
from cother.transform import dbt
from cother_core.regions import get_set
from cother_ml.retrain import retrain

START, END = date(2020, 3, 1), date(2023, 2, 28)
SOURCES = {"korea": ("sample_cases", "sample_open_meteo"), "world": ("jhu", "sample_open_meteo")}
DETAIL = {"korea": "seoul", "world": "kr"}
os.environ["COTHER_MODEL_NAME"] = f"cother_bench_forecast_page_{int(time.time())}"  # a new model, a champion of its own


def seconds(build) -> tuple[float, float]:
    """The first call's time and the median of five after it."""
    started = time.perf_counter()
    build()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        build()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


def load_and_train() -> None:
    """Three years of both sets published (a region whose series was revised is quarantined whole),
    the marts built, and each set's model trained."""
    empty_warehouse()
    for region_set, sources in SOURCES.items():
        for source in sources:
            regions = [region.id for region in get_set(region_set).regions if get_source(source).covers(region)]
            load(source, regions, START, END)
    dbt.build()
    for region_set in SOURCES:
        trained = retrain(region_set, moved_by="bench")
        print(f"{region_set}: v{trained['version']} {trained['alias']}, {len(trained['regions'])} regions trained")


def main() -> None:
    postgres.start()
    try:
        load_and_train()
        cold, warm = seconds(lambda: app.overview_html(data.overview()))
        regions = sum(len(get_set(name).ids) for name in SOURCES)
        print(
            f"overview of {regions} regions: first {cold * 1000:.0f} ms, then {warm * 1000:.0f} ms"
            " (target: under 1000 ms)"
        )
        for region_set, region in DETAIL.items():
            cold, warm = seconds(lambda region=region: region_view.html(data.detail(region)))
            print(
                f"detail of {region} ({region_set}, 3 years): first {cold * 1000:.0f} ms, then {warm * 1000:.0f} ms"
                " (target: under 500 ms)"
            )
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
