"""The knowledge-answer eval: question sets run through the real retrieval and composer, scored for answer rate,
abstention, key facts, citation validity and the abstention threshold's margin on both sides.

Why three expectations: a question the knowledge base answers must get its key facts (``answer``); a question it
does not cover must get an abstention (``abstain``); a clinical-education question from outside (MedQuAD) may get
either, as long as what is said is cited text (``either``): those are reported, with the reference answer beside
them for a reader, and count as out of scope for the threshold's margin.

Why the margin: the threshold decides abstention on questions it was never tuned on. The lowest composer score among
answered in-scope questions and the highest among abstained out-of-scope ones say how much room it has on each side;
a question on the wrong side is counted, not hidden.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from assistant.settings import REPO_ROOT

Expect = Literal["answer", "abstain", "either"]
Half = Literal["even", "odd"]


class EvalSetError(ValueError):
    """A question set that cannot be read; the message names the file and the place."""


@dataclass(frozen=True)
class KnowledgeQuestion:
    id: str
    question: str
    expect: Expect
    all: tuple[str, ...] = ()  # every one of these must appear in the answer
    any: tuple[str, ...] = ()  # at least one of these
    also_any: tuple[str, ...] = ()  # and at least one of these
    reference: str | None = None  # an outside reference answer (MedQuAD), shown for review only

    def key_facts_in(self, answer: str) -> bool:
        text = answer.lower()
        return (
            all(fact.lower() in text for fact in self.all)
            and (not self.any or any(fact.lower() in text for fact in self.any))
            and (not self.also_any or any(fact.lower() in text for fact in self.also_any))
        )


@dataclass
class QuestionResult:
    id: str
    question: str
    expect: Expect
    abstained: bool
    key_facts: bool | None  # None where no key facts are expected
    score: float | None  # the composer's best score; None when the number check abstained before it
    answer: str
    citations: int
    citations_valid: int
    reference: str | None = None


@dataclass
class KnowledgeEval:
    name: str
    threshold: float
    results: list[QuestionResult] = field(default_factory=list)

    def _of(self, *expects: Expect) -> list[QuestionResult]:
        return [r for r in self.results if r.expect in expects]

    @property
    def questions(self) -> int:
        return len(self.results)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.results if not r.abstained)

    @property
    def answer_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0

    @property
    def abstention_precision(self) -> float:
        """Of the abstentions, the share on questions that may be abstained on (abstain or either)."""
        abstained = [r for r in self.results if r.abstained]
        return sum(1 for r in abstained if r.expect != "answer") / len(abstained) if abstained else 1.0

    @property
    def abstention_recall(self) -> float:
        """Of the questions that must be abstained on, the share that were."""
        out = self._of("abstain")
        return sum(1 for r in out if r.abstained) / len(out) if out else 1.0

    @property
    def key_fact_recall(self) -> float:
        """Of the in-scope questions, the share whose answer holds the key facts (an abstention holds none)."""
        inside = self._of("answer")
        return sum(1 for r in inside if r.key_facts) / len(inside) if inside else 1.0

    @property
    def correct(self) -> int:
        """Key facts present, or a required abstention made: the count the targets are stated in."""
        return sum(
            1 for r in self.results if (r.expect == "answer" and r.key_facts) or (r.expect == "abstain" and r.abstained)
        )

    @property
    def citations(self) -> int:
        return sum(r.citations for r in self.results)

    @property
    def citation_validity(self) -> float:
        return sum(r.citations_valid for r in self.results) / self.citations if self.citations else 1.0

    def margin(self) -> dict[str, Any]:
        """Lowest composer score among answered in-scope questions against the highest among abstained
        out-of-scope ones, and how many questions of each kind the threshold put on the wrong side."""
        inside = [r for r in self._of("answer") if r.score is not None]
        outside = [r for r in self._of("abstain", "either") if r.score is not None]
        answered_in = [r for r in inside if r.score >= self.threshold]
        abstained_out = [r for r in outside if r.score < self.threshold]
        low = min(answered_in, key=lambda r: r.score, default=None)  # type: ignore[arg-type, return-value]
        high = max(abstained_out, key=lambda r: r.score, default=None)  # type: ignore[arg-type, return-value]
        return {
            "threshold": self.threshold,
            "lowest_answered_in_scope": None if low is None else {"id": low.id, "score": round(low.score, 4)},
            "highest_abstained_out_of_scope": None if high is None else {"id": high.id, "score": round(high.score, 4)},
            "margin_below": None if low is None else round(low.score - self.threshold, 4),
            "margin_above": None if high is None else round(self.threshold - high.score, 4),
            "in_scope_below_threshold": [r.id for r in inside if r.score < self.threshold],
            "must_abstain_above_threshold": [
                r.id for r in outside if r.expect == "abstain" and r.score >= self.threshold
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "questions": self.questions,
            "in_scope": len(self._of("answer")),
            "must_abstain": len(self._of("abstain")),
            "either": len(self._of("either")),
            "answered": self.answered,
            "answer_rate": round(self.answer_rate, 4),
            "abstention_precision": round(self.abstention_precision, 4),
            "abstention_recall": round(self.abstention_recall, 4),
            "key_fact_recall": round(self.key_fact_recall, 4),
            "correct": self.correct,
            "citations": self.citations,
            "citation_validity": round(self.citation_validity, 4),
            "margin": self.margin(),
            "results": [asdict(r) for r in self.results],
        }


def _strings(value: Any, path: Path, line: int, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise EvalSetError(f"{path}: line {line}: {key!r} must be a string or a list of strings")


def _from_row(row: Any, path: Path, line: int) -> KnowledgeQuestion:
    """Both row shapes: ours (``id``, ``question``, ``key_fact``; a row with no key fact must abstain) and the
    shared one (``q``, ``any``/``all``/``also_any``, ``abstain: true``)."""
    if not isinstance(row, dict):
        raise EvalSetError(f"{path}: line {line}: expected a JSON object")
    question = row.get("question", row.get("q"))
    if not isinstance(question, str) or not question.strip():
        raise EvalSetError(f"{path}: line {line}: no question (field 'q' or 'question')")
    facts_all = _strings(row.get("all"), path, line, "all") + _strings(row.get("key_fact"), path, line, "key_fact")
    facts_any = _strings(row.get("any"), path, line, "any")
    also_any = _strings(row.get("also_any"), path, line, "also_any")
    has_facts = bool(facts_all or facts_any or also_any)
    if row.get("abstain") is True and has_facts:
        raise EvalSetError(f"{path}: line {line}: a question cannot both abstain and expect key facts")
    return KnowledgeQuestion(
        id=str(row.get("id") or f"{path.stem}:{line}"),
        question=question.strip(),
        expect="answer" if has_facts else "abstain",
        all=facts_all,
        any=facts_any,
        also_any=also_any,
    )


def load_jsonl(path: Path) -> list[KnowledgeQuestion]:
    questions = []
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}: line {line}, column {exc.colno}: {exc.msg}") from None
        questions.append(_from_row(row, path, line))
    return questions


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def load_medquad(folder: Path) -> list[KnowledgeQuestion]:
    """Every QA pair of the MedQuAD XML files under ``folder``, in path order, as ``either`` questions with the
    NIH answer as reference. Pairs with no question text are skipped."""
    questions = []
    for path in sorted(folder.rglob("*.xml")):
        try:
            root = etree.parse(str(path), _PARSER).getroot()
        except etree.XMLSyntaxError as exc:
            raise EvalSetError(f"{path}: line {exc.lineno}: malformed XML: {exc.msg}") from None
        for pair in root.iter("QAPair"):
            question = pair.find("Question")
            if question is None or not (question.text or "").strip():
                continue
            answer = pair.find("Answer")
            questions.append(
                KnowledgeQuestion(
                    id=question.get("qid") or f"{path.stem}:{pair.get('pid')}",
                    question=" ".join(question.text.split()),
                    expect="either",
                    reference=" ".join((answer.text or "").split()) if answer is not None else None,
                )
            )
    if not questions:
        raise EvalSetError(f"{folder}: no MedQuAD QA pairs (*.xml with <QAPair><Question>) found")
    return questions


def load_set(path: Path) -> list[KnowledgeQuestion]:
    """A JSON Lines question file, or a folder of MedQuAD XML files."""
    if path.is_dir():
        return load_medquad(path)
    if not path.is_file():
        raise EvalSetError(f"{path}: no such file or folder")
    return load_jsonl(path)


def half(questions: list[KnowledgeQuestion], which: Half) -> list[KnowledgeQuestion]:
    """A fixed split by position in the file: ``even`` is rows 0, 2, 4, ... (0-based), ``odd`` the rest. Used to
    develop on one half and report the other as held out."""
    start = 0 if which == "even" else 1
    return questions[start::2]


def citation_valid(citation: dict[str, Any]) -> bool:
    """The quote is exactly the source file's text at the cited offsets, and its hash matches."""
    try:
        source = (REPO_ROOT / citation["source_uri"]).read_text(encoding="utf-8-sig")
        quote = citation["quote"]
        return (
            bool(quote)
            and source[citation["start"] : citation["end"]] == quote
            and hashlib.sha256(quote.encode("utf-8")).hexdigest() == citation["sha256"]
        )
    except (KeyError, OSError, TypeError):
        return False


