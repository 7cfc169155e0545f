"""The one interface every model backend implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ChatBackend(Protocol):
    model_id: str

    def complete(self, messages: list[dict], *, max_tokens: int, temperature: float) -> str:
        """Chat messages (``{"role", "content"}``) in, the assistant's reply text out."""
        ...


class BackendError(RuntimeError):
    """The backend could not produce an answer (unreachable server, malformed reply, missing model)."""
