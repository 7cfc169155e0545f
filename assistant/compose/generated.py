"""Answers written by a language model, kept only where the verifier can tie each sentence to a source.

The model sees numbered source passages (pseudonymized by the guard) and must end every sentence with
``[n]``. Each cited number is resolved to the sentence of passage n that best supports the model's
sentence; that span becomes the citation. The citation verifier then drops any sentence its quote does
not support, so paraphrase that drifts from the source is never shown as fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.citations.verify import support
from assistant.index.sentences import sentence_spans
from assistant.llm.guard import AuditHook, GuardedLLM
from assistant.prompts import Prompt
from assistant.retrieval.hybrid import Hit

_MARKER = re.compile(r"\s*\[(\d{1,2})\]")
# Models often write "... discharge. [1] Next sentence": move such markers inside their sentence.
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d{1,2}\])+)")
MAX_SOURCE_CHARS = 1200


@dataclass(frozen=True)
class GeneratedSentence:
    text: str
    citations: list[tuple[Hit, int, int]]  # (hit, absolute start, absolute end) per cited source


@dataclass(frozen=True)
class Generation:
    sentences: list[GeneratedSentence]
    abstained: bool
    model_id: str
    raw_text: str


def build_messages(prompt: Prompt, question: str, hits: list[Hit]) -> list[dict]:
    sources = "\n\n".join(
        f"[{n}] {hit.title} - {hit.section}\n{hit.text[:MAX_SOURCE_CHARS]}"
        for n, hit in enumerate(hits, start=1)
    )
    return prompt.chat_messages(sources=sources, question=question)


def best_span(hit: Hit, sentence: str) -> tuple[int, int]:
    """The sentence of the cited passage that best supports the model's sentence (absolute offsets)."""
    spans = sentence_spans(hit.text) or [(0, len(hit.text))]
    start, end = max(spans, key=lambda span: (support(sentence, hit.text[span[0] : span[1]]), -span[0]))
    return hit.start + start, hit.start + end


def parse_answer(text: str, hits: list[Hit]) -> list[GeneratedSentence]:
    text = _TRAILING_MARKERS.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    sentences = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        numbers = [int(n) for n in _MARKER.findall(piece)]
        clean = _MARKER.sub("", piece).strip()
        if not clean:
            continue
        cited = [hits[n - 1] for n in dict.fromkeys(numbers) if 1 <= n <= len(hits)]
        sentences.append(GeneratedSentence(clean, [(hit, *best_span(hit, clean)) for hit in cited]))
    return sentences


def generate_answer(llm: GuardedLLM, prompt: Prompt, question: str, hits: list[Hit], patient_id: str | None,
                    audit_hook: AuditHook) -> Generation:
    result = llm.complete(build_messages(prompt, question, hits), patient_id=patient_id, audit_hook=audit_hook)
    text = result.text.strip()
    abstain = str(prompt["abstain_message"]).rstrip(".").lower()
    if not text or abstain in text.lower():
        return Generation([], True, result.model_id, text)
    return Generation(parse_answer(text, hits), False, result.model_id, text)
