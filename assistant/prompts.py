"""Versioned prompt and message templates, read from ``prompts/`` (YAML files with id and version).

Why versioned files: the audit log records which template produced each answer, so a template is
never edited in place; a change is a new file with a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.settings import get_settings


@dataclass(frozen=True)
class Prompt:
    id: str
    version: int
    fields: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.id}/{self.version}"

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def chat_messages(self, **values: str) -> list[dict]:
        """The template's ``system`` and ``user`` fields as chat messages, filled by langchain-core's
        ``ChatPromptTemplate`` (the one way a model prompt is built), as role/content dicts for the guard."""
        from langchain_core.prompts import ChatPromptTemplate

        from assistant.llm.base import message_dict

        parts = [(role, str(self.fields[role])) for role in ("system", "user") if role in self.fields]
        template = ChatPromptTemplate.from_messages(parts)
        return [message_dict(m) for m in template.format_messages(**values)]


@lru_cache(maxsize=64)
def _load(path: str) -> Prompt:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Prompt(id=str(data["id"]), version=int(data["version"]), fields=data)


def load_prompt(name: str, version: int | None = None, prompts_dir: Path | None = None) -> Prompt:
    """``load_prompt("answer/composer")`` returns the highest version unless one is asked for."""
    folder = (prompts_dir or get_settings().prompts_dir) / Path(name).parent
    stem = Path(name).name
    candidates = sorted(folder.glob(f"{stem}.v*.yaml"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
    if version is not None:
        candidates = [p for p in candidates if p.stem.endswith(f".v{version}")]
    if not candidates:
        raise FileNotFoundError(f"no prompt template {name!r} (version {version or 'latest'}) in {folder}")
    return _load(str(candidates[-1]))
