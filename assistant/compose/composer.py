"""The default "LLM": a deterministic composer that answers only with sentences it can cite.

Why extractive: a care manager must be able to trust every sentence. Selecting whole sentences from
retrieved spans means each one is, verbatim, what the cited source says; nothing is paraphrased, so
nothing can be invented. When the best sentence is not close enough to the question, the composer
abstains instead of guessing.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from assistant.compose.question import (
    Asks,
    QuestionPart,
    announced_count,
    carries,
    content_terms,
    dated_only,
    is_year,
    numbers_named,
    parts,
    question_terms,
    ranking_asked,
    states_rank,
    time_order,
    years,
)
from assistant.index.embedder import Embedder
from assistant.index.writer import decode_vectors, record_sentence_text
from assistant.prompts import Prompt
from assistant.retrieval.bm25 import tokenize_query
from assistant.retrieval.hybrid import Hit

COMPOSER_ID = "caretrail-grounded-composer/3"


class SentenceVectorCache:
    """Sentence vectors the composer had to embed at answer time (chunks indexed without stored ones), in a
    small LRU.

    Keyed by the exact strings embedded, section heading included: two chunks with the same text under
    different headings ("None." under "Pending Results" and under "Home Health/DME") embed differently and
    must not share vectors. Owned by the application context rather than the module, so a cache never
    outlives, or is shared across, the embedder that filled it.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(embedded: Sequence[str]) -> str:
        digest = hashlib.sha256()
        for text in embedded:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def get(self, embedded: Sequence[str]) -> np.ndarray | None:
        key = self._key(embedded)
        with self._lock:
            vectors = self._entries.get(key)
            if vectors is not None:
                self._entries.move_to_end(key)
            return vectors

    def put(self, embedded: Sequence[str], vectors: np.ndarray) -> None:
        key = self._key(embedded)
        with self._lock:
            self._entries[key] = vectors
            self._entries.move_to_end(key)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    hit_rank: int
    start: int  # absolute offsets in the chunk's source
    end: int
    text: str
    similarity: float
    overlap: float
    score: float  # relevance to the whole question
    index: int = 0  # position of the sentence in its chunk
    vector: np.ndarray = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    terms: frozenset[str] = field(default=frozenset(), compare=False, repr=False)


@dataclass(frozen=True)
class Composition:
    sentences: list[Candidate]
    abstained: bool
    best_similarity: float
    best_score: float  # what the threshold was compared with


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    """A section heading's terms; headings repeat across every patient's documents, so they are cached."""
    return frozenset(tokenize_query(text)[0])


