"""The PHI boundary against a real HTTP server on loopback: planted identifiers must never arrive there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from assistant.llm.guard import GuardedLLM, PHILeakRefused, get_llm
from assistant.llm.openai_compat import OpenAICompatBackend
from assistant.redaction import dates
from assistant.redaction.engine import detector_version
from assistant.redaction.transform import PseudonymSession
from assistant.settings import Settings
from tests.helpers import model_server

PLANTED = {
    "name": "Eleanor Whitfield",
    "daughter": "Rose Whitfield",
    "doctor": "Raj Patel",
    "mbi": "1EG4-TE5-MK73",
    "mrn": "00482913",
    "ssn": "123-45-6789",
    "phone": "(217) 555-0143",
    "dob": "03/14/1947",
    "address": "1420 N. Maple Ave",
    "city": "Springfield",
    "zip": "62704",
    "email": "ewhit@gmail.com",
}
PROMPT = (
    f"Patient: {PLANTED['name']}  MRN: {PLANTED['mrn']}  DOB: {PLANTED['dob']}  MBI: {PLANTED['mbi']}\n"
    f"SSN {PLANTED['ssn']}. Lives at {PLANTED['address']}, {PLANTED['city']}, IL {PLANTED['zip']}.\n"
    f"Daughter {PLANTED['daughter']} ({PLANTED['phone']}, {PLANTED['email']}) is proxy. "
    f"Seen by Dr. {PLANTED['doctor']}. Draft a follow-up reminder."
)


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).bodies.append(body)
        sent = json.loads(body)["messages"][-1]["content"]
        # Answer with the surrogates the model was given, like a model that quotes its prompt.
        surrogates = [w.strip(".,():") for w in sent.split() if "_" in w and w.strip(".,():").split("_")[-1].isdigit()]
        reply = "Reminder for " + " and ".join(surrogates)
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture()
def server() -> Iterator[str]:
    _Recorder.bodies = []
    with model_server(_Recorder) as url:
        yield url


def test_no_planted_identifier_reaches_the_model_server(server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=server, openai_model="m")
    llm = get_llm(settings)
    assert isinstance(llm, GuardedLLM)
    events: list[dict] = []
    session = PseudonymSession(patient_id="p-1")
    result = llm.complete([{"role": "system", "content": "You write reminders."},
                           {"role": "user", "content": PROMPT}],
                          patient_id="p-1", session=session, audit_hook=events.append)
    assert _Recorder.bodies, "the server was never called"
    wire = b"".join(_Recorder.bodies).decode()
    for label, value in PLANTED.items():
        assert value not in wire, f"{label} crossed the boundary"
        assert value.replace("-", "") not in wire.replace("-", ""), label
    # the model saw surrogates and the answer came back re-identified
    assert "PERSON_" in wire and "MBI_" in wire
    assert PLANTED["name"] in result.text and PLANTED["mbi"] in result.text
    # the audit event holds the pseudonymized prompt only, and names the detector that cleared it
    assert [e["event"] for e in events] == ["llm_call"]
    assert events[0]["phi_detector"] == detector_version() and "+tagger-" in events[0]["phi_detector"]
    audited = json.dumps(events)
    assert all(value not in audited for value in PLANTED.values())


# ICU nursing-note style (as in MIMIC / PhysioNet deid): all capitals or all lower case, no titles before most
# names, shorthand around them, dates without a year, unit and hospital names. None of these words comes from
# a corpus the detector was developed or trained on.
NURSING_PLANTED = {
    "daughter": "LUCILLE",
    "doctor": "BRANNIGAN",
    "son": "ROBERTO",
    "unit": "FENWICK",
    "hospital": "GLENWOOD",
    "town": "HAGERSTOWN",
    "date": "11/2",
    "phone": "410-555-0182",
    "wife": "marisol",
    "doctor2": "okafor",
    "rehab": "brendan",
}
NURSING_NOTE = (
    "NPN 7P-7A: PT IS 78 YO MAN ADMITTED TO FENWICK 5 FROM GLENWOOD MEMORIAL ON 11/2 W/ CHF. NEURO: A&OX3, MAE. "
    "CV: NSR 80S, SBP 110S ON NEO GTT. DTR LUCILLE AWARE, WILL CALL DR. BRANNIGAN IN AM. SON ROBERTO "
    "(410-555-0182) LIVES IN HAGERSTOWN.\n"
    "npn: pt seen by dr okafor, wife marisol at bedside. plan d/c to st. brendan rehab when bed avail."
)


def test_no_planted_identifier_from_a_nursing_style_note_reaches_the_model_server(  # type: ignore[no-untyped-def]
    server: str, tmp_path
) -> None:
    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=server, openai_model="m")
    llm = get_llm(settings)
    assert isinstance(llm, GuardedLLM)
    events: list[dict] = []
    session = PseudonymSession(patient_id="p-icu", date_offset_days=40)  # a fixed shift: 11/2 becomes 12/12
    llm.complete([{"role": "user", "content": f"Summarize for the day team:\n{NURSING_NOTE}"}],
                 patient_id="p-icu", session=session, audit_hook=events.append)
    wire = b"".join(_Recorder.bodies).decode()
    assert wire, "the server was never called"
    for label, value in NURSING_PLANTED.items():
        assert value.lower() not in wire.lower(), f"{label} crossed the boundary"
    assert "12/12" in wire  # the date went as a shifted date, not as a placeholder
    # the clinical shorthand around them still reaches the model, so the summary is worth having
    for kept in ("CHF", "NEO GTT", "A&OX3", "MAE"):
        assert kept in wire
    assert events[0]["event"] == "llm_call" and events[0]["phi_detector"] == detector_version()


def test_a_patients_surrogates_and_date_offset_persist_in_the_encrypted_vault(server: str, tmp_path: Path) -> None:
    """Two calls about one patient, through two guards built from settings (two processes, in effect).

    Without the vault the second call would number its people afresh in reading order (the daughter comes
    first there) and draw a new date offset, so a reply could not be mapped back consistently across calls.
    """
    doctor, daughter = PLANTED["doctor"], PLANTED["daughter"]
    settings = Settings(data_dir=tmp_path, llm_backend="openai", openai_base_url=server, openai_model="m")
    first_llm, second_llm = get_llm(settings), get_llm(settings)
    assert isinstance(first_llm, GuardedLLM) and isinstance(second_llm, GuardedLLM)
    first = first_llm.complete(
        [{"role": "user", "content": f"Dr. {doctor} spoke with {daughter} about her mother, born {PLANTED['dob']}."}],
        patient_id="p-9",
    )
    second = second_llm.complete(
        [{"role": "user", "content": f"{daughter} called back. Dr. {doctor} will see her mother on 03/14/2024."}],
        patient_id="p-9",
    )
    sent_first = first.pseudonymized_messages[-1]["content"]
    sent_second = second.pseudonymized_messages[-1]["content"]

    said = re.fullmatch(r"Dr\. (PERSON_\d+) spoke with (PERSON_\d+) about her mother, born (\S+)\.", sent_first)
    again = re.fullmatch(r"(PERSON_\d+) called back\. Dr\. (PERSON_\d+) will see her mother on (\S+)\.", sent_second)
    assert said and again, (sent_first, sent_second)
    assert (again.group(2), again.group(1)) == (said.group(1), said.group(2))  # same person, same surrogate

    def shift_days(shifted: str, original: str) -> int:
        return (dates.parse(shifted).value - dates.parse(original).value).days  # type: ignore[union-attr]

    offset = shift_days(said.group(3), PLANTED["dob"])
    assert offset != 0 and shift_days(again.group(3), "03/14/2024") == offset
    # the reply to the second call, which quotes its surrogates, comes back with the real names
    assert daughter in second.text and doctor in second.text

    stored = [path for path in (tmp_path / "vault").rglob("*") if path.is_file()]
    assert len(stored) == 2  # the patient's date offset and the patient's surrogate mapping
    for path in stored:
        raw = path.read_bytes()
        for value in (doctor, daughter, *doctor.split(), *daughter.split(), PLANTED["dob"], "p-9"):
            assert value.encode() not in raw, f"{value} is readable in {path.name}"


def test_refuses_and_audits_when_the_scan_still_finds_an_identifier(server: str) -> None:
    """Only message content is pseudonymized; an identifier in another field must stop the call."""
    llm = GuardedLLM(OpenAICompatBackend(server, "m"))
    events: list[dict] = []
    messages = [{"role": "user", "name": "Mrs. Eleanor Whitfield MRN 00482913", "content": "Summarize the plan."}]
    with pytest.raises(PHILeakRefused) as refused:
        llm.complete(messages, patient_id="p-2", audit_hook=events.append)
    assert "PERSON" in refused.value.types or "MRN" in refused.value.types
    assert _Recorder.bodies == []  # nothing was sent
    assert len(events) == 1 and events[0]["event"] == "llm_refused"
    assert "Whitfield" not in json.dumps(events) and "00482913" not in json.dumps(events)


def test_composer_backend_needs_no_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert get_llm(Settings(data_dir=tmp_path, llm_backend="composer")) is None
