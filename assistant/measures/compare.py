"""Run both measure engines over a folder of patient bundles and list where they disagree.

Why: Caretrail's CMS165/CMS122 engine is checked against the MADiE cases, but those are a few dozen hand-made
patients. A panel of generated patients exercises the same definitions on many more combinations; there the
stewards' reference engine (`reference.py`, fqm-execution over the stewards' own ELM) is the second opinion, and
where the two disagree the CQL decides which one is wrong.

Each engine reads the data its own way, as it would in use: ours through the real ingest (connector -> records ->
store) and the store read-back, the reference engine from the FHIR bundles themselves, many patients per Node run.
A disagreement that the CQL explains (the engines are both right about different inputs, or the reference engine
follows a CQL line to the letter) is matched by a named `Divergence` that detects it from the bundle's content,
never by patient id, and cites the CQL line that settles it.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.measures import cms122, cms165, reference
from assistant.measures.engine import MEASURES, patient_data
from assistant.measures.period import MeasurementPeriod, parse_period
from assistant.measures.results import MeasureResult
from assistant.measures.valuesets import value_set
from assistant.records.vocabulary import code_system_name

Bundle = dict[str, Any]
Populations = dict[str, int]
POPULATIONS = reference.POPULATION_CODES
DEFAULT_MEASURES = (cms165.MEASURE, cms122.MEASURE)
# Patients per Node run: start-up (1-2 s) is paid once per batch, memory stays bounded.
DEFAULT_BATCH = 250


@dataclass(frozen=True)
class PatientFile:
    """One patient bundle on disk: its file, its Patient.id and the bundle as read."""

    path: Path
    patient_id: str
    bundle: Bundle


@dataclass(frozen=True)
class Divergence:
    """A known, explained difference: which populations it may touch, how to recognise it, and the CQL that
    settles it (so a reader can check the call without re-deriving it)."""

    name: str
    measure: str
    populations: tuple[str, ...]
    cql: str
    applies: Callable[[Bundle, MeasurementPeriod], bool]


@dataclass(frozen=True)
class Disagreement:
    patient_id: str
    file: str
    measure: str
    population: str
    ours: int
    reference: int
    explained_by: str | None = None  # the Divergence's name, or None when nothing explains it


@dataclass
class PatientOutcome:
    """Both engines' populations for one patient, per measure, and our results (with their evidence)."""

    patient_id: str
    file: str
    store_id: str
    ours: dict[str, Populations] = field(default_factory=dict)
    reference: dict[str, Populations] = field(default_factory=dict)
    results: dict[str, MeasureResult] = field(default_factory=dict)


@dataclass
class Timings:
    """Seconds spent, for the benchmark: ingest, our read + evaluate, and the reference engine's runs."""

    ingest: float = 0.0
    ours: float = 0.0
    reference_calculate: float = 0.0  # the engine's own time, Node start-up excluded
    reference_total: float = 0.0  # what a caller waits for: Node start-up, writing and reading files included
    reference_runs: int = 0


@dataclass
class Comparison:
    period: MeasurementPeriod
    measures: tuple[str, ...]
    patients: list[PatientOutcome]
    disagreements: list[Disagreement]
    timings: Timings

    @property
    def unexplained(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.explained_by is None]

    def agreeing_patients(self) -> int:
        """Patients on whom the engines agree on every population of every measure."""
        differing = {d.patient_id for d in self.disagreements}
        return sum(1 for patient in self.patients if patient.patient_id not in differing)


# ---------------------------------------------------------------------------------------- known divergences

GLUCOSE_MANAGEMENT_INDICATOR = ("loinc", cms122.GLUCOSE_MANAGEMENT_INDICATOR)
LAB_DONE = {"final", "amended", "corrected"}  # Status.isLaboratoryTestPerformed


def coded_glycemic_result_on_last_day(bundle: Bundle, period: MeasurementPeriod) -> bool:
    """True when the most recent glycemic-status day in the period has a result coded as a concept."""
    codes = set(value_set("HbA1c Laboratory Test").codes) | {GLUCOSE_MANAGEMENT_INDICATOR}
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    coded_by_day: dict[str, bool] = {}
    for resource in _resources(bundle, "Observation"):
        if resource.get("status") not in LAB_DONE:
            continue
        codings = (resource.get("code") or {}).get("coding") or []
        if not any((code_system_name(str(c.get("system"))), c.get("code")) in codes for c in codings):
            continue
        day = _latest_day(resource)
        if day is None or not first <= day <= last:
            continue
        coded_by_day[day] = coded_by_day.get(day, False) or "valueCodeableConcept" in resource
    return bool(coded_by_day) and coded_by_day[max(coded_by_day)]


KNOWN_DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        name="coded glycemic result",
        measure=cms122.MEASURE,
        populations=("numerator",),
        cql='"Has Most Recent Elevated Glycemic Status Assessment": "Lowest Glycemic Status Assessment Reading on '
        "Most Recent Day\".value as Quantity > 9 '%' is null for a CodeableConcept result, and \"Has Most Recent "
        'Glycemic Status Assessment Without Result": ....value is null is false, so the patient is not in the '
        "numerator",
        applies=coded_glycemic_result_on_last_day,
    ),
)


def explain(measure: str, population: str, bundle: Bundle, period: MeasurementPeriod) -> str | None:
    for divergence in KNOWN_DIVERGENCES:
        if divergence.measure == measure and population in divergence.populations and divergence.applies(
            bundle, period
        ):
            return divergence.name
    return None


# ------------------------------------------------------------------------------------------------- the run