def with_labels(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Extend a line that directly follows a label ("Pending Results:" then "None.") to include the label,
    so the quoted span reads as a fact on its own; the span stays contiguous source text."""
    shown = []
    for index, (start, end) in enumerate(spans):
        if index > 0:
            label_start, label_end = spans[index - 1]
            label = text[label_start:label_end]
            if label.endswith(":") and not text[label_end:start].strip():
                start = label_start
        shown.append((start, end))
    return shown


def is_heading(text: str, section: str) -> bool:
    """A label line ("Discharge Medications:") states nothing by itself and is never an answer."""
    stripped = text.strip()
    leaf = section.split(" > ")[-1].strip().lower()
    return stripped.endswith(":") or stripped.rstrip(":").strip().lower() == leaf


def section_overlap(topic: frozenset[str], section: str) -> float:
    """Share of the section heading's terms that the question uses: "discharge diagnoses" asked, the
    "Discharge Diagnoses" section's short list items become relevant even though they repeat no words."""
    heading_terms = _terms(section.split(" > ")[-1])
    if not heading_terms:
        return 0.0
    return len(topic & heading_terms) / len(heading_terms)


def _sentence_vectors(hit: Hit, texts: list[str], embedder: Embedder, cache: SentenceVectorCache) -> np.ndarray:
    """Stored vectors when the indexer computed them; otherwise embed once and keep them in the cache."""
    if hit.sentence_vectors:
        vectors = decode_vectors(hit.sentence_vectors, embedder.dimension)
        if len(vectors) == len(texts):
            return vectors
    # Rows written before record sentence vectors were stored: embedded now, as ingest embeds them today.
    embedded = [record_sentence_text(hit.section, text) for text in texts]
    vectors = cache.get(embedded)
    if vectors is None:
        vectors = embedder.embed(embedded)
        cache.put(embedded, vectors)
    return vectors


@dataclass(frozen=True)
class Query:
    """What a sentence is scored against: the whole question or one of its parts, with a weight per topic word."""

    terms: frozenset[str]
    vector: np.ndarray
    weights: dict[str, float] = field(default_factory=dict, compare=False)


def term_weights(terms: frozenset[str], pool: list[frozenset[str]], prompt: Prompt) -> dict[str, float]:
    """How much each topic word of the query says, judged among the retrieved sentences (an inverse document
    frequency over that pool): "TCM" and "visit" are in every sentence about TCM visits, "moderate-complexity"
    and "prescription drug" in one, and those pick the sentence out. A word no sentence uses gets the average
    weight, neither rewarding nor punishing other wording.

    A code the question names ("how do I bill 99496?") is what it is about, and counts ``named_number_weight``
    times. A year it names ("in 2024") only says when: ``compose`` keeps only sentences that name it, so naming it
    is a condition every candidate meets, not evidence that one fits better, and it counts ``named_year_weight``
    times (0 since v3: counted, it lifted "Milliman simulated ... 2024 MSSP ACOs" over the abstention bar for
    "which ACOs won the most shared savings in MSSP 2024?").
    """
    size = len(pool)
    frequency = {term: sum(1 for sentence in pool if term in sentence) for term in terms}
    idf = {term: math.log(1 + size / (1 + count)) for term, count in frequency.items() if count}
    neutral = sum(idf.values()) / len(idf) if idf else 1.0
    code = float(prompt["named_number_weight"])
    year = float(prompt.fields.get("named_year_weight", code))  # before v3 a year counted as a code did

    def times(term: str) -> float:
        named = numbers_named(term)
        if not named:
            return 1.0
        return year if all(is_year(number) for number in named) else code

    return {term: idf.get(term, neutral) * times(term) for term in terms}


def term_overlap(query: Query, sentence_terms: frozenset[str] | set[str]) -> float:
    """Weighted share of the query's topic words that the sentence repeats."""
    total = sum(query.weights.get(t, 1.0) for t in query.terms)
    return sum(query.weights.get(t, 1.0) for t in query.terms & sentence_terms) / total if total else 0.0


def relevance(candidate: Candidate, query: Query, prompt: Prompt) -> float:
    """Cosine similarity plus the weighted share of the query's topic words the sentence repeats and the share its
    heading repeats; a sentence of the scoped patient's own record gets a bonus."""
    overlap = term_overlap(query, candidate.terms)
    heading = section_overlap(query.terms, candidate.hit.section)
    own_record = float(prompt["patient_weight"]) if candidate.hit.patient_id else 0.0
    return (
        float(candidate.vector @ query.vector)
        + float(prompt["overlap_weight"]) * overlap
        + float(prompt["title_weight"]) * heading
        + own_record
    )


def candidates(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    embedder: Embedder,
    vector_cache: SentenceVectorCache,
    prompt: Prompt,
    about_patient: bool = False,
) -> list[Candidate]:
    """Every sentence of the retrieved chunks that states something, scored against the whole question."""
    min_chars = int(prompt["min_sentence_chars"])
    drafts: list[Candidate] = []
    for rank, hit in enumerate(hits):
        spans = list(hit.sentence_spans)
        texts = [hit.text[s:e] for s, e in spans]
        shown = with_labels(hit.text, spans)
        if not texts:
            continue
        vectors = _sentence_vectors(hit, texts, embedder, vector_cache)
        for index, ((start, end), text, vector) in enumerate(zip(shown, texts, vectors, strict=True)):
            if len(text) < min_chars or is_heading(text, hit.section):
                continue
            text = hit.text[start:end]
            terms = content_terms(text)
            draft = Candidate(
                hit=hit,
                hit_rank=rank,
                start=hit.start + start,
                end=hit.start + end,
                text=text,
                similarity=float(vector @ question_vector),
                overlap=0.0,
                score=0.0,
                index=index,
                vector=vector,
                terms=frozenset(terms),
            )
            drafts.append(draft)
    terms = question_terms(question, about_patient)
    query = Query(terms, question_vector, term_weights(terms, [d.terms for d in drafts], prompt))
    found = [replace(d, overlap=term_overlap(query, d.terms), score=relevance(d, query, prompt)) for d in drafts]
    found.sort(key=lambda c: (-c.score, c.hit_rank, c.start))
    return found


def _redundant(candidate: Candidate, chosen: list[Candidate], limit: float) -> bool:
    """A sentence whose topic words mostly repeat a chosen one's (the same fact said twice) adds nothing."""
    for other in chosen:
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) >= limit:
            return True
    return False


def _part_scores(
    question_parts: list[QuestionPart], ranked: list[Candidate], embedder: Embedder, prompt: Prompt,
    about_patient: bool,
) -> list[list[tuple[float, Candidate]]]:
    """Each part's relevance for every candidate; a one-part question reuses the whole question's scores."""
    if len(question_parts) == 1:
        return [[(c.score, c) for c in ranked]]
    vectors = embedder.embed([part.text for part in question_parts])
    scores = []
    for part, vector in zip(question_parts, vectors, strict=True):
        terms = question_terms(part.text, about_patient)
        query = Query(terms, vector, term_weights(terms, [c.terms for c in ranked], prompt))
        scores.append([(relevance(c, query, prompt), c) for c in ranked])
    return scores


