"""One checklist result in the output a person or a system asked for: JSON, Markdown, PDF or a FHIR Bundle.

Rendering only: the result was built, checked for access and audited by the service layer before it gets here.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.records.store import PatientRow
from assistant.transitions import fhir_plan, markdown, pdf

MEDIA_TYPES = {"json": "application/json", "markdown": "text/markdown; charset=utf-8", "pdf": "application/pdf",
               "fhir": "application/fhir+json"}  # fmt: skip
SUFFIXES = {"json": "json", "markdown": "md", "pdf": "pdf", "fhir": "fhir.json"}


def render(result: dict[str, Any], output: str, patient: PatientRow | None = None) -> tuple[bytes, str, str]:
    """``(content, media type, file name)``."""
    name = f"checklist-{result['kind']}-{result.get('episode_id') or result['patient_id']}.{SUFFIXES[output]}"
    if output == "markdown":
        return markdown.render(result).encode("utf-8"), MEDIA_TYPES[output], name
    if output == "pdf":
        return pdf.render(result), MEDIA_TYPES[output], name
    if output == "fhir":
        body = fhir_plan.to_bundle(result, patient)
        return json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"), MEDIA_TYPES[output], name
    return json.dumps(result, indent=2, ensure_ascii=False, default=str).encode("utf-8"), MEDIA_TYPES[output], name
