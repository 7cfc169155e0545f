"""Machine translation for outreach: free text, and languages no template covers.

The backend is a local CTranslate2 model given by path (``CARETRAIL_OUTREACH_TRANSLATION_MODELS``; nothing leaves
the machine), else the configured language model behind the PHI guard (``assistant.llm.guard``: the prompt is
pseudonymized, scanned and refused if an identifier is left; the reply is re-identified locally). With no model
configured (``CARETRAIL_LLM_BACKEND=composer``, the default) there is no translator and the draft is refused with
one line, never sent in English instead.

Every machine translation is translated back into English by the same backend, so the reviewer can compare the
meaning, and the round-trip check lists any date, dose or name of the English source the back-translation lost.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import CaretrailError
from assistant.llm.guard import GuardedLLM
from assistant.outreach.languages import language
from assistant.prompts import load_prompt


class NoTranslator(CaretrailError):
    status_code = 422
    exit_code = 1


@dataclass
class Translation:
    text: str
    model: str
    events: list[dict[str, Any]] = field(default_factory=list)  # the guard's audit events (pseudonymized prompts)


class Translator(Protocol):
    model_id: str

    def translate(self, text: str, source: str, target: str, patient_id: str | None) -> Translation: ...


class LLMTranslator:
    """The configured model, always through the guard."""

    def __init__(self, llm: GuardedLLM, prompts_dir: Path) -> None:
        self.llm = llm
        self.prompt = load_prompt("outreach/translate", prompts_dir=prompts_dir)
        self.model_id = f"{llm.model_id} ({self.prompt.ref})"

    def translate(self, text: str, source: str, target: str, patient_id: str | None) -> Translation:
        events: list[dict[str, Any]] = []
        names = {"source": language(source).name, "target": language(target).name}
        messages = self.prompt.chat_messages(**names, text=text)
        # A translation is about as long as its source; a small model that rambles stops here, not at 512 tokens.
        budget = min(256, 24 + len(text))
        result = self.llm.complete(
            messages, patient_id=patient_id, audit_hook=events.append, max_tokens=budget, temperature=0.0
        )
        return Translation(clean(result.text), self.model_id, events)


def clean(reply: str) -> str:
    """The translation alone: the first paragraph, without quotes or a "Translation:" label a small model adds."""
    text = reply.strip()
    text = re.sub(r"^(translation|translated text|here is the translation)[^:\n]*:\s*", "", text, flags=re.I)
    text = text.split("\n\n")[0].strip()
    if len(text) >= 2 and text[0] in "\"'“«「" and text[-1] in "\"'”»」":
        text = text[1:-1].strip()
    return " ".join(text.split())


class CTranslate2Translator:
    """Local models by path, one per direction (``en-es``, ``es-en``): nothing leaves the machine, so no guard.

    Two layouts are read: an OPUS-MT model converted with ``ct2-transformers-converter`` (``model.bin`` beside
    ``source.spm`` and ``target.spm``; Marian sources end with ``</s>``), and an Argos Translate package (the model in
    ``model/`` and one ``sentencepiece.model``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.model_id = f"ctranslate2:{folder.name}"

    def _direction(self, source: str, target: str) -> tuple[Any, Any, Any, bool]:
        pair = self.folder / f"{source}-{target}"
        if (pair / "model" / "model.bin").is_file() and (pair / "sentencepiece.model").is_file():
            spm = str(pair / "sentencepiece.model")
            return _load_ct2(str(pair / "model"), spm, spm, False)
        if (pair / "model.bin").is_file() and (pair / "source.spm").is_file() and (pair / "target.spm").is_file():
            return _load_ct2(str(pair), str(pair / "source.spm"), str(pair / "target.spm"), True)
        raise NoTranslator(
            f"{pair}: no CTranslate2 model for {language(source).name} to {language(target).name} "
            "(model.bin with source.spm and target.spm, or model/ with sentencepiece.model)"
        )

    def translate(self, text: str, source: str, target: str, patient_id: str | None) -> Translation:
        translator, source_sp, target_sp, marian = self._direction(source, target)
        tokens = source_sp.encode(text, out_type=str) + (["</s>"] if marian else [])
        result = translator.translate_batch([tokens], beam_size=2, max_decoding_length=min(256, 2 * len(tokens) + 16))
        pieces = [p for p in result[0].hypotheses[0] if p not in ("</s>", "<pad>", "<unk>")]
        return Translation(" ".join(target_sp.decode(pieces).split()), f"{self.model_id}/{source}-{target}")


@lru_cache(maxsize=8)
def _load_ct2(model: str, source_spm: str, target_spm: str, marian: bool) -> tuple[Any, Any, Any, bool]:
    try:
        import ctranslate2
        import sentencepiece
    except ImportError as exc:  # pinned in the lock; a hand-made environment may lack them
        raise NoTranslator(
            f"local translation needs the ctranslate2 and sentencepiece packages ({exc.name} is "
            "missing): run make install"
        ) from None
    translator = ctranslate2.Translator(model, device="cpu", inter_threads=1, intra_threads=2)
    return (
        translator,
        sentencepiece.SentencePieceProcessor(model_file=source_spm),
        sentencepiece.SentencePieceProcessor(model_file=target_spm),
        marian,
    )


def get_translator(llm: GuardedLLM | None, prompts_dir: Path, models: Path | None = None) -> Translator | None:
    """Local models by path first (nothing leaves the machine), then the configured LLM behind the guard, else none."""
    if models is not None:
        if not models.is_dir():
            raise NoTranslator(f"{models}: CARETRAIL_OUTREACH_TRANSLATION_MODELS is not a folder")
        return CTranslate2Translator(models)
    return LLMTranslator(llm, prompts_dir) if llm is not None else None


def require(translator: Translator | None, why: str) -> Translator:
    if translator is None:
        raise NoTranslator(
            f"{why}, and no translation backend is configured (set CARETRAIL_OUTREACH_TRANSLATION_MODELS "
            "to local CTranslate2 models, or CARETRAIL_LLM_BACKEND to local or openai); nothing is sent "
            "in English instead"
        )
    return translator


_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|units?|meq|%)\b", re.IGNORECASE)


