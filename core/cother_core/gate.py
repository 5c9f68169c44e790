"""The quality gate: a batch is validated with its Great Expectations suite before it is published.

Suites live in expectations/<suite>.json (reviewed like code). Each expectation carries a severity in
its meta: `error` stops what it fails, `warn` lets it through and is reported; and a grain: what an
error stops. `region` (the default) refuses the region's whole batch; `day` holds back the failing days
and `cell` the failing column's values on them (a count the model does not read), while the rest of the
region's batch publishes; a day rule that fails every day of a region refuses it whole. A batch holds
many regions and is validated in one run; every rule is judged row by row (cother.quality.batch_checks
adds the columns that make whole-region rules row-wise), so each region gets its own verdict: the
failing rows name their regions. The gate prints a line per region and each failure in full (it lands
in the Airflow task log), builds the data docs, and QualityGateError names the source, region, date
range, rule, expected and observed value.
GX is imported here only, never at DAG parse time.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pandas as pd

from cother_core.settings import PROJECT_ROOT, get_settings

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DOCS_SITE = "cother_data_docs"


class QualityGateError(RuntimeError):
    def __init__(self, *reports: GateReport) -> None:
        super().__init__("\n".join(report.describe() for report in reports))
        self.reports = reports


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str
    grain: str = "region"  # what an error stops: the region's batch, the failing days, or their cells
    value: object = field(default=None, compare=False)  # GX's observed_value of a rule of the whole column
    rows: tuple[int, ...] = field(default=(), compare=False)  # the failing rows of the region (frame index)

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key not in ("value", "rows")}


@dataclass(frozen=True)
class GateReport:
    suite: str
    subject: str  # "source <source>, region <region>, dates <start>..<end>, batch <batch>"
    run_id: str
    outcomes: list[Outcome]

    @property
    def failures(self) -> list[Outcome]:
        """The errors that refuse the region's batch."""
        return [o for o in self.outcomes if not o.success and o.severity == "error" and o.grain == "region"]

    @property
    def held(self) -> list[Outcome]:
        """The errors that hold back days or cells of the batch while the rest publishes."""
        return [o for o in self.outcomes if not o.success and o.severity == "error" and o.grain != "region"]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "error"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        verdict = "failed" if not self.passed else "passed, parts held back" if self.held else "passed"
        lines = [f"quality gate {verdict}: suite {self.suite} on {self.subject} (validation {self.run_id})"]
        for o in self.failures + self.held + self.warnings:
            where = f" column {o.column}" if o.column else ""
            held = f", {o.grain}s held back" if o.grain != "region" and o.severity == "error" else ""
            lines.append(f"  {o.severity}{held}: {o.expectation}{where}: {o.observed}")
        return "\n".join(lines)


def _observed(result: dict, exception: dict | None, expected: str) -> str:
    prefix = f"expected {expected}; " if expected else ""
    if exception and exception.get("raised_exception"):
        return f"{prefix}error: {exception.get('exception_message')}"
    if "unexpected_count" in result:
        sample = result.get("partial_unexpected_list") or []
        return f"{prefix}observed {result['unexpected_count']} unexpected of {result.get('element_count')}, e.g. {sample[:5]}"
    return f"{prefix}observed {result.get('observed_value')}"


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
    path = EXPECTATIONS_DIR / f"{name}.json"
    return build_suite(json.loads(path.read_text(encoding="utf-8")), path)


def build_suite(spec: dict, where):
    """A suite from its JSON form (a file's, or one built in code: where names it); raises naming the
    expectations GX rejected."""
    from great_expectations.core import ExpectationSuite

    suite = ExpectationSuite(**spec)
    if len(suite.expectations) != len(spec["expectations"]):
        kept = {e.expectation_type for e in suite.expectations}
        rejected = [e["type"] for e in spec["expectations"] if e["type"] not in kept]
        raise ValueError(f"{where}: GX rejected expectations {rejected}")
    return suite


def _validation(suite_name: str, built=None):
    """The suite's checkpoint in this process's context, made anew from the suite as it is now. What an
    earlier validation of the suite added is deleted first: `add_or_update` would compare every
    expectation of the stored suite with every one of the new (a drift suite's took seconds)."""
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    context = _context()
    for store in (context.checkpoints, context.validation_definitions, context.suites):
        try:
            store.delete(suite_name)
        except DataContextError:
            pass  # the suite's first validation in this process
    suite = context.suites.add(built or load_suite(suite_name))
    source = context.data_sources.get("batches")
    try:
        batch = source.get_asset(suite_name).get_batch_definition("whole")
    except LookupError:
        batch = source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("whole")
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    return context.checkpoints.add(
        gx.Checkpoint(
            name=suite_name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": 5},
        )
    )


