"""Score the engine on MADiE test cases: each case read through the real ingest, evaluated, compared.

A case folder (``<MeasureName>/<case-id>/``, as cqframework's ecqm-content repositories lay them out) holds one
JSON file per FHIR resource plus one MeasureReport with the expected population counts, the measurement period and
the subject. Why the real ingest: a case must reach the engine the way any source does (connector -> records ->
store), so the eval also checks that the connector keeps what the measures need. Each case gets its own empty
data dir: MADiE patients share identifiers and names across cases, and the patient index must not join them.
The MeasureReport is read here for the expectations; ingest reads the same folder and ignores it (the FHIR
connector maps no MeasureReport).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.measures.engine import MEASURES, patient_data
from assistant.measures.period import MeasurementPeriod, parse_period
from assistant.measures.results import POPULATIONS, MeasureResult


@dataclass(frozen=True)
class Expectation:
    """What a case's MeasureReport says: populations (0/1), the period and the subject (Patient.id)."""

    case_id: str
    populations: dict[str, int]
    period: MeasurementPeriod
    subject: str | None
    description: str | None


@dataclass
class CaseOutcome:
    measure: str
    case_id: str
    expected: dict[str, int]
    got: dict[str, int] = field(default_factory=dict)
    result: MeasureResult | None = None
    error: str | None = None

    @property
    def agrees(self) -> bool:
        return self.error is None and all(self.got.get(name) == count for name, count in self.expected.items())


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def read_expectation(case_dir: Path) -> Expectation:
    """The case's MeasureReport, as an Expectation; ValueError when the folder has none."""
    for path in sorted(case_dir.glob("*.json")):
        try:
            resource = _read_json(path)
        except (OSError, ValueError):
            continue
        if not isinstance(resource, dict) or resource.get("resourceType") != "MeasureReport":
            continue
        populations: dict[str, int] = {}
        for group in resource.get("group") or []:
            for population in group.get("population") or []:
                code = ((population.get("code") or {}).get("coding") or [{}])[0].get("code")
                if code in POPULATIONS:
                    populations[code] = int(population.get("count") or 0)
            break  # both measures have one group
        period = resource.get("period") or {}
        subject = None
        for contained in resource.get("contained") or []:
            for parameter in contained.get("parameter") or []:
                if parameter.get("name") == "subject":
                    subject = parameter.get("valueString")
        description = next(
            (
                e.get("valueMarkdown")
                for e in resource.get("extension") or []
                if "testCaseDescription" in str(e.get("url"))
            ),
            None,
        )
        return Expectation(
            case_dir.name, populations, parse_period(period["start"], period["end"]), subject, description
        )
    raise ValueError(f"{case_dir}: no MeasureReport with the expected populations")


def evaluate_case(measure: str, case_dir: Path) -> CaseOutcome:
    """Ingest one case into a fresh data dir, evaluate its patient, compare with the MeasureReport."""
    from assistant.context import open_context
    from assistant.ingest.pipeline import ingest_paths
    from assistant.settings import Settings

    try:
        expectation = read_expectation(case_dir)
    except (ValueError, KeyError) as exc:
        return CaseOutcome(measure, case_dir.name, {}, error=str(exc))
    outcome = CaseOutcome(measure, case_dir.name, expectation.populations)
    with tempfile.TemporaryDirectory(prefix="caretrail-measure-case-") as tmp:
        context = open_context(Settings(data_dir=Path(tmp)))
        summary = ingest_paths(context.ingest_deps, [case_dir])
        if summary.errors:
            outcome.error = f"ingest: {summary.errors[0]}"
            return outcome
        store = context.patients
        ids = store.find_patient_ids(f"fhir|{expectation.subject}") if expectation.subject else []
        if len(ids) != 1:
            listed = store.list_patients(limit=2)
            ids = [listed[0].id] if len(listed) == 1 else []
        if not ids:
            outcome.error = f"no single patient for subject {expectation.subject!r}"
            return outcome
        result = MEASURES[measure](patient_data(store, ids[0]), expectation.period)
        context.engine.dispose()
    outcome.result = result
    outcome.got = {name: int(value) for name, value in result.populations.items()}
    return outcome


def evaluate_cases(root: Path, measures: list[str] | None = None) -> tuple[dict[str, Any], list[CaseOutcome]]:
    """Every ``<MeasureName>/<case-id>/`` under ``root``; the report has the shape ``caretrail eval measures --json``
    prints. Folders of measures we do not implement are listed under ``not_implemented`` and skipped."""
    report: dict[str, Any] = {"cases": 0, "agree": 0, "measures": {}, "not_implemented": []}
    outcomes: list[CaseOutcome] = []
    for measure_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        case_dirs = sorted(p for p in measure_dir.iterdir() if p.is_dir())
        if not case_dirs or not any(case.glob("*.json") for case in case_dirs[:1]):
            continue  # not a measure folder (value sets, libraries, CQL)
        if measure_dir.name not in MEASURES:
            if any(any(case.glob("MeasureReport*.json")) for case in case_dirs):
                report["not_implemented"].append(measure_dir.name)
            continue
        if measures and measure_dir.name not in measures:
            continue
        entry: dict[str, Any] = {
            "cases": 0,
            "agree": 0,
            "populations": {name: {"agree": 0, "total": 0} for name in POPULATIONS},
            "disagreements": [],
        }
        for case_dir in case_dirs:
            outcome = evaluate_case(measure_dir.name, case_dir)
            outcomes.append(outcome)
            entry["cases"] += 1
            entry["agree"] += outcome.agrees
            if outcome.error:
                entry["disagreements"].append(
                    {"case": outcome.case_id, "population": None, "expected": None, "got": None, "error": outcome.error}
                )
            for name, count in outcome.expected.items():
                tally = entry["populations"].setdefault(name, {"agree": 0, "total": 0})
                tally["total"] += 1
                got = outcome.got.get(name)
                if got == count:
                    tally["agree"] += 1
                elif outcome.error is None:
                    entry["disagreements"].append(
                        {"case": outcome.case_id, "population": name, "expected": count, "got": got}
                    )
        report["measures"][measure_dir.name] = entry
        report["cases"] += entry["cases"]
        report["agree"] += entry["agree"]
    return report, outcomes
