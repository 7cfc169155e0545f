"""Outreach templates: one versioned file per purpose and language, ``prompts/outreach/<purpose>/<language>.md``.

A file is YAML front matter (purpose, language, version, direction, who translated it, the opt-out line, the
English version it was translated from; optionally ``diagnosis_in_sms: true`` for a template allowed to name a
diagnosis in a text message, which none of ours is) and a body with ``{placeholder}`` slots.

Why the approval is not in the file: a translator's approval is an act by a person at a time, recorded in the
database and the audit log against the file's version and content hash (``drafts.approve_template``); a file that
says "approved" about itself proves nothing, and an edited file with a new hash needs a new approval.

A bad file gets one line naming the file and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import CaretrailError
from assistant.outreach.languages import LANGUAGES
from assistant.outreach.purposes import PURPOSES

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MARKUP = re.compile(r"[{}<>]|\$\{|\[\[|\]\]")  # anything a renderer leaves behind when a slot was not filled
REQUIRED_KEYS = ("purpose", "language", "version", "direction", "translated_by", "opt_out")
CHANGE_KINDS = ("new", "stopped", "dose_changed", "held")


class TemplateError(CaretrailError):
    """A template file that cannot be used (missing, malformed, or naming a placeholder its purpose lacks)."""

    status_code = 500
    exit_code = 1


@dataclass(frozen=True)
class Template:
    purpose: str
    language: str
    version: int
    direction: str
    translated_by: str
    opt_out: str
    body: str
    path: Path
    sha256: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.body)

    @property
    def ref(self) -> str:
        return f"outreach/{self.purpose}/{self.language}@v{self.version}"

    @property
    def is_source(self) -> bool:
        """The English template is the source every translation is checked against."""
        return self.language == "en"

    def describe(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "language": self.language,
            "version": self.version,
            "direction": self.direction,
            "translated_by": self.translated_by,
            "sha256": self.sha256,
            "path": str(self.path),
            "source_version": self.meta.get("source_version"),
            "translation_status": self.meta.get("translation_status"),
            "diagnosis_in_sms": bool(self.meta.get("diagnosis_in_sms", False)),
        }


def template_path(folder: Path, purpose: str, language: str) -> Path:
    return folder / purpose / f"{language}.md"


def _split(path: Path, text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        raise TemplateError(f"{path}: line 1: a template starts with YAML front matter between '---' lines")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise TemplateError(f"{path}: the front matter is not closed with a '---' line")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}" if mark is not None else "front matter"
        raise TemplateError(f"{path}: {where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(meta, dict):
        raise TemplateError(f"{path}: the front matter must be a mapping of keys to values")
    return meta, text[end + 5 :].strip()


@lru_cache(maxsize=512)
def _load(path: str, mtime_ns: int) -> Template:
    file = Path(path)
    raw = file.read_bytes()
    meta, body = _split(file, raw.decode("utf-8"))
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise TemplateError(f"{file}: front matter lacks {', '.join(missing)}")
    purpose, language = str(meta["purpose"]), str(meta["language"])
    if (purpose, language) != (file.parent.name, file.stem):
        raise TemplateError(
            f"{file}: front matter says {purpose}/{language}, the path says {file.parent.name}/{file.stem}"
        )
    if purpose not in PURPOSES:
        raise TemplateError(f"{file}: unknown purpose {purpose!r}")
    if not isinstance(meta["version"], int) or meta["version"] < 1:
        raise TemplateError(f"{file}: version must be a whole number from 1")
    if meta["direction"] not in ("ltr", "rtl"):
        raise TemplateError(f"{file}: direction must be ltr or rtl")
    allowed = set(PURPOSES[purpose].placeholders)
    unknown = sorted(set(PLACEHOLDER.findall(body)) - allowed)
    if unknown:
        raise TemplateError(
            f"{file}: placeholder(s) {', '.join(unknown)} are not facts of {purpose} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    absent = sorted(allowed - set(PLACEHOLDER.findall(body)))
    if absent:
        raise TemplateError(f"{file}: the body never uses {', '.join(absent)}")
    if purpose == "medication_change":
        words = meta.get("change_words") or {}
        if not isinstance(words, dict) or sorted(words) != sorted(CHANGE_KINDS):
            raise TemplateError(f"{file}: change_words must name {', '.join(CHANGE_KINDS)}")
    return Template(
        purpose,
        language,
        int(meta["version"]),
        str(meta["direction"]),
        str(meta["translated_by"]),
        str(meta["opt_out"]),
        body,
        file,
        hashlib.sha256(raw).hexdigest(),
        meta,
    )


def load_template(folder: Path, purpose: str, language: str) -> Template | None:
    """The template for ``purpose`` in ``language``, or None when there is no file for that language."""
    if purpose not in PURPOSES:
        raise TemplateError(f"unknown purpose {purpose!r}; choose one of: {', '.join(PURPOSES)}")
    path = template_path(folder, purpose, language)
    if not path.is_file():
        return None
    return _load(str(path), path.stat().st_mtime_ns)


def all_templates(folder: Path) -> list[Template]:
    """Every template for every purpose and language we ship, in a stable order (a missing one raises)."""
    found = []
    for purpose in PURPOSES:
        for code in LANGUAGES:
            template = load_template(folder, purpose, code)
            if template is None:
                raise TemplateError(f"{template_path(folder, purpose, code)}: missing")
            found.append(template)
    return found


def render(body: str, values: dict[str, str]) -> str:
    """Fill every slot; a slot with no value raises rather than leaving ``{name}`` in a patient's message."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"no value for placeholder {{{name}}}")
        return values[name]

    return PLACEHOLDER.sub(fill, body)


def leftover_markup(text: str) -> list[str]:
    return MARKUP.findall(text)
