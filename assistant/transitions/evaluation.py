"""The transitions eval: discharge scenarios (hand-made FHIR, HL7 v2 and C-CDA records, and real C-CDA discharge
summaries and ADT messages from ../shared/data), each with the checklist a coordinator reading the protocols
expects: items, due dates, statuses, the medication changes, and how many episodes the records open.

Matching: an expected item names its ``id`` (fixed items such as ``tcm-contact``) or its ``category`` and words its
text ``contains`` (items read from a line of the record). Item recall is matched over expected, precision matched
over produced (an item nobody expected is noise on a coordinator's list), due-date accuracy is over matched items
(the due date must be exactly the expected one, or both none), status accuracy over matched items whose status is
given. The medication diff is scored as F1 over (change, drug) pairs, the drug matched by a word of its name;
"unchanged" lines are not changes. Every scenario runs through the real connectors, ingest, episode sync and
checklist builder in a temporary data dir with the real knowledge index.
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

DEFAULT_SCENARIOS = REPO_ROOT / "evals" / "transitions" / "scenarios"
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
EXPECTED = "expected.json"


@dataclass(frozen=True)
class Scenario:
    name: str
    as_of: date
    description: str
    patient_ref: str
    files: tuple[Path, ...]
    expected: dict[str, Any]
    missing: tuple[str, ...] = ()  # shared files that are not present


@dataclass
class TransitionsEval(ItemScores):
    scenarios: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    status_checked: int = 0
    status_correct: int = 0
    med_tp: int = 0
    med_fp: int = 0
    med_fn: int = 0
    episode_checks: int = 0
    episode_correct: int = 0
    per_category: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    wrong_due: list[dict[str, Any]] = field(default_factory=list)
    wrong_status: list[dict[str, Any]] = field(default_factory=list)
    wrong_meds: list[dict[str, Any]] = field(default_factory=list)
    wrong_episodes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    milliseconds: list[float] = field(default_factory=list)

    @property
    def status_accuracy(self) -> float:
        return ratio(self.status_correct, self.status_checked)

    @property
    def med_f1(self) -> float:
        denominator = 2 * self.med_tp + self.med_fp + self.med_fn
        return 2 * self.med_tp / denominator if denominator else 1.0

    def to_dict(self) -> dict[str, Any]:
        counts = {name: dict(tally) for name, tally in sorted(self.per_category.items())}
        return {**asdict(self), "per_category": counts, "recall": round(self.recall, 4),
                "precision": round(self.precision, 4), "due_accuracy": round(self.due_accuracy, 4),
                "status_accuracy": round(self.status_accuracy, 4), "med_f1": round(self.med_f1, 4)}  # fmt: skip


def load_scenarios(folder: Path, shared: Path = DEFAULT_SHARED) -> list[Scenario]:
    found = []
    for case in sorted(p for p in folder.iterdir() if (p / EXPECTED).is_file()):
        expected = json.loads((case / EXPECTED).read_text(encoding="utf-8"))
        own = sorted(p for p in case.iterdir() if p.is_file() and p.name != EXPECTED)
        borrowed = [shared / relative for relative in expected.get("shared", [])]
        missing = tuple(str(p) for p in borrowed if not p.is_file())
        found.append(Scenario(case.name, date.fromisoformat(expected["as_of"]), expected.get("description", ""),
                              expected["patient"], tuple(own + borrowed), expected, missing))  # fmt: skip
    return found


def evaluate(
    folder: Path = DEFAULT_SCENARIOS, shared: Path = DEFAULT_SHARED, seed: Path | None = None
) -> TransitionsEval:
    """Run every scenario. ``seed``: a data dir whose knowledge base is already indexed, copied instead of indexing
    the knowledge base again (tests share one); by default the knowledge base is indexed in a fresh data dir. The
    seed must not be open in this process: copying opens and closes its SQLite files here, which would drop the
    locks an open connection holds on them."""
    import shutil
    import time

    from assistant.context import open_context
    from assistant.index.knowledge import ingest_knowledge
    from assistant.ingest.pipeline import ingest_paths
    from assistant.settings import Settings
    from assistant.transitions import episodes
    from assistant.transitions.checklist import build_checklist
    from assistant.transitions.knowledge import KnowledgeCites

    scenarios = load_scenarios(folder, shared)
    report = TransitionsEval()
    with tempfile.TemporaryDirectory(prefix="caretrail-transitions-eval-") as tmp:
        if seed is not None:
            shutil.copytree(seed, Path(tmp) / "data")
        ctx = open_context(Settings(data_dir=Path(tmp) / "data"))
        if seed is None:
            knowledge = ingest_knowledge(ctx.knowledge_deps)
            if knowledge.errors:
                raise RuntimeError(f"knowledge ingest failed: {knowledge.errors}")
        cite = KnowledgeCites(ctx.engine)
        for scenario in scenarios:
            if scenario.missing:
                report.skipped.append({"scenario": scenario.name, "missing": list(scenario.missing)})
                continue
            report.scenarios += 1
            for path in scenario.files:  # one at a time, in order: an A13 after its A03
                ingested = ingest_paths(ctx.ingest_deps, [path])
                if ingested.errors:
                    report.errors.append({"scenario": scenario.name, "error": str(ingested.errors)})
            patient = ctx.patients.resolve_patient(scenario.patient_ref)
            if patient is None:
                report.errors.append({"scenario": scenario.name, "error": f"no patient {scenario.patient_ref}"})
                _score(report, scenario, [], [], [])
                continue
            episodes.sync(ctx.engine, {patient.id})
            history = episodes.list_episodes(ctx.engine, {patient.id})
            dated = [e for e in history if e.discharge_date <= scenario.as_of]
            if not dated:
                report.errors.append({"scenario": scenario.name, "error": "no discharge episode"})
                _score(report, scenario, [], [], history)
                continue
            live = [e for e in dated if e.status != episodes.CANCELLED]
            started = time.perf_counter()
            built = build_checklist(ctx.engine, (live or dated)[0], scenario.as_of, history, patient=patient,
                                    cite=cite)  # fmt: skip
            report.milliseconds.append(round((time.perf_counter() - started) * 1000, 1))
            result = built.to_dict()
            _score(report, scenario, result["items"], result["medication_changes"], history, result)
    return report


def _matches(want: dict[str, Any], item: dict[str, Any]) -> bool:
    if "id" in want:
        return item["id"] == want["id"]
    return item["category"] == want["category"] and want["contains"].lower() in item["text"].lower()


def _score(
    report: TransitionsEval,
    scenario: Scenario,
    produced: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    history: list[Any],
    result: dict[str, Any] | None = None,
) -> None:
    wanted = scenario.expected.get("items", [])
    report.expected += len(wanted)
    report.produced += len(produced)
    pool = list(produced)
    for want in wanted:
        label = want.get("id") or f"{want['category']}: {want['contains']}"
        category = want.get("category") or next((i["category"] for i in produced if i["id"] == want.get("id")),
                                                want.get("id", "?").split("-")[0])  # fmt: skip
        tally = report.per_category.setdefault(category, Counter())
        tally["expected"] += 1
        got = next((item for item in pool if _matches(want, item)), None)
        if got is None:
            report.misses.append({"scenario": scenario.name, "item": label, "due": want.get("due")})
            continue
        pool.remove(got)
        report.matched += 1
        tally["matched"] += 1
        if got["due"] == want.get("due"):
            report.due_correct += 1
        else:
            report.wrong_due.append({"scenario": scenario.name, "item": label, "expected": want.get("due"),
                                     "got": got["due"]})  # fmt: skip
        if "status" in want:
            report.status_checked += 1
            if got["status"] == want["status"]:
                report.status_correct += 1
            else:
                report.wrong_status.append({"scenario": scenario.name, "item": label, "expected": want["status"],
                                            "got": got["status"]})  # fmt: skip
    for extra in pool:
        report.per_category.setdefault(extra["category"], Counter())["extra"] += 1
        report.extras.append({"scenario": scenario.name, "id": extra["id"], "due": extra["due"],
                              "text": extra["text"][:140]})  # fmt: skip
    _score_meds(report, scenario, changes)
    _score_episodes(report, scenario, history, result)


def _score_meds(report: TransitionsEval, scenario: Scenario, changes: list[dict[str, Any]]) -> None:
    produced = [(c["change"], c["medication"].lower()) for c in changes if c["change"] != "unchanged"]
    for want in scenario.expected.get("medication_changes", []):
        hit = next((p for p in produced if p[0] == want["change"] and want["medication"].lower() in p[1]), None)
        if hit is None:
            report.med_fn += 1
            report.wrong_meds.append({"scenario": scenario.name, "missed": want})
        else:
            produced.remove(hit)
            report.med_tp += 1
    for change, name in produced:
        report.med_fp += 1
        report.wrong_meds.append({"scenario": scenario.name, "extra": {"change": change, "medication": name}})


def _score_episodes(
    report: TransitionsEval, scenario: Scenario, history: list[Any], result: dict[str, Any] | None
) -> None:
    expected = scenario.expected
    if "episodes" in expected:
        report.episode_checks += 1
        if len(history) == expected["episodes"]:
            report.episode_correct += 1
        else:
            report.wrong_episodes.append({"scenario": scenario.name, "expected_episodes": expected["episodes"],
                                          "got": len(history)})  # fmt: skip
    if "episode_status" in expected:
        report.episode_checks += 1
        got = result["episode_status"] if result else None
        if got == expected["episode_status"]:
            report.episode_correct += 1
        else:
            report.wrong_episodes.append({"scenario": scenario.name, "expected_status": expected["episode_status"],
                                          "got": got})  # fmt: skip
