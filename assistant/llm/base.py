"""The one interface every model backend implements: langchain-core's chat model.

Why langchain-core: it is the chat-model interface the ecosystem already speaks (prompt templates, message types,
``invoke``), so a backend written for it can be swapped for any other langchain chat model without touching the
guard. Our backends subclass ``BaseChatModel`` and accept ``max_tokens`` and ``temperature`` per call; the guard
(``assistant/llm/guard.py``) is still the only code that calls them.
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

ChatBackend = BaseChatModel

# How our message dicts name the speaker, and how langchain's message types map back to it.
ROLE_OF_TYPE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def message_dict(message: BaseMessage) -> dict:
    """A langchain message as the OpenAI-style dict servers and our audit rows use."""
    out = {"role": ROLE_OF_TYPE.get(message.type, message.type), "content": message.text}
    if message.name:
        out["name"] = message.name
    return out


class BackendError(RuntimeError):
    """The backend could not produce an answer (unreachable server, malformed reply, missing model)."""
