"""Caretrail's CMS165/CMS122 engine against the stewards' reference engine on a generated demo panel.

Why: the MADiE cases pin a few dozen hand-made patients; a 300-patient panel crosses the same definitions in many
more combinations (ages, visits, same-day blood pressures, HbA1c above and below 9 % or missing, hospice,
palliative care, frailty, nursing homes). Every population of every patient must agree between the two engines;
where they may not, a named `Divergence` in `assistant.measures.compare` detects the case from the bundle's content
and cites the CQL line that settles it. The panel must not be degenerate either: a population that is all 0s or all
1s compares nothing.

Skips when ../shared/data is absent. When node or the installed engine is missing it skips locally and fails in CI
(CI=true), where `make test` installs both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.demo.generator import REFERENCE_DATE, generate
from assistant.measures import cms165, compare, reference
from assistant.measures.period import parse_period

pytestmark = pytest.mark.slow

PATIENTS = 300
SEED = 7
PERIOD = (f"{REFERENCE_DATE.year}-01-01", f"{REFERENCE_DATE.year}-12-31")  # the panel's dates end in this year
AT_LEAST = 3  # 1s and 0s each population needs for the panel to count as varied


@pytest.fixture(scope="module")
def comparison(ecqm: Path, reference_engine: None, tmp_path_factory: pytest.TempPathFactory) -> compare.Comparison:
    panel = tmp_path_factory.mktemp("panel")
    generate(PATIENTS, SEED, panel)
    return compare.compare_folder(panel, PERIOD, data_dir=tmp_path_factory.mktemp("data"), shared_dir=ecqm)


def test_every_population_of_every_patient_agrees(comparison: compare.Comparison) -> None:
    assert len(comparison.patients) == PATIENTS
    unexplained = [
        f"{d.file} ({d.patient_id}) {d.measure} {d.population}: ours {d.ours}, reference {d.reference}"
        for d in comparison.unexplained
    ]
    assert not unexplained, "\n".join(unexplained)
    for disagreement in comparison.disagreements:  # each explained one is the divergence it is filed under
        divergence = next(d for d in compare.KNOWN_DIVERGENCES if d.name == disagreement.explained_by)
        assert disagreement.measure == divergence.measure and disagreement.population in divergence.populations
    explained = sorted({(d.file, d.explained_by) for d in comparison.disagreements})
    print(f"{comparison.agreeing_patients()} of {PATIENTS} patients agree on every population; "
          f"explained by a known divergence: {explained}")


def test_the_panel_is_not_degenerate(comparison: compare.Comparison) -> None:
    """Each population of each measure has a few patients in it and a few out of it."""
    thin: list[str] = []
    for measure in comparison.measures:
        for population in compare.POPULATIONS:
            ones = sum(patient.reference[measure][population] for patient in comparison.patients)
            zeros = len(comparison.patients) - ones
            if ones < AT_LEAST or zeros < AT_LEAST:
                thin.append(f"{measure} {population}: {ones} in, {zeros} out")
    assert not thin, "\n".join(thin)


def test_our_numerator_patients_are_explained(comparison: compare.Comparison) -> None:
    """Ours must say why (the reference engine only says whether): every numerator patient cites a record."""
    for patient in comparison.patients:
        for measure, result in patient.results.items():
            if result.populations["numerator"]:
                evidence = result.evidence["numerator"]
                assert evidence and evidence[0].reason, (patient.file, measure)
                if measure == cms165.MEASURE:  # a blood pressure reading, cited by its document
                    assert all(e.record_kind == "observation" and e.document_id for e in evidence)


def test_coded_glycemic_rule_is_found_by_content() -> None:
    """The named divergence matches a coded result on the most recent day, not one superseded by a number."""
    period = parse_period(*PERIOD)

    def hba1c(day: str, value: dict) -> dict:
        return {"resourceType": "Observation", "status": "final", "effectiveDateTime": f"{day}T10:00:00-05:00",
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, **value}

    coded = {"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "373066001"}]}}
    number = {"valueQuantity": {"value": 9.4, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}
    last_coded = reference.patient_bundle([hba1c("2026-03-01", number), hba1c("2026-06-01", coded)])
    last_number = reference.patient_bundle([hba1c("2026-03-01", coded), hba1c("2026-06-01", number)])
    assert compare.coded_glycemic_result_on_last_day(last_coded, period)
    assert not compare.coded_glycemic_result_on_last_day(last_number, period)