def _outcomes(frame: pd.DataFrame, results, regions: list[str]) -> dict[str, list[Outcome]]:
    """Each expectation's outcome for each region: a row-wise rule fails the regions of its unexpected
    rows; a rule of the whole table (columns, types) fails every region."""
    by_region: dict[str, list[Outcome]] = {region: [] for region in regions}
    row_region = frame["region"].to_numpy() if "region" in frame else None
    for result in results:
        config = result.expectation_config
        kwargs = config.kwargs
        meta = config.meta or {}
        common = {
            "expectation": config.type,
            "column": kwargs.get("column")
            or kwargs.get("column_A")
            or ",".join(kwargs.get("column_list") or [])
            or None,
            "severity": meta.get("severity", "error"),
        }
        details = result.result or {}
        common["value"] = details.get("observed_value")
        unexpected = details.get("unexpected_index_list")
        failing: dict[str, list[int]] = {}
        if not result.success and unexpected is not None and row_region is not None:
            for index in unexpected:
                failing.setdefault(row_region[index], []).append(index)
        for region in regions:
            if result.success or (unexpected is not None and region not in failing):
                outcome = Outcome(**common, success=True, observed=_observed(details, None, expected=""))
            elif unexpected is not None:
                rows = failing[region]
                of = int((row_region == region).sum())
                shown = _examples(frame, rows, kwargs)
                observed = f"expected {_expected(kwargs)}; observed {len(rows)} unexpected of {of} rows, e.g. {shown}"
                grain = meta.get("grain", "region")
                if grain == "day" and len(rows) == of:  # no day of the region can be trusted: refuse it whole
                    grain = "region"
                outcome = Outcome(**common, success=False, observed=observed, grain=grain, rows=tuple(rows))
            else:
                observed = _observed(details, result.exception_info, expected=_expected(kwargs))
                outcome = Outcome(**common, success=False, observed=observed)
            by_region[region].append(outcome)
    return by_region


def _expected(kwargs: dict) -> str:
    if "partition_object" in kwargs:
        return f"a KL divergence from the training window's distribution of at most {kwargs['threshold']:g}"
    if "value_set" in kwargs:
        return f"values in {kwargs['value_set']}"
    if "min_value" in kwargs or "max_value" in kwargs:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if high is None:
            return f"at least {low:g}"
        if low is None:
            return f"at most {high:g}"
        return f"between {low:g} and {high:g}"
    if "column_A" in kwargs:
        relation = "at least" if kwargs.get("or_equal") else "="
        return f"{kwargs['column_A']} {relation} {kwargs['column_B']}"
    if "column_list" in kwargs:
        return f"one row per {', '.join(kwargs['column_list'])}"
    if "column_set" in kwargs:
        return f"columns {sorted(kwargs['column_set'])}"
    if "type_list" in kwargs:
        return f"types {kwargs['type_list']}"
    if "value" in kwargs:  # expect_table_row_count_to_equal, expect_table_column_count_to_equal
        return f"{kwargs['value']}"
    return "not null" if "column" in kwargs else "the rule to hold"


def _examples(frame: pd.DataFrame, rows: list[int], kwargs: dict) -> str:
    """A few failing rows: their day and the values the rule read."""
    columns = [kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs]
    columns += list(kwargs.get("column_list") or [])
    day_column = "date" if "date" in frame else "date_day"
    shown = []
    for index in rows[:3]:
        values = ", ".join(
            f"{column} {frame.at[index, column]}" for column in dict.fromkeys(columns) if column in frame
        )
        shown.append(f"{frame.at[index, day_column]}: {values}")
    return "; ".join(shown)


def _release_batches() -> None:
    """Drop the batches the context's pandas engine keeps after a run: it holds the last frame of every
    suite it validated (a training slice: a copy of the mart) for as long as the process lives."""
    batches = _context().data_sources.get("batches").get_execution_engine().batch_manager
    batches.reset_batch_cache()
    batches.batch_data_cache.clear()


def validate(frame: pd.DataFrame, suite_name: str, subjects: dict[str, str], suite=None) -> dict[str, GateReport]:
    """Validate a batch of many regions in one run; a report per region (subjects: region -> "<what>
    region <region> <start>..<end>"). Prints one line per region and the failures. The suite is
    expectations/<suite_name>.json unless one built in code is given (build_suite)."""
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = uuid.uuid4().hex
    checkpoint = _validation(suite_name, suite)
    frame = frame.reset_index(drop=True)
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        run_id=RunIdentifier(run_name=run_id, run_time=datetime.now(UTC)),
    )
    _release_batches()
    (validation,) = result.run_results.values()
    outcomes = _outcomes(frame, validation.results, list(subjects))
    reports = {
        region: GateReport(suite=suite_name, subject=subject, run_id=run_id, outcomes=outcomes[region])
        for region, subject in subjects.items()
    }
    print(summary(reports))
    return reports


def summary(reports: dict[str, GateReport]) -> str:
    """One line per region (passed, held back in part, warnings, failed with the first failure), then
    each failure in full."""
    lines = [f"{'region':<16} {'verdict':<8} {'warnings':>8}  first failure"]
    for region, report in reports.items():
        verdict = "FAILED" if not report.passed else "held" if report.held else "passed"
        first = (report.failures or report.held or [None])[0]
        shown = f"{first.expectation} {first.column or ''}".strip() if first else ""
        lines.append(f"{region:<16} {verdict:<8} {len(report.warnings):>8}  {shown}")
    lines += [report.describe() for report in reports.values() if report.failures or report.held or report.warnings]
    return "\n".join(lines)


def gate(frame: pd.DataFrame, suite_name: str, subjects: dict[str, str]) -> dict[str, GateReport]:
    """Validate and raise QualityGateError, naming every failing region, when an `error` expectation
    failed for any region."""
    reports = validate(frame, suite_name, subjects)
    failed = [report for report in reports.values() if not report.passed]
    if failed:
        raise QualityGateError(*failed)
    return reports
