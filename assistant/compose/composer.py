"""The default "LLM": a deterministic composer that answers only with sentences it can cite.

Why extractive: a care manager must be able to trust every sentence. Selecting whole sentences from
retrieved spans means each one is, verbatim, what the cited source says; nothing is paraphrased, so
nothing can be invented. When the best sentence is not close enough to the question, the composer
abstains instead of guessing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from assistant.index.embedder import Embedder
from assistant.index.writer import decode_vectors
from assistant.prompts import Prompt
from assistant.retrieval.bm25 import tokenize_query
from assistant.retrieval.hybrid import Hit

COMPOSER_ID = "caretrail-grounded-composer/1"
_VECTOR_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_VECTOR_CACHE_SIZE = 4096


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


def _sentence_vectors(hit: Hit, texts: list[str], embedder: Embedder) -> np.ndarray:
    """Stored vectors when the indexer computed them; otherwise embed once and keep in a small LRU."""
    row = hit.row
    if row.sentence_vectors:
        vectors = decode_vectors(row.sentence_vectors, embedder.dimension)
        if len(vectors) == len(texts):
            return vectors
    cached = _VECTOR_CACHE.get(row.sha256)
    if cached is None or len(cached) != len(texts):
        # Record text is terse ("None ordered.", "- furosemide 40 mg daily"): its heading carries half the
        # meaning, so each line is embedded together with the section it sits under.
        cached = embedder.embed([f"{row.section}: {text}" for text in texts])
        _VECTOR_CACHE[row.sha256] = cached
        while len(_VECTOR_CACHE) > _VECTOR_CACHE_SIZE:
            _VECTOR_CACHE.popitem(last=False)
    return cached


def candidates(question: str, question_vector: np.ndarray, hits: list[Hit], embedder: Embedder,
               prompt: Prompt) -> list[Candidate]:
    question_terms = _terms(question)
    weight = float(prompt["overlap_weight"])
    title_weight = float(prompt["title_weight"])
    patient_weight = float(prompt["patient_weight"])
    min_chars = int(prompt["min_sentence_chars"])
    found: list[Candidate] = []
    for rank, hit in enumerate(hits):
        row = hit.row
        spans = [(int(s), int(e)) for s, e in row.sentence_spans]
        texts = [row.text[s:e] for s, e in spans]
        shown = with_labels(row.text, spans)
        if not texts:
            continue
        similarities = _sentence_vectors(hit, texts, embedder) @ question_vector
        heading = section_overlap(question_terms, row.section)
        own_record = patient_weight if row.patient_id else 0.0
        for (start, end), text, similarity in zip(shown, texts, similarities, strict=True):
            if len(text) < min_chars or is_heading(text, row.section):
                continue
            text = row.text[start:end]
            overlap = len(question_terms & _terms(text)) / len(question_terms) if question_terms else 0.0
            found.append(
                Candidate(
                    hit=hit,
                    hit_rank=rank,
                    start=row.start + start,
                    end=row.start + end,
                    text=text,
                    similarity=float(similarity),
                    overlap=overlap,
                    score=float(similarity) + weight * overlap + title_weight * heading + own_record,
                )
            )
    found.sort(key=lambda c: (-c.score, c.hit_rank, c.start))
    return found


def compose(question: str, question_vector: np.ndarray, hits: list[Hit], embedder: Embedder, prompt: Prompt,
            threshold: float) -> Composition:
    ranked = candidates(question, question_vector, hits, embedder, prompt)
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
