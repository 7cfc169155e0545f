"""What a measure evaluation hands back: populations, and the records that decided each one.

Why evidence per population: a care gap is only actionable when it can be explained ("most recent HbA1c 9.4 % on
2026-03-02") and opened at its source. Each Evidence names the record (kind and id), the document it came from
(the store's document id is the source file's sha256) and the place inside it (source path and locator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.measures.period import MeasurementPeriod

# MeasureReport population codes, in the order a proportion measure lists them.
INITIAL_POPULATION = "initial-population"
DENOMINATOR = "denominator"
DENOMINATOR_EXCLUSION = "denominator-exclusion"
NUMERATOR = "numerator"
POPULATIONS = (INITIAL_POPULATION, DENOMINATOR, DENOMINATOR_EXCLUSION, NUMERATOR)


@dataclass(frozen=True)
class Evidence:
    """One reason, citing the record it rests on (record fields are None for facts about absence)."""

    reason: str
    record_kind: str | None = None
    record_id: str | None = None
    document_id: str | None = None
    source_path: str | None = None
    locator: str | None = None

    @classmethod
    def of(cls, record: Any, reason: str) -> Evidence:
        """Cite a record (anything with ``kind``, ``provenance`` and usually ``id``: a record or a Patient)."""
        provenance = getattr(record, "provenance", None)
        return cls(
            reason=reason,
            record_kind=getattr(record, "kind", None),
            record_id=getattr(record, "id", None),
            document_id=provenance.source_sha256 if provenance else None,
            source_path=provenance.source_path if provenance else None,
            locator=provenance.locator if provenance else None,
        )

    def as_dict(self) -> dict[str, str]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class Finding:
    """The value of one CQL definition for one patient, with the evidence behind it."""

    holds: bool
    evidence: tuple[Evidence, ...] = ()

    def __bool__(self) -> bool:
        return self.holds


NOT_MET = Finding(False)


@dataclass(frozen=True)
class MeasureResult:
    """One patient's populations for one measure and period.

    ``populations`` follows MeasureReport counting for a proportion measure: the denominator exclusion only counts
    inside the denominator, and the numerator only for a denominator patient who is not excluded. ``evidence``
    holds, for each population, what decided it (for a population not met: why not).
    """

    measure: str
    patient_id: str
    period: MeasurementPeriod
    populations: dict[str, bool]
    evidence: dict[str, tuple[Evidence, ...]]
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "patient_id": self.patient_id,
            "period": {"start": self.period.first_day.isoformat(), "end": self.period.last_day.isoformat()},
            "populations": dict(self.populations),
            "evidence": {name: [e.as_dict() for e in items] for name, items in self.evidence.items()},
            "notes": list(self.notes),
        }


def proportion_result(
    measure: str,
    patient_id: str,
    period: MeasurementPeriod,
    initial_population: Finding,
    exclusion: Finding,
    numerator: Finding,
    notes: tuple[str, ...] = (),
) -> MeasureResult:
    """Combine the CQL definitions (Denominator = Initial Population in both measures) into MeasureReport terms."""
    in_denominator = initial_population.holds
    excluded = in_denominator and exclusion.holds
    in_numerator = in_denominator and not excluded and numerator.holds
    return MeasureResult(
        measure=measure,
        patient_id=patient_id,
        period=period,
        populations={
            INITIAL_POPULATION: initial_population.holds,
            DENOMINATOR: in_denominator,
            DENOMINATOR_EXCLUSION: excluded,
            NUMERATOR: in_numerator,
        },
        evidence={
            INITIAL_POPULATION: initial_population.evidence,
            DENOMINATOR: initial_population.evidence,
            DENOMINATOR_EXCLUSION: exclusion.evidence if in_denominator else (),
            NUMERATOR: numerator.evidence if in_denominator and not excluded else (),
        },
        notes=notes,
    )
