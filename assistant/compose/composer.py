"""The default "LLM": a deterministic composer that answers only with sentences it can cite.

Why extractive: a care manager must be able to trust every sentence. Selecting whole sentences from
retrieved spans means each one is, verbatim, what the cited source says; nothing is paraphrased, so
nothing can be invented. When the best sentence is not close enough to the question, the composer
abstains instead of guessing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.index.embedder import Embedder
from assistant.index.writer import decode_vectors
from assistant.prompts import Prompt
from assistant.retrieval.bm25 import tokenize_query
from assistant.retrieval.hybrid import Hit

COMPOSER_ID = "caretrail-grounded-composer/1"


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
    score: float


@dataclass(frozen=True)
class Composition:
    sentences: list[Candidate]
    abstained: bool
    best_similarity: float


def _terms(text: str) -> set[str]:
    return set(tokenize_query(text)[0])


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


def section_overlap(question_terms: set[str], section: str) -> float:
    """Share of the section heading's terms that the question uses: "discharge diagnoses" asked, the
    "Discharge Diagnoses" section's short list items become relevant even though they repeat no words."""
    heading_terms = _terms(section.split(" > ")[-1])
    if not heading_terms:
        return 0.0
    return len(question_terms & heading_terms) / len(heading_terms)


def _sentence_vectors(hit: Hit, texts: list[str], embedder: Embedder, cache: SentenceVectorCache) -> np.ndarray:
    """Stored vectors when the indexer computed them; otherwise embed once and keep them in the cache."""
    if hit.sentence_vectors:
        vectors = decode_vectors(hit.sentence_vectors, embedder.dimension)
        if len(vectors) == len(texts):
            return vectors
    # Record text is terse ("None ordered.", "- furosemide 40 mg daily"): its heading carries half the
    # meaning, so each line is embedded together with the section it sits under.
    embedded = [f"{hit.section}: {text}" for text in texts]
    vectors = cache.get(embedded)
    if vectors is None:
        vectors = embedder.embed(embedded)
        cache.put(embedded, vectors)
    return vectors


def candidates(question: str, question_vector: np.ndarray, hits: list[Hit], embedder: Embedder,
               vector_cache: SentenceVectorCache, prompt: Prompt) -> list[Candidate]:
    question_terms = _terms(question)
    weight = float(prompt["overlap_weight"])
    title_weight = float(prompt["title_weight"])
    patient_weight = float(prompt["patient_weight"])
    min_chars = int(prompt["min_sentence_chars"])
    found: list[Candidate] = []
    for rank, hit in enumerate(hits):
        spans = list(hit.sentence_spans)
        texts = [hit.text[s:e] for s, e in spans]
        shown = with_labels(hit.text, spans)
        if not texts:
            continue
        similarities = _sentence_vectors(hit, texts, embedder, vector_cache) @ question_vector
        heading = section_overlap(question_terms, hit.section)
        own_record = patient_weight if hit.patient_id else 0.0
        for (start, end), text, similarity in zip(shown, texts, similarities, strict=True):
            if len(text) < min_chars or is_heading(text, hit.section):
                continue
            text = hit.text[start:end]
            overlap = len(question_terms & _terms(text)) / len(question_terms) if question_terms else 0.0
            found.append(
                Candidate(
                    hit=hit,
                    hit_rank=rank,
                    start=hit.start + start,
                    end=hit.start + end,
                    text=text,
                    similarity=float(similarity),
                    overlap=overlap,
                    score=float(similarity) + weight * overlap + title_weight * heading + own_record,
                )
            )
    found.sort(key=lambda c: (-c.score, c.hit_rank, c.start))
    return found


def compose(question: str, question_vector: np.ndarray, hits: list[Hit], embedder: Embedder,
            vector_cache: SentenceVectorCache, prompt: Prompt, threshold: float) -> Composition:
    ranked = candidates(question, question_vector, hits, embedder, vector_cache, prompt)
    if not ranked or ranked[0].score < threshold:
        best = ranked[0].similarity if ranked else 0.0
        return Composition([], True, best)
    best = ranked[0]
    margin = float(prompt["keep_margin"])
    chosen: list[Candidate] = [best]
    seen = {best.text.strip().lower()}
    for candidate in ranked[1:]:
        if len(chosen) >= int(prompt["max_sentences"]):
            break
        if candidate.score < best.score - margin or candidate.score < threshold:
            break
        key = candidate.text.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        chosen.append(candidate)
    return Composition(chosen, False, best.similarity)
