"""Medication reconciliation items: the reconciliation itself (due no later than the face-to-face visit), and one
line per drug that changed between the pre-admission and discharge lists (or that is high-risk and continued),
each citing both lists.

A reconciliation the record already shows (CPT II 1111F or SNOMED 430193006 after discharge, as a procedure or a
claim line) marks the reconciliation and its lines done. Line ids are ``med-<ingredient>``, so a check-off stays
with the drug when the checklist is built again.
"""

from __future__ import annotations

from datetime import date

from assistant.records.model import Claim, Procedure
from assistant.transitions import knowledge as k
from assistant.transitions import medications as meds
from assistant.transitions.item import Item, slug
from assistant.transitions.sources import StoredRecord, record_citation
from assistant.transitions.stay import Stay
from assistant.transitions.text_lines import as_date

MED_REC_CODES = {"1111F", "430193006"}  # CPT II "discharge medications reconciled"; SNOMED medication reconciliation
WORDING = {
    "new": "New at discharge", "stopped": "Stopped (on the pre-admission list, not continued at discharge)",
    "dose_changed": "Dose changed at discharge", "held": "Held at discharge", "unchanged": "Continued",
}  # fmt: skip


def items(
    stay: Stay, changes: list[meds.MedicationChange], before: meds.MedicationList, after: meds.MedicationList
) -> list[Item]:
    visit_due = stay.visit_due
    assert visit_due is not None
    cites = stay.knowledge(k.TCM_MED_REC, k.RED_MEDICINES)
    missing = [m.label for m in (before, after) if not m.present]
    stay.missing.extend(f"{label} medication list" for label in missing)
    done = reconciled(stay)
    high_risk = [c for c in changes if c.high_risk and c.change != "unchanged"]
    if missing:
        lacking = " and no ".join(missing)
        text = (
            f"Reconcile medications before the face-to-face visit: the record has no {lacking} medication list (a "
            "discharge summary's Hospital Discharge Medications section, LOINC 10183-2, and a medication list from "
            "before admission, LOINC 10160-0 or a CCD), so the lists cannot be compared here; obtain them."
        )
        status = "needs_input"
    else:
        real = [c for c in changes if c.change != "unchanged"]
        text = (
            f"Reconcile the pre-admission and discharge medication lists no later than the face-to-face visit: "
            f"{len(real)} change(s), {len(high_risk)} in a high-risk class."
        )
        status = stay.status(visit_due)
    evidence = [f"{m.label} list: {len(m.entries)} entries" for m in (before, after) if m.present]
    reconcile = Item(
        "med-rec",
        "medication",
        text,
        visit_due,
        "clinician",
        True,
        status,
        evidence,
        [*before.citations[:2], *after.citations[:2], *cites],
    )
    if done is not None:
        reconcile.status = "done"
        reconcile.evidence.append(done[1])
        reconcile.citations.append(record_citation(done[0]))
    found = [reconcile]
    if not after.present:
        return found
    wording = dict(WORDING)
    if not before.present:
        wording["new"] = "On the discharge list (no pre-admission list to compare)"
    for change in changes:
        if change.change == "unchanged" and not change.high_risk:
            continue
        flag = f" [high-risk: {change.high_risk}]" if change.high_risk else ""
        detail = " -> ".join(d for d in (change.describe(change.before), change.describe(change.after)) if d)
        record = change.after or change.before
        assert record is not None
        found.append(
            Item(
                f"med-{slug(meds.ingredient(record.record))}",
                "medication",  # type: ignore[arg-type]
                f"{wording[change.change]}: {change.name}{flag}. Confirm with the patient and the prescriber that "
                "this is "
                "intended and understood.",
                visit_due,
                "clinician",
                change.high_risk is not None,
                "done" if done is not None else stay.status(visit_due),
                [f"{change.change}: {detail}"],
                [*change.citations, *cites],
            )
        )
    return found


def reconciled(stay: Stay) -> tuple[StoredRecord, str] | None:
    """A medication reconciliation the record shows after discharge, by the as-of date."""
    for stored in stay.of_kind(Procedure):
        proc = stored.record
        assert isinstance(proc, Procedure)
        day = as_date(proc.performed)
        codes = {proc.code.code, *(c.code for c in proc.codes)}
        if codes & MED_REC_CODES and stay.after_discharge(day) and day is not None and day <= stay.as_of:
            return stored, f"medication reconciliation recorded on {day.isoformat()} ({proc.code.code})"
    for stored in stay.of_kind(Claim):
        claim = stored.record
        assert isinstance(claim, Claim)
        if (
            any(c.code in MED_REC_CODES for c in claim.procedures)
            and stay.after_discharge(claim.from_date)
            and claim.from_date is not None
            and claim.from_date <= stay.as_of
        ):
            return stored, f"claim line for medication reconciliation on {claim.from_date}"
    return None


def reconciled_on(stay: Stay) -> date | None:
    found = reconciled(stay)
    if found is None:
        return None
    record = found[0].record
    return as_date(record.performed) if isinstance(record, Procedure) else record.from_date  # type: ignore[union-attr]
