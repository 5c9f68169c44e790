"""The whole local stack under one daily run for all regions: the peak memory of PostgreSQL plus
`airflow standalone` (every process, proportional set size) while the pipeline runs (target: under
2 GiB), and the run's end-to-end wall time, from triggering cother_ingest to the end of cother_retrain.

The history (cases of 17 regions, 2021-01-01..2021-09-30, and their weather) is published first; the
daily run for 2021-10-01 then fetches the cases from the bundle and the weather from a loopback server
that answers in Open-Meteo's documented format (values from the bundled Seoul observations).

Run: .venv/bin/python bench/stack.py   (about 5 minutes)
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pandas as pd
import psutil
from bench_runtime import ROOT, empty_warehouse
from load import weather_payload

from cother import ingest, postgres
from cother.airflow_runner import dag_runs, migrate, standalone, wait_for
from cother.regions import all_regions
from cother.settings import get_settings

HISTORY_START, DAY = date(2021, 1, 1), date(2021, 10, 1)
REGIONS = sorted(region for region in all_regions() if region != "korea")
SEOUL = pd.read_csv(ROOT / "data" / "sample" / "kma_asos_daily_stn108_seoul.csv")


class OpenMeteo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 -- the http.server API
        query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
        start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
        body = weather_payload([start + timedelta(days=n) for n in range((end - start).days + 1)], SEOUL)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def stack_processes() -> list[psutil.Process]:
    """This benchmark's airflow standalone and PostgreSQL, with all their children."""
    pid_file = get_settings().postgres_dir / "data" / "postmaster.pid"
    roots = [child for child in psutil.Process().children() if "standalone" in " ".join(child.cmdline())]
    roots.append(psutil.Process(int(pid_file.read_text().split()[0])))
    return [process for root in roots for process in [root, *root.children(recursive=True)]]


def stack_memory() -> dict[str, int]:
    """PSS per kind of process (the first words of its title)."""
    kinds: dict[str, int] = {}
    for process in stack_processes():
        try:
            title = " ".join(process.cmdline()).replace(str(ROOT / ".venv"), "")[:70]
            kinds[title] = kinds.get(title, 0) + process.memory_full_info().pss
        except psutil.Error:
            pass  # it ended between the listing and the reading
    return kinds


def publish_history() -> None:
    empty_warehouse()
    for region in REGIONS:
        for source in ("open_meteo", "sample_cases"):
            ingest.publish(ingest.validate(ingest.land(source, region, HISTORY_START, DAY - timedelta(days=1))))


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OpenMeteo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.update(
        COTHER_OPEN_METEO_URL=f"http://127.0.0.1:{server.server_port}/v1/archive",
        COTHER_REGIONS=",".join(REGIONS),
        COTHER_WEATHER_SOURCE="open_meteo",
    )
    postgres.start()
    try:
        settings = get_settings()
        migrate(settings.runtime_dir / "logs" / "bench-stack.log")
        publish_history()
        with standalone(settings.runtime_dir / "logs" / "bench-stack-standalone.log") as env:
            for dag_id in ("cother_ingest", "cother_transform", "cother_retrain"):
                subprocess.run(["airflow", "dags", "unpause", dag_id], env=env, check=True, capture_output=True)
            idle = sum(stack_memory().values())
            retrains = len(dag_runs("cother_retrain"))
            conf = {"start_date": str(DAY), "end_date": str(DAY), "regions": REGIONS}
            started = time.perf_counter()
            subprocess.run(["airflow", "dags", "trigger", "cother_ingest", "-c", json.dumps(conf)], env=env, check=True)
            peak, at_peak = idle, {}

            def retrained():
                nonlocal peak, at_peak
                kinds = stack_memory()
                if sum(kinds.values()) > peak:
                    peak, at_peak = sum(kinds.values()), kinds
                runs = dag_runs("cother_retrain")[retrains:]
                return runs and runs[-1][1] in ("success", "failed") and runs

            runs = wait_for(retrained, 900, "the daily run through cother_retrain", every_s=0.5)
            wall = time.perf_counter() - started
        states = {dag_id: dag_runs(dag_id)[-1][1] for dag_id in ("cother_ingest", "cother_transform", "cother_retrain")}
        print(f"one daily run ({DAY}) for {len(REGIONS)} regions, ingest to retrain: {wall:.1f} s; runs {states}")
        print(
            f"stack memory (PSS of PostgreSQL and airflow standalone): idle {idle / 2**30:.2f} GiB, peak {peak / 2**30:.2f} GiB (target: under 2 GiB)"
        )
        print("  at the peak, by process:")
        for title, pss in sorted(at_peak.items(), key=lambda kind: -kind[1]):
            print(f"  {pss / 2**20:7.0f} MiB  {title}")
        assert runs[-1][1] == "success", "cother_retrain failed: see the task logs"
    finally:
        postgres.stop()
        server.shutdown()


if __name__ == "__main__":
    main()
