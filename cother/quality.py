"""The quality gate: a batch is validated with its Great Expectations suite before it is published.

Suites live in expectations/<suite>.json (reviewed like code). Each expectation carries a severity in
its meta: `error` blocks the batch, `warn` lets it through and is reported. The gate prints a short
table of the results (it lands in the Airflow task log), builds the data docs, and raises
QualityGateError naming the source, region, date range and failed expectations.
GX is imported here only, never at DAG parse time.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

import pandas as pd

from cother.settings import PROJECT_ROOT, get_settings

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DOCS_SITE = "cother_data_docs"


class QualityGateError(RuntimeError):
    def __init__(self, report: GateReport) -> None:
        super().__init__(report.describe())
        self.report = report


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass(frozen=True)
class GateReport:
    suite: str
    subject: str  # "<source> region <region> <start>..<end>"
    run_id: str
    outcomes: list[Outcome]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "error"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def table(self) -> str:
        rows = [f"{'result':<6} {'severity':<8} {'expectation':<45} {'column':<22} observed"]
        for o in self.outcomes:
            result = "ok" if o.success else "FAILED"
            rows.append(f"{result:<6} {o.severity:<8} {o.expectation:<45} {o.column or '':<22} {o.observed}")
        return "\n".join(rows)

    def describe(self) -> str:
        verdict = "passed" if self.passed else "failed"
        lines = [f"quality gate {verdict}: suite {self.suite} on {self.subject} (validation {self.run_id})"]
        for o in self.failures + self.warnings:
            where = f" column {o.column}" if o.column else ""
            lines.append(f"  {o.severity}: {o.expectation}{where}: {o.observed}")
        return "\n".join(lines)


def _observed(result: dict, exception: dict | None) -> str:
    if exception and exception.get("raised_exception"):
        return f"error: {exception.get('exception_message')}"
    if "unexpected_count" in result:
        sample = result.get("partial_unexpected_list") or []
        return f"{result['unexpected_count']} unexpected of {result.get('element_count')}, e.g. {sample[:5]}"
    return f"observed {result.get('observed_value')}"


@cache
def _context():
    """One in-memory GX context per process: nothing is written to the repository; data docs go to the runtime folder."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        site_name=DOCS_SITE,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(get_settings().data_docs_dir),
            },
        },
    )
    context.data_sources.add_pandas("batches")
    return context


def load_suite(name: str):
    from great_expectations.core import ExpectationSuite

    path = EXPECTATIONS_DIR / f"{name}.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    suite = ExpectationSuite(**spec)
    if len(suite.expectations) != len(spec["expectations"]):
        kept = {e.expectation_type for e in suite.expectations}
        rejected = [e["type"] for e in spec["expectations"] if e["type"] not in kept]
        raise ValueError(f"{path}: GX rejected expectations {rejected}")
    return suite


def _validation(suite_name: str):
    import great_expectations as gx

    context = _context()
    suite = context.suites.add_or_update(load_suite(suite_name))
    source = context.data_sources.get("batches")
    try:
        batch = source.get_asset(suite_name).get_batch_definition("whole")
    except LookupError:
        batch = source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("whole")
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite_name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )


def validate(
    frame: pd.DataFrame, suite_name: str, subject: str, first_day: date, last_day: date, parameters: dict | None = None
) -> GateReport:
    """Validate one batch; the suite's parameters are the batch's window (and any given). Prints the result table."""
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = uuid.uuid4().hex
    parameters = {
        "days_in_range": (last_day - first_day).days + 1,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        **(parameters or {}),
    }
    checkpoint = _validation(suite_name)
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_id, run_time=datetime.now(UTC)),
    )
    (validation,) = result.run_results.values()
    outcomes = [
        Outcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            severity=(r.expectation_config.meta or {}).get("severity", "error"),
            success=bool(r.success),
            observed=_observed(r.result or {}, r.exception_info),
        )
        for r in validation.results
    ]
    report = GateReport(suite=suite_name, subject=subject, run_id=run_id, outcomes=outcomes)
    print(report.describe())
    print(report.table())
    return report


def gate(
    frame: pd.DataFrame, suite_name: str, subject: str, first_day: date, last_day: date, parameters: dict | None = None
) -> GateReport:
    """Validate and raise QualityGateError when an `error` expectation failed."""
    report = validate(frame, suite_name, subject, first_day, last_day, parameters)
    if not report.passed:
        raise QualityGateError(report)
    return report
