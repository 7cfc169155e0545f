"""The guidance eval: patient scenarios written as FHIR bundles, each with the items a person reading the protocols
expects (rule, owner role, due date), run through the real connector, knowledge index and rules.

Why match on (rule, owner_role): that pair is what a care team acts on (the TCM contact is the coordinator's, the
visit the clinician's); several expected items with the same pair are matched in due-date order. Recall is matched
over expected, precision matched over produced (an item nobody expected is noise on a worklist), due-date accuracy
is over matched items, and citation validity checks every produced citation's quote against the knowledge file.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.item_scores import ItemScores, ratio
from assistant.settings import REPO_ROOT

DEFAULT_SCENARIOS = REPO_ROOT / "evals" / "guidance" / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    as_of: date
    description: str
    patient_ref: str
    expected: tuple[dict[str, Any], ...]


@dataclass
class GuidanceEval(ItemScores):
    scenarios: int = 0
    citations: int = 0
    citations_valid: int = 0
    per_rule: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    wrong_due: list[dict[str, Any]] = field(default_factory=list)
    bad_citations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    produced_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per scenario, for review

    @property
    def citation_validity(self) -> float:
        return ratio(self.citations_valid, self.citations)

    def to_dict(self) -> dict[str, Any]:
        counts = {rule: {k: tally[k] for k in ("expected", "produced", "matched", "due_correct", "extra")}
                  for rule, tally in sorted(self.per_rule.items())}
        return {**asdict(self), "per_rule": counts, "recall": round(self.recall, 4),
                "precision": round(self.precision, 4), "due_accuracy": round(self.due_accuracy, 4),
                "citation_validity": round(self.citation_validity, 4)}


def load_scenarios(folder: Path) -> list[Scenario]:
    scenarios = []
    for case in sorted(p for p in folder.iterdir() if (p / "bundle.json").is_file()):
        bundle = json.loads((case / "bundle.json").read_text(encoding="utf-8"))
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        patients = [e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Patient"]
        if len(patients) != 1:
            raise ValueError(f"{case.name}: a scenario bundle holds exactly one Patient, found {len(patients)}")
        scenarios.append(Scenario(case.name, date.fromisoformat(expected["as_of"]), expected.get("description", ""),
                                  f"fhir|{patients[0]}", tuple(expected["items"])))
    return scenarios


def evaluate(folder: Path = DEFAULT_SCENARIOS) -> GuidanceEval:
    from assistant.context import open_context
    from assistant.guidance.engine import guidance
    from assistant.guidance.facts import gather
    from assistant.index.knowledge import ingest_knowledge
    from assistant.ingest.pipeline import ingest_paths
    from assistant.settings import Settings

    scenarios = load_scenarios(folder)
    report = GuidanceEval(scenarios=len(scenarios))
    with tempfile.TemporaryDirectory(prefix="caretrail-guidance-eval-") as tmp:
        ctx = open_context(Settings(data_dir=Path(tmp) / "data"))
        knowledge = ingest_knowledge(ctx.knowledge_deps)
        if knowledge.errors:
            raise RuntimeError(f"knowledge ingest failed: {knowledge.errors}")
        bundles = [folder / s.name / "bundle.json" for s in scenarios]  # expected.json is not a record
        ingested = ingest_paths(ctx.ingest_deps, bundles)
        if ingested.errors:
            raise RuntimeError(f"scenario ingest failed: {ingested.errors}")
        for scenario in scenarios:
            patient = ctx.patients.resolve_patient(scenario.patient_ref)
            if patient is None:
                report.errors.append({"scenario": scenario.name, "error": f"no patient {scenario.patient_ref}"})
                report.expected += len(scenario.expected)
                report.misses += [{"scenario": scenario.name, **e} for e in scenario.expected]
                continue
            facts = gather(ctx.patients, ctx.engine, ctx.roster_cache, patient.id, scenario.as_of)
            produced = [i.to_dict() for i in guidance(facts, ctx.engine, "care_manager")]
            _score(report, scenario, produced)
    return report


def _score(report: GuidanceEval, scenario: Scenario, produced: list[dict[str, Any]]) -> None:
    report.expected += len(scenario.expected)
    report.produced += len(produced)
    report.produced_items[scenario.name] = [{k: i[k] for k in ("rule", "owner_role", "due", "priority", "rationale")}
                                            for i in produced]
    pool = sorted(produced, key=lambda i: (i["due"] or "9999"))
    for want in sorted(scenario.expected, key=lambda e: (e.get("due") or "9999")):
        tally = report.per_rule.setdefault(want["rule"], Counter())
        tally["expected"] += 1
        key = (want["rule"], want["owner_role"])
        candidates = [i for i in pool if (i["rule"], i["owner_role"]) == key]
        got = next((i for i in candidates if i["due"] == want.get("due")), candidates[0] if candidates else None)
        if got is None:
            report.misses.append({"scenario": scenario.name, **want})
            continue
        pool.remove(got)
        report.matched += 1
        tally["matched"] += 1
        if got["due"] == want.get("due"):
            report.due_correct += 1
            tally["due_correct"] += 1
        else:
            report.wrong_due.append({"scenario": scenario.name, "rule": want["rule"], "owner_role": want["owner_role"],
                                     "expected": want.get("due"), "got": got["due"]})
    for extra in pool:
        report.per_rule.setdefault(extra["rule"], Counter())["extra"] += 1
        report.extras.append({"scenario": scenario.name, "rule": extra["rule"], "owner_role": extra["owner_role"],
                              "due": extra["due"], "rationale": extra["rationale"]})
    for found in produced:
        report.per_rule.setdefault(found["rule"], Counter())["produced"] += 1
        for citation in found["citations"]:
            report.citations += 1
            if _citation_valid(citation):
                report.citations_valid += 1
            else:
                report.bad_citations.append({"scenario": scenario.name, "rule": found["rule"],
                                             "doc_id": citation.get("doc_id"), "quote": citation.get("quote")})


def _citation_valid(citation: dict[str, Any]) -> bool:
    try:
        text = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8")
        return bool(citation["quote"]) and text[citation["start"] : citation["end"]] == citation["quote"]
    except (KeyError, OSError, TypeError):
        return False