def round_trip(english: str, back: str, names: list[str], dates: list[str]) -> dict[str, Any]:
    """Which dates, doses and names of the English source the back-translation kept (case-insensitive)."""
    lowered = back.casefold()
    doses = sorted({m.group(0) for m in _DOSE.finditer(english)})
    kept: dict[str, list[str]] = {"dates": [], "doses": [], "names": []}
    lost: dict[str, list[str]] = {"dates": [], "doses": [], "names": []}
    for kind, items in (("dates", dates), ("doses", doses), ("names", names)):
        for item in items:
            if not item:
                continue
            target = " ".join(item.split()).casefold()
            found = target in " ".join(lowered.split())
            if kind == "doses" and not found:  # "40 mg" against "40mg"
                found = target.replace(" ", "") in lowered.replace(" ", "")
            (kept if found else lost)[kind].append(item)
    checked = sum(len(v) for v in kept.values()) + sum(len(v) for v in lost.values())
    return {"kept": kept, "lost": lost, "checked": checked, "passes": not any(lost.values())}


def looks_untranslated(source: str, output: str, kept: list[str]) -> bool:
    """True when the "translation" is still mostly the English source (a small model often copies its input).

    The filled facts (names, dates, numbers) are meant to stay as written, so they are taken out of both first."""
    a, b = source.casefold(), output.casefold()
    for value in kept:
        a, b = a.replace(value.casefold(), " "), b.replace(value.casefold(), " ")
    a, b = " ".join(a.split()), " ".join(b.split())
    return bool(a) and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def missing_facts(output: str, must_keep: list[str]) -> list[str]:
    """The facts a machine translation dropped: the sender's name, the callback number, the first name."""
    squeezed = "".join(output.split()).casefold()
    return [value for value in must_keep if value and "".join(value.split()).casefold() not in squeezed]
