"""Any OpenAI-compatible ``/v1/chat/completions`` server (vLLM, llama.cpp server, LM Studio, a gateway)."""

from __future__ import annotations

import httpx

from assistant.llm.base import BackendError
from assistant.settings import Settings


class OpenAICompatBackend:
    def __init__(self, base_url: str, model: str, api_key: str = "not-needed", timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_id = model
        self._client = httpx.Client(
            timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}, trust_env=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatBackend:
        return cls(settings.openai_base_url, settings.openai_model, settings.openai_api_key.get_secret_value())

    def complete(self, messages: list[dict], *, max_tokens: int, temperature: float) -> str:
        payload = {"model": self.model_id, "messages": messages, "max_tokens": max_tokens,
                   "temperature": temperature}
        try:
            response = self._client.post(f"{self.base_url}/chat/completions", json=payload)
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"])
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise BackendError(f"chat completion failed at {self.base_url}: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._client.close()
