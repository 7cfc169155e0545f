"""A second, independent measure engine: the stewards' reference JavaScript engine, run through Node.

Why: Caretrail computes CMS165 and CMS122 itself. `fqm-execution` (cqframework's `cql-execution` +
`cql-exec-fhir`, pinned by `tools/reference-measures/package-lock.json`) executes the stewards' own compiled ELM
from the shared `libraries/` folder instead, so where the two engines disagree on a patient, one of them is wrong.

It runs offline: the measure bundle carries the Measure, every Library (with its ELM) and every ValueSet
expansion, and the engine is told never to ask a terminology server. Only `ensure_installed()` touches the npm
registry, once, through `npm ci` and the lockfile.

Starting Node and loading the ELM costs 1-2 seconds, so `run_reference` sends many patients in one call.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import REPO_ROOT

TOOLS_DIR = REPO_ROOT / "tools" / "reference-measures"
RUN_SCRIPT = TOOLS_DIR / "run.js"
# The installed engine; its presence is what "installed" means (node_modules alone may be a half-finished install).
ENGINE_PACKAGE = TOOLS_DIR / "node_modules" / "fqm-execution" / "package.json"

# Where the MADiE cases, Measure, Library and ValueSet resources sit inside ../shared/data.
ECQM_SUBDIR = Path("qa_care_transitions_aco") / "cqframework_ecqm-content-qicore-2024_testcases"
DEFAULT_ECQM_DIR = REPO_ROOT.parent / "shared" / "data" / ECQM_SUBDIR

# The MeasureReport population codes the engine reports, in the order a proportion measure lists them.
POPULATION_CODES = ("initial-population", "denominator", "denominator-exclusion", "numerator")

# The engine reads QI-Core data by profile (fqm-execution's trustMetaProfile): a resource without its profile in
# meta.profile is invisible to the measure, and a Patient without one stops the run.
QICORE_PATIENT = "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-patient"

INSTALL_HINT = "run `make reference-measures` (it installs Debian's nodejs and npm, then `npm ci`)"

Bundle = dict[str, Any]
Populations = dict[str, int]
Period = tuple[str, str]


class ReferenceEngineError(RuntimeError):
    """The reference engine could not run; the message is one line that says why and what to do."""


@dataclass(frozen=True)
class ReferenceRun:
    """One batch through the engine: results per patient, plus timings for the benchmark.

    `calculate_seconds` is the engine's own time (ELM loading and execution); `total_seconds` adds Node start-up,
    reading the files and writing the bundles, i.e. what a caller waits for.
    """

    populations: dict[str, Populations]
    calculate_seconds: float
    total_seconds: float


def node_executable() -> str:
    """Path of `node`; raises a one-line error when it is missing so callers can show or skip on it."""
    node = shutil.which("node")
    if node is None:
        raise ReferenceEngineError(f"node is not installed: {INSTALL_HINT}")
    return node


def is_installed() -> bool:
    """True when Node is present and `npm ci` has installed the engine, so a run needs no network."""
    return shutil.which("node") is not None and ENGINE_PACKAGE.is_file()


def ensure_installed(timeout_s: float = 600.0) -> None:
    """Install the pinned engine with `npm ci` when it is missing; afterwards everything runs offline.

    `npm ci` installs exactly what package-lock.json names (and fails rather than resolve anything new).
    """
    node_executable()
    if ENGINE_PACKAGE.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ReferenceEngineError(f"npm is not installed: {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=TOOLS_DIR, capture_output=True, text=True, timeout=timeout_s, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ReferenceEngineError(f"npm ci timed out after {timeout_s:.0f} s in {TOOLS_DIR}") from exc
    if done.returncode != 0 or not ENGINE_PACKAGE.is_file():
        raise ReferenceEngineError(f"npm ci failed in {TOOLS_DIR}: {_last_line(done.stderr or done.stdout)}")


def ecqm_dir(shared_dir: Path) -> Path:
    """Accept either ../shared/data or the eCQM test-case folder inside it."""
    nested = shared_dir / ECQM_SUBDIR
    return nested if nested.is_dir() else shared_dir


def measure_bundle(shared_dir: Path, measure_name: str) -> Bundle:
    """The bundle fqm-execution calculates from: the Measure, all shared Libraries and all shared ValueSets.

    Every Library goes in (the engine resolves the ones the Measure includes by canonical URL), and every ValueSet
    with its expansion, because with no API key those expansions are the engine's only terminology.
    """
    root = ecqm_dir(shared_dir)
    measure_file = root / "measure_definitions" / f"{measure_name}.json"
    if not measure_file.is_file():
        raise ReferenceEngineError(f"no Measure resource {measure_file}")
    resources = [_read_json(measure_file)]
    resources += [_read_json(path) for path in sorted((root / "libraries").glob("*.json"))]
    resources += [_read_json(path) for path in sorted((root / "valuesets").glob("*.json"))]
    return {
        "resourceType": "Bundle",
        "id": f"{measure_name}-bundle",
        "type": "collection",
        "entry": [{"fullUrl": _full_url(resource), "resource": resource} for resource in resources],
    }


def case_bundles(case_dir: Path) -> tuple[Bundle, Populations, Period]:
    """Turn a MADiE case folder (one JSON file per resource) into what the engine and a test need.

    Returns the patient bundle (every resource but the MeasureReport), the expected population counts from the
    MeasureReport's first group, and the MeasureReport's period (start, end) as written there.
    """
    resources: list[dict[str, Any]] = []
    report: dict[str, Any] | None = None
    for path in sorted(case_dir.glob("*.json")):
        resource = _read_json(path)
        if resource.get("resourceType") == "MeasureReport":
            report = resource
        else:
            resources.append(resource)
    if report is None:
        raise ReferenceEngineError(f"no MeasureReport in {case_dir}")
    if not any(resource.get("resourceType") == "Patient" for resource in resources):
        raise ReferenceEngineError(f"no Patient in {case_dir}")
    expected: Populations = {}
    for population in (report.get("group") or [{}])[0].get("population", []):
        code = population["code"]["coding"][0]["code"]
        expected[code] = int(population.get("count", 0))
    period = (report["period"]["start"], report["period"]["end"])
    return patient_bundle(resources), expected, period


def patient_bundle(resources: list[dict[str, Any]]) -> Bundle:
    """A collection bundle of one patient's resources, the shape fqm-execution takes per patient.

    Each resource needs its profile in meta.profile (qicore-patient, qicore-encounter, qicore-condition, FHIR's
    vital-signs `bp` for a blood pressure, ...): the engine selects data by profile, as MADiE does, so that CMS165's
    `["observation-bp"]` retrieve sees blood pressures only. Untagged resources are ignored, not guessed at.
    """
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": _full_url(resource), "resource": resource} for resource in resources],
    }


def run_reference(
    measure_name: str,
    patient_bundles: list[Bundle],
    period: Period,
    *,
    shared_dir: Path = DEFAULT_ECQM_DIR,
    timeout_s: float = 600.0,
) -> dict[str, Populations]:
    """Population membership (1/0 per MeasureReport population code) for each patient, keyed by Patient.id."""
    return run_reference_timed(
        measure_name, patient_bundles, period, shared_dir=shared_dir, timeout_s=timeout_s
    ).populations


def run_reference_timed(
    measure_name: str,
    patient_bundles: list[Bundle],
    period: Period,
    *,
    shared_dir: Path = DEFAULT_ECQM_DIR,
    timeout_s: float = 600.0,
) -> ReferenceRun:
    """Like `run_reference`, and also says how long the engine took with and without Node start-up."""
    started = time.perf_counter()
    node = node_executable()
    if not ENGINE_PACKAGE.is_file():
        raise ReferenceEngineError(f"the reference engine is not installed in {TOOLS_DIR}: {INSTALL_HINT}")
    ids = [_patient_id(bundle) for bundle in patient_bundles]
    if len(set(ids)) != len(ids):
        raise ReferenceEngineError("two patient bundles share a Patient.id; results are keyed by it")
    if not patient_bundles:
        return ReferenceRun({}, 0.0, time.perf_counter() - started)

    with tempfile.TemporaryDirectory(prefix="caretrail-reference-") as tmp:
        work = Path(tmp)
        measure_file = work / "measure-bundle.json"
        measure_file.write_text(json.dumps(measure_bundle(shared_dir, measure_name)), encoding="utf-8")
        command = [node, str(RUN_SCRIPT), "--measure-bundle", str(measure_file),
                   "--period-start", period[0], "--period-end", period[1], "--timing"]
        for index, bundle in enumerate(patient_bundles):
            path = work / f"patient-{index}.json"
            path.write_text(json.dumps(bundle), encoding="utf-8")
            command += ["--patient-bundle", str(path)]
        try:
            done = subprocess.run(command, cwd=TOOLS_DIR, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReferenceEngineError(f"the reference engine timed out after {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        raise ReferenceEngineError(f"the reference engine failed: {_last_line(done.stderr or done.stdout)}")

    populations: dict[str, Populations] = {}
    for row in json.loads(done.stdout):
        populations[str(row["patient"])] = {code: int(value) for code, value in row["populations"].items()}
    missing = [patient for patient in ids if patient not in populations]
    if missing:
        raise ReferenceEngineError(f"the reference engine returned no result for patient {missing[0]}")
    calculate_seconds = _calculate_seconds(done.stderr)
    return ReferenceRun(populations, calculate_seconds, time.perf_counter() - started)


def _patient_id(bundle: Bundle) -> str:
    """The bundle's Patient.id; also checks the Patient is profile-tagged, since the engine crashes without it."""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient" and resource.get("id"):
            if not (resource.get("meta") or {}).get("profile"):
                raise ReferenceEngineError(
                    f"Patient {resource['id']} has no meta.profile: the engine selects resources by QI-Core profile "
                    f"(tag it {QICORE_PATIENT})"
                )
            return str(resource["id"])
    raise ReferenceEngineError("a patient bundle has no Patient with an id")


def _full_url(resource: dict[str, Any]) -> str:
    """Canonical resources keep their URL (the engine resolves Libraries by it); others get a relative Type/id."""
    url = resource.get("url")
    if isinstance(url, str) and resource.get("resourceType") in {"Measure", "Library", "ValueSet"}:
        return url
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _calculate_seconds(stderr: str) -> float:
    """run.js --timing writes {"calculate_ms": ...} as its last stderr line."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("{") and "calculate_ms" in line:
            return float(json.loads(line)["calculate_ms"]) / 1000.0
    return 0.0


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ReferenceEngineError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ReferenceEngineError(f"{path} is not a FHIR resource")
    return data


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