def composer_score(deps: Any, question: str) -> float | None:
    """The composer's best score for the question over the knowledge base, as ``answer`` computes it; None when
    the question names a number the sources never mention (abstained before the composer runs)."""
    from assistant.ask import retrieve
    from assistant.compose.composer import compose
    from assistant.index.vectors import KNOWLEDGE
    from assistant.prompts import load_prompt
    from assistant.retrieval.hybrid import Scope, unknown_numbers

    hits, vector = retrieve(deps.search, question, None, deps.top_k)
    if unknown_numbers(deps.search, question, [Scope(KNOWLEDGE)]):
        return None
    prompt = load_prompt("answer/composer", prompts_dir=deps.prompts_dir)
    composition = compose(question, vector, hits, deps.embedder, deps.sentence_vectors, prompt, deps.abstain_threshold)
    return composition.best_score


def evaluate_with(deps: Any, questions: list[KnowledgeQuestion], name: str) -> KnowledgeEval:
    """Score ``questions`` against an already indexed knowledge base (``deps``: the context's ``answer_deps``)."""
    from assistant.ask import answer

    report = KnowledgeEval(name=name, threshold=deps.abstain_threshold)
    for item in questions:
        response = answer(deps, item.question, None, "care_manager").response
        valid = sum(1 for c in response["citations"] if citation_valid(c))
        report.results.append(
            QuestionResult(
                id=item.id,
                question=item.question,
                expect=item.expect,
                abstained=bool(response["abstained"]),
                key_facts=item.key_facts_in(response["answer"]) if item.expect == "answer" else None,
                score=composer_score(deps, item.question),
                answer=response["answer"],
                citations=len(response["citations"]),
                citations_valid=valid,
                reference=item.reference,
            )
        )
    return report


@contextmanager
def knowledge_context() -> Iterator[Any]:
    """A fresh data dir with the knowledge base indexed, so the eval never reads or writes the operator's data."""
    from assistant.context import open_context
    from assistant.index.knowledge import ingest_knowledge
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory(prefix="caretrail-knowledge-eval-") as tmp:
        ctx = open_context(Settings(data_dir=Path(tmp) / "data"))
        report = ingest_knowledge(ctx.knowledge_deps)
        if report.errors:
            raise RuntimeError(f"knowledge ingest failed: {report.errors}")
        yield ctx


def evaluate(path: Path, which: Half | None = None, limit: int | None = None) -> KnowledgeEval:
    questions = load_set(path)
    if which:
        questions = half(questions, which)
    if limit:
        questions = questions[:limit]
    name = path.name + (f" ({which} half)" if which else "")
    with knowledge_context() as ctx:
        return evaluate_with(ctx.answer_deps, questions, name)
