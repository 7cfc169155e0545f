"""One outreach draft: the language chosen, the template filled with cited facts, translated where no template
covers the language, and every quality gate computed. No access checks and no audit here (the service does both).

Gates, shown with every draft: the reading grade of the English text (6th grade or below), SMS segments and
encoding, minimum necessary PHI, the opt-out wording on every text message, and leftover markup. A draft that fails
the PHI check is not kept (the service refuses it); the others are warnings the reviewer sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import BadRequest
from assistant.outreach import minimum_phi, readability, sms
from assistant.outreach.facts import Fact
from assistant.outreach.languages import ENGLISH, LANGUAGES, language, normalize
from assistant.outreach.purposes import CHANNELS, PURPOSES
from assistant.outreach.templates import PLACEHOLDER, Template, TemplateError, leftover_markup, load_template, render
from assistant.outreach.translation import Translator, looks_untranslated, missing_facts, require, round_trip
from assistant.records.store import PatientRow

SCHEMA = "caretrail.outreach/1"
RLM = "\u200f"  # right-to-left mark: a message that starts with a Latin name still reads right to left


@dataclass
class LanguageChoice:
    code: str
    notes: list[str] = field(default_factory=list)
    stated: str | None = None  # what the record says


def choose_language(patient: PatientRow, requested: str | None) -> LanguageChoice:
    """``--language`` if given, else Patient.language, else English with a visible note."""
    if requested:
        code = normalize(requested)
        return LanguageChoice(
            code,
            [f"language {code} chosen by the care team (the record says {patient.language or 'nothing'})"],
            patient.language,
        )
    if not patient.language:
        return LanguageChoice(
            ENGLISH,
            ["no preferred language on record: English used; confirm the patient's language before sending"],
            None,
        )
    code = normalize(patient.language)
    notes = []
    if patient.language.lower() == "zh":
        notes.append(
            "the record says Chinese (zh) without a script: simplified characters used; choose zh-Hant for traditional"
        )
    return LanguageChoice(code, notes, patient.language)


def _values(facts: dict[str, Fact], template: Template, message: str | None = None) -> dict[str, str]:
    values = {name: fact.render(template) for name, fact in facts.items()}
    if message is not None:
        values["message"] = message
    return values


def _with_opt_out(text: str, template: Template, channel: str) -> str:
    return f"{text} {template.opt_out}" if channel == "sms" else text


def build(
    *,
    patient: PatientRow,
    purpose: str,
    channel: str,
    choice: LanguageChoice,
    facts: dict[str, Fact],
    templates_dir: Path,
    translator: Translator | None,
    approvals: dict[str, dict[str, Any] | None],
    conditions: list[str],
    as_of: date,
) -> dict[str, Any]:
    """The draft contract (without ``audit_id`` and the draft id, which the service adds)."""
    if purpose not in PURPOSES:
        raise BadRequest(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose[:40]!r}")
    if channel not in CHANNELS:
        raise BadRequest(f"channel must be one of {', '.join(CHANNELS)}, not {channel[:20]!r}")
    source = load_template(templates_dir, purpose, ENGLISH)
    if source is None:
        raise TemplateError(f"{templates_dir / purpose / 'en.md'}: missing (every purpose needs its English source)")
    code = choice.code
    target = load_template(templates_dir, purpose, code)
    notes = list(choice.notes)
    warnings: list[str] = []
    events: list[dict[str, Any]] = []
    english_values = _values(facts, source)
    english_text = _with_opt_out(render(source.body, english_values), source, channel)
    back_translation: str | None = None
    message: str | None = None
    translation_source = "source" if code == ENGLISH else "template"
    model: str | None = None
    if code == ENGLISH:
        used = source
        text = english_text
    elif target is not None:
        used = target
        if "message" in facts:  # the care team's own words: the frame is the template's, the words the machine's
            translator = require(translator, f"free text needs translating into {language(code).name}")
            done = translator.translate(facts["message"].value, ENGLISH, code, patient.id)
            back = translator.translate(done.text, code, ENGLISH, patient.id)
            message, back_translation, model = done.text, back.text, done.model
            events += done.events + back.events
            translation_source = "machine"
        text = _with_opt_out(render(target.body, _values(facts, target, message)), target, channel)
    else:
        used = source
        translator = require(translator, f"there is no {purpose} template in {language(code).name} ({code})")
        done = translator.translate(english_text, ENGLISH, code, patient.id)
        back = translator.translate(done.text, code, ENGLISH, patient.id)
        text, back_translation, model = done.text, back.text, done.model
        events += done.events + back.events
        translation_source = "machine"
        if channel == "sms" and "STOP" not in text:
            text = f"{text} {source.opt_out}"
            warnings.append("the machine translation lost the opt-out line: the English one was added")
    direction = LANGUAGES[code].direction if code in LANGUAGES else "ltr"
    if direction == "rtl" and not text.startswith(RLM):
        text = RLM + text
    translation_gate: dict[str, Any] | None = None
    if translation_source == "machine":
        keep = [str(facts[n].value) for n in ("org_name", "callback_number", "first_name") if n in facts]
        machine_part = text if "message" not in facts else (message or "")
        machine_source = english_text if "message" not in facts else str(facts["message"].value)
        dates = [fact.render(source) for fact in facts.values() if isinstance(fact.value, date)]
        copied = looks_untranslated(machine_source, machine_part, keep + dates)
        # What the machine read must come out again as written: the names and numbers in it (the sender, the
        # callback number and the first name when it translated the whole message; those of the care team's words).
        numbers = re.findall(r"\d+(?:[.,:/-]\d+)*", machine_source)
        dropped = missing_facts(text, keep) + missing_facts(
            machine_part, [v for v in keep if v.casefold() in machine_source.casefold()] + numbers
        )
        dropped = list(dict.fromkeys(dropped))
        translation_gate = {"passes": not copied and not dropped, "untranslated": copied, "dropped": dropped}
        if copied:
            warnings.append(
                f"the machine output is still mostly English, not {language(code).name}: it cannot be "
                "approved as a translation"
            )
        if dropped:
            warnings.append("the machine translation dropped " + ", ".join(dropped))
        warnings.append(
            "machine translation: compare the back-translation with the English text; a qualified "
            "translator or interpreter should check it before it is sent"
        )
    approval = approvals.get(used.ref)
    if approval is None:
        warnings.append(
            f"template {used.ref} is not approved: {used.meta.get('translated_by', 'unknown author')}; "
            "it awaits a qualified translator's approval"
        )
    segments = sms.count(text)
    if channel == "sms" and segments.units > sms.LIMITS[segments.encoding][0]:
        warnings.append(
            f"{segments.segments} SMS segments: the TCPA healthcare exemption expects a text of 160 characters or fewer"
        )
    reading = readability.assess(english_text, text, code)
    if not reading["passes"]:
        warnings.append(f"reading grade {reading['grade']} of the English text is above the 6th-grade gate")
    allowed = [
        v
        for name, fact in facts.items()
        if name != "message"
        for v in (fact.render(source), fact.render(used) if used is not source else "", str(fact.value))
        if isinstance(v, str) and v
    ]
    allowed += (
        [str(c["medication"]) for c in facts["medication_changes"].value] if "medication_changes" in facts else []
    )
    phi = minimum_phi.check(
        [text, english_text, back_translation or ""],
        patient,
        allowed,
        channel=channel,
        diagnosis_allowed=bool(used.meta.get("diagnosis_in_sms", False)),
        conditions=conditions,
    )
    opt_out_ok = channel != "sms" or ("STOP" in text and "STOP" in english_text)
    markup = [m for m in leftover_markup(text) + leftover_markup(english_text)] + PLACEHOLDER.findall(text)
    citations = []
    for name, fact in facts.items():
        for citation in fact.citations:
            citations.append(
                {
                    "n": len(citations) + 1,
                    "placeholder": name,
                    "value": fact.render(source) if name != "medication_changes" else None,
                    **citation,
                }
            )
    trip = None
    if back_translation is not None:
        names = [str(facts[n].value) for n in ("first_name", "org_name") if n in facts]
        if "medication_changes" in facts:
            names += [str(c["medication"]).split(" ")[0] for c in facts["medication_changes"].value]
        dates = [fact.render(source) for fact in facts.values() if isinstance(fact.value, date)]
        translated = str(facts["message"].value) if "message" in facts else english_text  # what the machine read
        names = [n for n in names if n.casefold() in translated.casefold()]
        dates = [d for d in dates if d in translated]
        trip = round_trip(translated, back_translation, names, dates)
        if not trip["passes"]:
            warnings.append(
                "the back-translation lost " + "; ".join(f"{k}: {', '.join(v)}" for k, v in trip["lost"].items() if v)
            )
    return {
        "schema": SCHEMA, "patient_id": patient.id, "language": code, "language_name": language(code).name,
        "direction": direction, "purpose": purpose, "channel": channel, "as_of": as_of.isoformat(), "text": text,
        "english_text": english_text, "back_translation": back_translation, "reading_grade": reading["grade"],
        "readability": reading, "segments": segments.segments, "encoding": segments.encoding,
        "sms": segments.to_dict(), "review_status": "needs_review", "translation_source": translation_source,
        "translation_model": model, "template_version": used.version, "template": used.describe(),
        "template_approval": approval, "english_template": source.describe(), "citations": citations,
        "gates": {"reading_grade": {"passes": reading["passes"], "grade": reading["grade"],
                                    "gate": readability.GRADE_GATE},
                  "segments": {"passes": channel != "sms" or segments.units <= sms.LIMITS[segments.encoding][0],
                               "segments": segments.segments, "encoding": segments.encoding},
                  "minimum_phi": phi.to_dict(), "opt_out": {"passes": opt_out_ok, "required": channel == "sms",
                                                            "wording": used.opt_out if channel == "sms" else None},
                  "markup": {"passes": not markup, "left": markup[:5]},
                  "round_trip": trip, "translation": translation_gate},
        "notes": notes, "warnings": warnings, "llm_events": events,
    }  # fmt: skip