def _elaboration(
    announcing: Candidate, part: QuestionPart, ranked: list[Candidate], topic: frozenset[str]
) -> list[Candidate]:
    """The sentences right after one that announces a number of items ("keeps four claims-based measures"): in
    the documents, they name the items. Taken only when the part asks for a list of that many (or of any number),
    and only while they stay on the question's topic."""
    count = announced_count(announcing.text)
    if count is None or count < 2 or (part.count is not None and part.count != count):
        return []
    following = {c.index: c for c in ranked if c.hit.chunk_id == announcing.hit.chunk_id}
    items = []
    for index in range(announcing.index + 1, announcing.index + 1 + count):
        candidate = following.get(index)
        if candidate is None or not candidate.terms & topic:
            break
        items.append(candidate)
    return items


def _extreme_year(question: str, relevant: list[Candidate]) -> int | None:
    """The earliest (or latest) year the relevant sentences mention, when the question is about the first (or
    last) years of something."""
    order = time_order(question)
    found = [year for c in relevant for year in years(c.text)]
    if order is None or not found:
        return None
    return min(found) if order == "earliest" else max(found)


def compose(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    embedder: Embedder,
    vector_cache: SentenceVectorCache,
    prompt: Prompt,
    threshold: float,
    about_patient: bool = False,
) -> Composition:
    """Abstain when even the best sentence is under the threshold; otherwise cover each part of the question with
    its best sentence (preferring one that carries the figure, time or list the part asks for), say the most
    relevant sentence, then add close runners-up that say something new."""
    ranked = candidates(question, question_vector, hits, embedder, vector_cache, prompt, about_patient)
    named = numbers_named(question)
    if named:
        # A question about 2024 or code 99496 is answered by a sentence that names it, not by the closest
        # sentence about another year or code (the sentence-level twin of the unknown-number check).
        ranked = [c for c in ranked if any(number in c.text for number in named)]
    if ranking_asked(question):
        # "Which ACOs won the most shared savings in 2024?" picks items out by rank: a sentence that neither ranks
        # nor compares ("Milliman simulated the benchmark on 2024 MSSP ACOs") cannot answer it, however many of the
        # question's words it repeats.
        ranked = [c for c in ranked if states_rank(c.text)]
    question_parts = parts(question)
    if not any(part.asks == "time" for part in question_parts):
        # "Date: 10/01/2026" heads a care manager's note and is close to any question about that note, but it says
        # only when: it answers "when", never "what did the care manager write?".
        ranked = [c for c in ranked if not dated_only(c.text)]
    if not ranked:
        return Composition([], True, 0.0, 0.0)
    if ranked[0].score < threshold:
        return Composition([], True, ranked[0].similarity, ranked[0].score)
    bar = threshold  # every sentence shown clears the bar the best one had to
    type_weight = float(prompt["answer_type_weight"])
    redundancy = float(prompt["redundancy_jaccard"])
    topic = question_terms(question, about_patient)
    extreme = _extreme_year(question, [c for c in ranked if c.score >= bar])

    def fits(candidate: Candidate, asks: list[Asks | None]) -> float:
        """How well a sentence carries the kind of answer asked for (for selection only)."""
        carried = any(carries(a, candidate.text) for a in asks)
        at_extreme = extreme is not None and extreme in years(candidate.text)
        return type_weight * (carried + at_extreme)

    chosen: list[Candidate] = []
    part_scores = _part_scores(question_parts, ranked, embedder, prompt, about_patient)
    for part, scored in zip(question_parts, part_scores, strict=True):
        eligible = [(s + fits(c, [part.asks]), c) for s, c in scored if s >= bar]
        if not eligible:
            continue
        _, pick = max(eligible, key=lambda pair: (pair[0], -pair[1].hit_rank, -pair[1].start))
        if pick in chosen or _redundant(pick, chosen, redundancy):
            continue  # an earlier part's sentence already answers this one
        chosen.append(pick)
        if part.asks == "list":
            chosen.extend(c for c in _elaboration(pick, part, ranked, topic) if c not in chosen)

    # The most relevant sentence is always said, even when a part preferred one that carries a figure: "how much
    # is the rural add-on?" is best answered by "the amount is unconfirmed", not only by another add-on's 1.5%.
    best = ranked[0]
    if best not in chosen and not _redundant(best, chosen, redundancy):
        chosen.append(best)

    asked = [part.asks for part in question_parts]
    limit = max(int(prompt["max_sentences"]), len(chosen))
    floor = max(bar, best.score - float(prompt["keep_margin"]))
    for candidate in sorted(ranked, key=lambda c: (-(c.score + fits(c, asked)), c.hit_rank, c.start)):
        if len(chosen) >= limit:
            break
        if candidate.score < floor or candidate in chosen or _redundant(candidate, chosen, redundancy):
            continue
        chosen.append(candidate)
    return Composition(chosen, False, ranked[0].similarity, ranked[0].score)
