"""The PHI boundary: the only way to call a model.

Every outgoing message is pseudonymized by the default detector (hand rules plus the learned tagger,
``redaction.engine.detect``), the whole payload is scanned once more, and the call is refused
(after an audit event) if any identifier that is not one of our own surrogates is still there. The
reply is re-identified locally. Audit events carry the pseudonymized prompt only, never raw text.
A patient's surrogates and date offset live in the encrypted vault, so every call about that patient
(in any process) uses the same ``PERSON_1`` and the same shifted dates, and a later reply that repeats
an earlier surrogate still maps back.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from langchain_core.messages import convert_to_messages

from assistant.llm.base import BackendError, ChatBackend
from assistant.redaction.engine import Entity, detect, detector_version
from assistant.redaction.transform import PseudonymSession, pseudonymize
from assistant.redaction.vault import Vault
from assistant.settings import Settings

log = logging.getLogger(__name__)

AuditHook = Callable[[dict], None]


class PHILeakRefused(RuntimeError):
    """Identifiers were still found in the outgoing payload; nothing was sent."""

    def __init__(self, types: list[str]) -> None:
        super().__init__(f"refused to send: identifier(s) left after pseudonymization ({', '.join(types)})")
        self.types = types


@dataclass
class GuardedResult:
    text: str
    pseudonymized_messages: list[dict]
    model_id: str
    usage: dict = field(default_factory=dict)  # token counts as the backend reports them (for benchmarks)


def leftover_identifiers(text: str, session: PseudonymSession) -> list[Entity]:
    """Identifiers in ``text`` that are not surrogates this session issued."""
    spans = [
        (m.start(), m.end())
        for surrogate in session.originals
        for m in _find_all(text, surrogate)
    ]
    return [e for e in detect(text) if not any(s <= e.start and e.end <= t for s, t in spans)]


def _find_all(text: str, needle: str) -> Iterator[re.Match[str]]:
    return re.finditer(rf"(?<![\w/]){re.escape(needle)}(?![\w/])", text)


class GuardedLLM:
    def __init__(
        self,
        backend: ChatBackend,
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        vault: Vault | None = None,
    ) -> None:
        self.backend = backend
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.vault = vault
        # A patient's session is read, extended and written back per call; two concurrent calls about one
        # patient would otherwise each write their own copy and the second would drop the first's surrogates.
        self._session_lock = threading.Lock()

    def session_for(self, patient_id: str | None) -> PseudonymSession:
        """The patient's persisted session, or a throwaway one when there is no vault or no patient.

        Without a patient there is nothing to keep stable, and a mapping nobody can look up again would
        only leave more PHI on disk.
        """
        if self.vault is None or patient_id is None:
            return PseudonymSession(patient_id=patient_id)
        return PseudonymSession(patient_id=patient_id, session_id=f"patient:{patient_id}", vault=self.vault)

    @property
    def model_id(self) -> str:
        return str(getattr(self.backend, "model_id", None) or self.backend._llm_type)

    def complete(
        self,
        messages: list[dict],
        *,
        patient_id: str | None = None,
        session: PseudonymSession | None = None,
        audit_hook: AuditHook | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> GuardedResult:
        with self._session_lock:
            session = session or self.session_for(patient_id)
            outgoing = [{**message, "content": _pseudonymize(str(message.get("content", "")), session)}
                        for message in messages]
            session.save()  # the clean-up pass issues surrogates outside ``pseudonymize``, which saves its own
        # Only "content" is transformed; every other string field (a "name", tool arguments) goes out as
        # given, so the scan covers all of them and refuses if any still carries an identifier.
        leftovers = [e for m in outgoing for value in _strings(m) for e in leftover_identifiers(value, session)]
        if leftovers:
            types = sorted({e.type for e in leftovers})
            # The leftover text itself is PHI: the event names its types, and the prompt it carries is
            # masked a second time so the audit log never stores what the scan found.
            masked = [
                {k: _mask(v, leftover_identifiers(v, session)) if isinstance(v, str) else v for k, v in m.items()}
                for m in outgoing
            ]
            event = {"event": "llm_refused", "model": self.model_id, "prompt_pseudonymized": masked,
                     "reason": f"identifiers remain after pseudonymization: {', '.join(types)}",
                     "phi_detector": detector_version()}
            if audit_hook:
                audit_hook(event)
            log.warning("LLM call refused: %s", event["reason"])
            raise PHILeakRefused(types)
        try:
            message = self.backend.invoke(
                convert_to_messages(outgoing),
                max_tokens=max_tokens or self.max_tokens,
                temperature=self.temperature if temperature is None else temperature,
            )
        except BackendError:
            raise
        except Exception as exc:  # a langchain chat model of another family raises its own errors
            raise BackendError(f"{self.model_id}: {type(exc).__name__}") from exc
        reply = message.text
        if audit_hook:
            # Which detector cleared the prompt: the rule set and the tagger model's digest.
            audit_hook({"event": "llm_call", "model": self.model_id, "prompt_pseudonymized": outgoing,
                        "reason": None, "phi_detector": detector_version()})
        usage = dict(message.response_metadata.get("usage") or {})
        return GuardedResult(session.reidentify(reply), outgoing, self.model_id, usage)


CLEANUP_PASSES = 2


def _pseudonymize(text: str, session: PseudonymSession) -> str:
    """Pseudonymize, then replace what a second look finds in the transformed text.

    Detection is contextual, so replacing one identifier can expose a neighbour ("Siri or Alexa" becomes
    "Siri or PERSON_1", and "Siri" now reads as a place). Those leftovers get surrogates of their own; the
    refusal check after this still sees every field, so anything that survives is never sent.
    """
    text = pseudonymize(text, session).text
    for _ in range(CLEANUP_PASSES):
        leftovers = leftover_identifiers(text, session)
        if not leftovers:
            break
        for entity in sorted(leftovers, key=lambda e: e.start, reverse=True):
            text = text[: entity.start] + session.surrogate(entity.type, entity.text) + text[entity.end :]
    return text


def _strings(message: dict) -> list[str]:
    return [value for value in message.values() if isinstance(value, str)]


def _mask(text: str, entities: list[Entity]) -> str:
    for entity in sorted(entities, key=lambda e: e.start, reverse=True):
        text = text[: entity.start] + f"[{entity.type}]" + text[entity.end :]
    return text


def get_llm(settings: Settings) -> GuardedLLM | None:
    """The configured model behind the guard; ``None`` for "composer" (deterministic, no model)."""
    if settings.llm_backend == "composer":
        return None
    vault = Vault.from_settings(settings)
    if settings.llm_backend == "openai":
        from assistant.llm.openai_compat import OpenAICompatBackend

        return GuardedLLM(OpenAICompatBackend.from_settings(settings), max_tokens=settings.llm_max_tokens,
                          vault=vault)
    from assistant.llm.local import LocalBackend

    return GuardedLLM(LocalBackend.from_settings(settings), max_tokens=settings.llm_max_tokens, vault=vault)