def load_folder(folder: Path) -> list[PatientFile]:
    """Every ``*.json`` in ``folder`` that is a Bundle with a Patient (a manifest or anything else is skipped)."""
    found: list[PatientFile] = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            bundle = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            continue
        patient = next(iter(_resources(bundle, "Patient")), None)
        if patient is not None and patient.get("id"):
            found.append(PatientFile(path, str(patient["id"]), bundle))
    return found


def compare_folder(
    folder: Path,
    period: tuple[str, str],
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    data_dir: Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    shared_dir: Path = reference.DEFAULT_ECQM_DIR,
) -> Comparison:
    """Ingest ``folder`` into ``data_dir`` (a fresh temporary one by default), evaluate every patient with both
    engines for ``period`` (ISO start and end dates) and list each population where they differ."""
    files = load_folder(folder)
    if not files:
        raise ValueError(f"no patient bundles in {folder}")
    if data_dir is not None:
        return _compare(files, period, tuple(measures), Path(data_dir), batch_size, shared_dir)
    with tempfile.TemporaryDirectory(prefix="caretrail-measure-compare-") as tmp:
        return _compare(files, period, tuple(measures), Path(tmp), batch_size, shared_dir)


def _compare(
    files: list[PatientFile],
    period: tuple[str, str],
    measures: tuple[str, ...],
    data_dir: Path,
    batch_size: int,
    shared_dir: Path,
) -> Comparison:
    from assistant.context import open_context
    from assistant.ingest.pipeline import ingest_paths
    from assistant.settings import Settings

    mp = parse_period(*period)
    timings = Timings()
    context = open_context(Settings(data_dir=data_dir))
    started = time.perf_counter()
    summary = ingest_paths(context.ingest_deps, [item.path for item in files])
    timings.ingest = time.perf_counter() - started
    if summary.errors:
        raise RuntimeError(f"ingest failed: {summary.errors[0]}")
    try:
        patients, reference_bundles = _match_store(context.patients, files)
        started = time.perf_counter()
        for outcome in patients:
            data = patient_data(context.patients, outcome.store_id)
            for measure in measures:
                result = MEASURES[measure](data, mp)
                outcome.results[measure] = result
                outcome.ours[measure] = {name: int(value) for name, value in result.populations.items()}
        timings.ours = time.perf_counter() - started
    finally:
        context.engine.dispose()

    for measure in measures:
        by_patient = _run_reference(measure, reference_bundles, period, batch_size, shared_dir, timings)
        for outcome in patients:
            outcome.reference[measure] = by_patient[outcome.patient_id]

    bundles = {item.patient_id: item.bundle for item in files}
    disagreements = [
        Disagreement(
            outcome.patient_id, outcome.file, measure, name, ours, theirs,
            explain(measure, name, bundles[outcome.patient_id], mp),
        )
        for outcome in patients
        for measure in measures
        for name in POPULATIONS
        if (ours := outcome.ours[measure].get(name, 0)) != (theirs := outcome.reference[measure].get(name, 0))
    ]  # fmt: skip
    return Comparison(mp, measures, patients, disagreements, timings)


def _match_store(store: Any, files: list[PatientFile]) -> tuple[list[PatientOutcome], list[Bundle]]:
    """Each bundle's store patient, and the bundles the reference engine gets.

    When the patient index joined several bundles into one store patient, our engine reads all their records, so
    the reference engine gets them too: one bundle with every resource of the joined ones, under each Patient.id.
    """
    store_ids: dict[str, str] = {}
    for item in files:
        ids = store.find_patient_ids(f"fhir|{item.patient_id}")
        if len(ids) != 1:
            raise RuntimeError(f"{item.path.name}: {len(ids)} store patients for fhir|{item.patient_id}")
        store_ids[item.patient_id] = ids[0]
    joined: dict[str, list[PatientFile]] = {}
    for item in files:
        joined.setdefault(store_ids[item.patient_id], []).append(item)
    outcomes: list[PatientOutcome] = []
    bundles: list[Bundle] = []
    for item in files:
        outcomes.append(PatientOutcome(item.patient_id, item.path.name, store_ids[item.patient_id]))
        group = joined[store_ids[item.patient_id]]
        if len(group) == 1:
            bundles.append(item.bundle)
            continue
        resources = _all_resources(item.bundle)
        for other in group:
            if other is not item:
                resources += [r for r in _all_resources(other.bundle) if r.get("resourceType") != "Patient"]
        bundles.append(reference.patient_bundle(resources))
    return outcomes, bundles


def _run_reference(
    measure: str,
    bundles: list[Bundle],
    period: tuple[str, str],
    batch_size: int,
    shared_dir: Path,
    timings: Timings,
) -> dict[str, Populations]:
    found: dict[str, Populations] = {}
    for start in range(0, len(bundles), max(1, batch_size)):
        run = reference.run_reference_timed(measure, bundles[start : start + batch_size], period, shared_dir=shared_dir)
        found.update(run.populations)
        timings.reference_calculate += run.calculate_seconds
        timings.reference_total += run.total_seconds
        timings.reference_runs += 1
    return found


def _all_resources(bundle: Bundle) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle.get("entry") or [] if isinstance(entry.get("resource"), dict)]


def _resources(bundle: Bundle, kind: str) -> list[dict[str, Any]]:
    return [resource for resource in _all_resources(bundle) if resource.get("resourceType") == kind]


def _latest_day(observation: dict[str, Any]) -> str | None:
    """QICoreCommon's ``latest()`` as a day: the end of an effective period if it has one, else its start."""
    moment = observation.get("effectiveDateTime") or observation.get("effectiveInstant")
    if isinstance(observation.get("effectivePeriod"), dict):
        moment = observation["effectivePeriod"].get("end") or observation["effectivePeriod"].get("start")
    return moment[:10] if isinstance(moment, str) else None
