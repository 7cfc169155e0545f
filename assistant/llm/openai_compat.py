"""Any OpenAI-compatible ``/v1/chat/completions`` server (vLLM, llama.cpp server, LM Studio, a gateway).

A langchain-core chat model over plain httpx rather than the ``openai`` SDK: the wire format is one POST, and the
client must never read proxy settings from the environment (``trust_env=False``), so PHI-free prompts still go only
where the settings say.
"""

from __future__ import annotations

from typing import Any

import httpx
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.llm.base import BackendError, message_dict
from assistant.settings import Settings


class OpenAICompatBackend(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    base_url: str
    model_name: str
    api_key: str = "not-needed"
    timeout: float = 60.0
    _client: httpx.Client = PrivateAttr()

    def __init__(self, base_url: str, model: str, api_key: str = "not-needed", timeout: float = 60.0) -> None:
        super().__init__(base_url=base_url.rstrip("/"), model_name=model, api_key=api_key, timeout=timeout)
        self._client = httpx.Client(
            timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}, trust_env=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatBackend:
        return cls(settings.openai_base_url, settings.openai_model, settings.openai_api_key.get_secret_value(),
                   settings.openai_timeout_seconds)

    @property
    def model_id(self) -> str:
        return self.model_name

    @property
    def _llm_type(self) -> str:
        return "openai-compatible"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        payload: dict[str, Any] = {"model": self.model_name, "messages": [message_dict(m) for m in messages],
                                   "max_tokens": kwargs.get("max_tokens", 256),
                                   "temperature": kwargs.get("temperature", 0.0)}
        if stop:
            payload["stop"] = stop
        try:
            response = self._client.post(f"{self.base_url}/chat/completions", json=payload)
            response.raise_for_status()
            body = response.json()
            text = str(body["choices"][0]["message"]["content"])
        except (httpx.HTTPError, KeyError, IndexError, ValueError, TypeError) as exc:
            raise BackendError(f"chat completion failed at {self.base_url}: {type(exc).__name__}") from exc
        usage = body.get("usage") if isinstance(body, dict) else None
        message = AIMessage(content=text, response_metadata={"usage": usage or {}})
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output={"usage": usage or {}})

    def close(self) -> None:
        self._client.close()
