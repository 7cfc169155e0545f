"""The patient store: normalized records in SQL (SQLite by default, PostgreSQL by URL), one document at a time.

Why per-document transactions: ingest must be all-or-nothing per source file and resumable after a
crash. A document's patients, identifiers, MPI links, records and ledger row are written in the one
transaction the caller opens with ``transaction()``; if anything fails, none of it lands, and a re-run
sees the document as not ingested and does it again. Ledger rows are keyed by the sha256 of the
content, so unchanged files are skipped and a re-run yields the same rows as a clean run.

Panels live here (assigned rows, and panels derived from the records by a user's NPI), but who may
see what is decided once, in ``assistant.services.policy``; the store only answers "is this patient on
this user's panel".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.db import init_db
from assistant.records import id_lists, mpi
from assistant.records.model import MBI, ParsedDocument, Patient, Record
from assistant.records.names import normalize_mbi
from assistant.records.tables import (
    DocumentTable,
    MpiLinkTable,
    PanelTable,
    PatientIdentifierTable,
    PatientTable,
    RecordsVersionTable,
    RecordTable,
    UserNpiTable,
)

PATIENT_KIND = "patient"
STATUS_INGESTED = "ingested"
STATUS_WRITING = "writing"  # only ever seen inside the transaction that writes the document

_RECORD_ADAPTER: TypeAdapter[Record] = TypeAdapter(Record)

# Ledger statements run for every file, built once: building one (with its cache key) cost ten times what
# SQLite takes to run it. An update without values() sets the columns named in the execute parameters.
_THIS_DOCUMENT = DocumentTable.document_id == bindparam("this_document")
_LEDGER_ROW = select(DocumentTable.document_id).where(_THIS_DOCUMENT)
_LEDGER_STATUS = select(DocumentTable.status).where(_THIS_DOCUMENT)
_INSERT_LEDGER = insert(DocumentTable)
_UPDATE_LEDGER = update(DocumentTable).where(_THIS_DOCUMENT)
_DELETE_RECORDS = delete(RecordTable).where(RecordTable.document_id == bindparam("this_document"))
_INSERT_RECORDS = insert(RecordTable)
_DOCUMENT_PATIENTS = (
    select(RecordTable.patient_id).where(RecordTable.document_id == bindparam("this_document")).distinct()
)
_DELETE_VERSIONS = delete(RecordsVersionTable).where(
    RecordsVersionTable.patient_id.in_(bindparam("ids", expanding=True))
)
_INSERT_VERSIONS = insert(RecordsVersionTable)


def mark_changed(session: Session, patient_ids: Iterable[str | None]) -> None:
    """Give these patients a new records version inside the caller's transaction (see ``RecordsVersionTable``).

    Delete-then-insert instead of an upsert: the same statements run on SQLite and PostgreSQL."""
    ids = sorted({pid for pid in patient_ids if pid})
    if not ids:
        return
    token = uuid.uuid4().hex
    sql = session.connection()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql.execute(_DELETE_VERSIONS, {"ids": chunk})
        sql.execute(_INSERT_VERSIONS, [{"patient_id": pid, "version": token} for pid in chunk])


class PatientRow(BaseModel):
    """A read-only view of one store patient, safe to hand to engines and routes."""

    model_config = ConfigDict(frozen=True)

    id: str
    given: tuple[str, ...] = ()
    family: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    language: str | None = None
    phone: str | None = None
    address: dict[str, Any] | None = None
    deceased: bool = False
    stub: bool = False
    identifiers: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return " ".join([*self.given, self.family or ""]).strip()

    @property
    def mbi(self) -> str | None:
        for key in self.identifiers:
            parts = key.split("|")
            if parts[0] == MBI and len(parts) == 2:
                return parts[1]
        return None


def _as_utc_naive(value: datetime | date | None) -> datetime | None:
    """One comparable column for dates and datetimes: naive UTC, dates at midnight."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    return datetime(value.year, value.month, value.day)


def effective_time(record: Record | Patient) -> datetime | None:
    """The date a record is ordered by (and counts as activity on)."""
    kind = record.kind
    value: datetime | date | None = None
    if kind in ("coverage", "encounter"):
        value = record.start  # type: ignore[union-attr]
    elif kind == "condition":
        value = record.onset  # type: ignore[union-attr]
    elif kind == "observation":
        value = record.effective  # type: ignore[union-attr]
    elif kind == "medication":
        value = record.start  # type: ignore[union-attr]
    elif kind == "procedure":
        value = record.performed  # type: ignore[union-attr]
    elif kind == "claim":
        value = record.from_date or record.thru_date  # type: ignore[union-attr]
    elif kind == "section":
        value = record.document_date  # type: ignore[union-attr]
    return _as_utc_naive(value)


def _code_columns(record: Record | Patient) -> tuple[str | None, str | None, str | None]:
    code = None
    kind = record.kind
    if kind in ("condition", "observation", "medication", "procedure"):
        code = record.code  # type: ignore[union-attr]
    elif kind == "encounter":
        code = record.type  # type: ignore[union-attr]
    elif kind == "claim":
        code = record.diagnoses[0] if record.diagnoses else None  # type: ignore[union-attr]
    elif kind == "section" and record.loinc:  # type: ignore[union-attr]
        return "loinc", record.loinc, record.title  # type: ignore[union-attr]
    elif kind == "practitioner" and record.npi:  # type: ignore[union-attr]
        return "npi", record.npi, record.name  # type: ignore[union-attr]
    elif kind == "coverage":
        return "payer", record.payer, record.member_id  # type: ignore[union-attr]
    if code is None:
        return None, None, None
    return code.system, code.code, code.display


def _record_id(record: Record | Patient, seq: int) -> str:
    if record.kind == PATIENT_KIND:
        return record.key  # type: ignore[union-attr]
    return getattr(record, "id", None) or f"{record.kind}:{seq}"


def _patient_row(row: PatientTable, identifiers: list[PatientIdentifierTable]) -> PatientRow:
    return PatientRow(
        id=row.id,
        given=tuple(row.given or ()),
        family=row.family,
        birth_date=row.birth_date,
        sex=row.sex,
        language=row.language,
        phone=row.phone,
        address=row.address,
        deceased=bool(row.deceased),
        stub=bool(row.stub),
        identifiers=tuple(
            f"{i.system}|{i.assigner}|{i.value}" if i.assigner else f"{i.system}|{i.value}" for i in identifiers
        ),
    )


def _record_row(document_id: str, seq: int, record: Record | Patient, patient_id: str | None) -> dict[str, Any]:
    system, code, display = _code_columns(record)
    return {
        "document_id": document_id,
        "seq": seq,
        "patient_id": patient_id,
        "kind": record.kind,
        "record_id": _record_id(record, seq),
        "effective_at": effective_time(record),
        "code_system": system,
        "code": code,
        "code_display": display,
        "payload": record.model_dump(mode="json"),
    }


class DocumentWriter:
    """Writes one document's rows inside the caller's transaction, in as many parts as the connector yields.

    Why parts: a CCLF claim file or a Bulk FHIR NDJSON file can hold millions of lines, and the document
    must still land whole or not at all. The ledger row goes in first (records reference it) with status
    "writing"; ``finish`` marks it ingested. Nothing is visible to anyone until the caller commits, so a
    crash or a bad line half-way leaves no trace and a re-run starts the document again.
    """

    def __init__(self, session: Session, document_id: str, source_path: str, doc_format: str,
                 replacing: bool = True) -> None:
        """``replacing=False`` says the caller knows the ledger has no row for this document (so no records
        either): nothing to look up or delete first."""
        self.session = session
        self.document_id = document_id
        self.keys: dict[str, str] = {}  # patient key -> store patient id, across all parts
        self.seq = 0
        self.record_count = 0
        self.patient_count = 0
        self.warnings: list[str] = []
        self.touched: set[str | None] = set()  # patients whose records this document writes or replaces
        sql = session.connection()  # Core statements on ledger and records rows, which the ORM never holds
        ledger = {"source_path": source_path, "format": doc_format, "status": STATUS_WRITING,
                  "record_count": 0, "patient_count": 0, "warnings": []}  # fmt: skip
        this = {"this_document": document_id}
        if replacing:
            self.touched.update(sql.scalars(_DOCUMENT_PATIENTS, this))
            sql.execute(_DELETE_RECORDS, this)
        if not replacing or sql.execute(_LEDGER_ROW, this).first() is None:
            sql.execute(_INSERT_LEDGER, {"document_id": document_id, "ingested_at": datetime.now(UTC), **ledger})
        else:
            sql.execute(_UPDATE_LEDGER, {**this, **ledger})

    def add(self, parsed: ParsedDocument) -> dict[str, str]:
        """Resolve this part's patients through the MPI and insert its records; returns the keys so far."""
        session, document_id, keys = self.session, self.document_id, self.keys
        rows: list[dict[str, Any]] = []
        for patient in parsed.patients:
            if not patient.identifiers:
                raise ValueError(f"{parsed.source_path}: a Patient entry without identifiers cannot be stored")
            resolution = mpi.resolve_entry(session, patient, document_id)
            keys[patient.key] = resolution.patient_id
            for ident in patient.identifiers:
                keys.setdefault(ident.key, resolution.patient_id)
                keys.setdefault(mpi.normalize_identifier(ident).key, resolution.patient_id)
            rows.append(_record_row(document_id, self.seq, patient, resolution.patient_id))
            self.seq += 1

        for record in parsed.records:
            key = getattr(record, "patient_key", None)
            patient_id: str | None = None
            if key:
                patient_id = keys.get(key) or keys.get(mpi.normalize_key(key))
                if patient_id is None:
                    patient_id = mpi.resolve_key(session, key, document_id, parsed.source_path).patient_id
                    keys[key] = patient_id
                    keys[mpi.normalize_key(key)] = patient_id
            rows.append(_record_row(document_id, self.seq, record, patient_id))
            self.seq += 1
        self.touched.update(row["patient_id"] for row in rows)
        if rows:
            # Core executemany with one column set: the ORM bulk path splits rows by which columns are None.
            session.connection().execute(_INSERT_RECORDS, rows)
        self.record_count += len(parsed.records)
        self.patient_count += len(parsed.patients)
        self.warnings.extend(parsed.warnings)
        return keys

    def finish(self) -> None:
        mark_changed(self.session, self.touched)
        self.session.connection().execute(
            _UPDATE_LEDGER,
            {"this_document": self.document_id, "status": STATUS_INGESTED, "record_count": self.record_count,
             "patient_count": self.patient_count, "warnings": list(self.warnings)},
        )  # fmt: skip


class PatientStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = init_db(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # -- transactions -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success, roll back on any error; one document's ingest lives inside one of these."""
        with self._sessions() as session, session.begin():
            yield session

    def is_ingested(self, document_id: str) -> bool:
        with self.engine.connect() as connection:  # asked once per file: a plain connection, no ORM session
            status = connection.scalar(_LEDGER_STATUS, {"this_document": document_id})
            return status == STATUS_INGESTED

    # -- writing ------------------------------------------------------------------------------------

    def ledger_ids(self, session: Session, document_ids: list[str]) -> set[str]:
        """Which of these documents the ledger holds, in one query for a whole batch: most of an ingest run's
        documents are new, and a new document has nothing to replace."""
        if not document_ids:
            return set()
        query = select(DocumentTable.document_id).where(DocumentTable.document_id.in_(document_ids))
        return set(session.connection().scalars(query))

    def save_document(self, session: Session, parsed: ParsedDocument, document_id: str,
                      replacing: bool = True) -> dict[str, str]:
        """Write one parsed document inside the caller's transaction; return ``patient_key -> patient_id``.

        Previous rows of the same ``document_id`` are replaced (``replacing=False``: the caller knows there are
        none); MPI decisions made the first time are kept (see ``mpi_links``), so saving the same document
        twice gives identical rows.
        """
        writer = DocumentWriter(session, document_id, parsed.source_path, parsed.format, replacing)
        keys = writer.add(parsed)
        writer.finish()
        return keys

    def delete_document(self, session: Session, document_id: str) -> None:
        """Forget one document's records, links and ledger row.

        Patients and identifiers stay: other documents may name the same people.
        """
        mark_changed(session, session.connection().scalars(_DOCUMENT_PATIENTS, {"this_document": document_id}))
        session.execute(delete(RecordTable).where(RecordTable.document_id == document_id))
        session.execute(delete(MpiLinkTable).where(MpiLinkTable.document_id == document_id))
        session.execute(delete(DocumentTable).where(DocumentTable.document_id == document_id))

    # -- reading ------------------------------------------------------------------------------------

    def find_patient_ids(self, ref: str) -> list[str]:
        """Every patient a reference could mean: internal id, explicit key, MBI, or a bare source id."""
        ref = ref.strip()
        if not ref or "\x00" in ref or len(ref) > 2000:  # no identifier looks like that; PostgreSQL rejects NUL
            return []
        with self._sessions() as session:
            if session.get(PatientTable, ref) is not None:
                return [ref]
            if "|" in ref:
                try:
                    return mpi.find_by_identifier(session, mpi.identifier_from_key(ref))
                except ValueError:
                    return []
            mbi_value = normalize_mbi(ref)
            stmt = select(PatientIdentifierTable.patient_id).where(
                ((PatientIdentifierTable.system == MBI) & (PatientIdentifierTable.value == mbi_value))
                | ((PatientIdentifierTable.system != MBI) & (PatientIdentifierTable.value == ref))
            )
            return sorted(set(session.scalars(stmt).all()))

    def resolve_patient(self, ref: str) -> PatientRow | None:
        """The one patient ``ref`` names, or None when it names none or several (ambiguous bare ids)."""
        ids = self.find_patient_ids(ref)
        if len(ids) != 1:
            return None
        return self.get_patient(ids[0])

    def get_patient(self, patient_id: str) -> PatientRow | None:
        with self._sessions() as session:
            row = session.get(PatientTable, patient_id)
            if row is None:
                return None
            return _patient_row(row, self._identifiers(session, [patient_id]).get(patient_id, []))

    @staticmethod
    def _identifiers(session: Session, patient_ids: Iterable[str]) -> dict[str, list[PatientIdentifierTable]]:
        ids = list(patient_ids)
        out: dict[str, list[PatientIdentifierTable]] = {pid: [] for pid in ids}
        if not ids:
            return out
        for ident in session.scalars(
            select(PatientIdentifierTable)
            .where(PatientIdentifierTable.patient_id.in_(ids))
            .order_by(PatientIdentifierTable.id)
        ):
            out[ident.patient_id].append(ident)
        return out

    def patient_records(self, patient_id: str, kinds: set[str] | None = None) -> list[Record]:
        """A patient's records rebuilt as pydantic models, oldest first (undated last)."""
        with self._sessions() as session:
            stmt = select(RecordTable.payload).where(
                RecordTable.patient_id == patient_id, RecordTable.kind != PATIENT_KIND
            )
            if kinds is not None:
                stmt = stmt.where(RecordTable.kind.in_(sorted(kinds)))
            stmt = stmt.order_by(
                RecordTable.effective_at.is_(None),
                RecordTable.effective_at,
                RecordTable.document_id,
                RecordTable.seq,
            )
            return [_RECORD_ADAPTER.validate_python(payload) for payload in session.scalars(stmt)]

    def patient_sources(self, patient_id: str) -> list[tuple[str, Patient]]:
        """Each document's own Patient entry for this patient, as ``(document_id, Patient)``."""
        with self._sessions() as session:
            rows = session.execute(
                select(RecordTable.document_id, RecordTable.payload)
                .where(RecordTable.patient_id == patient_id, RecordTable.kind == PATIENT_KIND)
                .order_by(RecordTable.document_id, RecordTable.seq)
            ).all()
            return [(row.document_id, Patient.model_validate(row.payload)) for row in rows]

    def document_patient_ids(self, document_id: str) -> set[str]:
        with self._sessions() as session:
            return set(
                session.scalars(
                    select(RecordTable.patient_id).where(
                        RecordTable.document_id == document_id, RecordTable.patient_id.is_not(None)
                    )
                )
            )

    def records_versions(self, patient_ids: list[str]) -> dict[str, str]:
        """Each patient's records version (absent: no records written since versions were kept)."""
        versions: dict[str, str] = {}
        with self._sessions() as session:
            for chunk in id_lists.chunks(self.engine, patient_ids):
                versions.update(session.execute(select(RecordsVersionTable.patient_id, RecordsVersionTable.version)
                                                .where(id_lists.among(self.engine, RecordsVersionTable.patient_id,
                                                                      chunk))).all())
        return versions

    def list_patients(self, limit: int = 100, offset: int = 0, user_id: str | None = None,
                      patient_ids: Iterable[str] | None = None) -> list[PatientRow]:
        """Patients ordered by family name then id; restricted to ``user_id``'s assigned panel and/or to
        ``patient_ids`` when given."""
        with self._sessions() as session:
            stmt = select(PatientTable)
            if patient_ids is not None:
                stmt = stmt.where(PatientTable.id.in_(sorted(patient_ids)))
            if user_id is not None:
                stmt = stmt.join(PanelTable, PanelTable.patient_id == PatientTable.id).where(
                    PanelTable.user_id == user_id
                )
            stmt = stmt.order_by(PatientTable.family.is_(None), PatientTable.family, PatientTable.id)
            rows = session.scalars(stmt.limit(limit).offset(offset)).all()
            idents = self._identifiers(session, [r.id for r in rows])
            return [_patient_row(row, idents[row.id]) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._sessions() as session:
            return {
                "patients": session.scalar(select(func.count()).select_from(PatientTable)) or 0,
                "documents": session.scalar(select(func.count()).select_from(DocumentTable)) or 0,
                "records": session.scalar(
                    select(func.count()).select_from(RecordTable).where(RecordTable.kind != PATIENT_KIND)
                )
                or 0,
                "identifiers": session.scalar(select(func.count()).select_from(PatientIdentifierTable)) or 0,
            }

    # -- panels -------------------------------------------------------------------------------------

    def assign_panel(self, user_id: str, patient_ids: Iterable[str]) -> int:
        """Add patients to a user's panel (idempotent); returns how many were new."""
        return self.assign_panels([(user_id, patient_id) for patient_id in patient_ids])

    def assign_panels(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Add (user, patient) rows in one transaction: all land or, if a patient is unknown, none do."""
        added = 0
        with self.transaction() as session:
            for user_id, patient_id in dict.fromkeys(pairs):
                if session.get(PanelTable, (user_id, patient_id)) is not None:
                    continue
                if session.get(PatientTable, patient_id) is None:
                    raise KeyError(f"no patient {patient_id!r}")
                session.add(PanelTable(user_id=user_id, patient_id=patient_id))
                added += 1
        return added

    def unassign_panel(self, user_id: str, patient_ids: Iterable[str]) -> None:
        with self.transaction() as session:
            session.execute(
                delete(PanelTable).where(PanelTable.user_id == user_id, PanelTable.patient_id.in_(list(patient_ids)))
            )

    def assigned_patient_ids(self, user_id: str) -> set[str]:
        with self._sessions() as session:
            return set(session.scalars(select(PanelTable.patient_id).where(PanelTable.user_id == user_id)))

    def patient_exists(self, patient_id: str) -> bool:
        with self._sessions() as session:
            return session.get(PatientTable, patient_id) is not None

    # -- panels derived from the records ----------------------------------------------------------------

    def link_npi(self, user_id: str, npi: str) -> bool:
        """Record that ``user_id`` is the practitioner with this NPI; returns False if already linked."""
        with self.transaction() as session:
            if session.get(UserNpiTable, (user_id, npi)) is not None:
                return False
            session.add(UserNpiTable(user_id=user_id, npi=npi))
        return True

    def user_npis(self, user_id: str) -> list[str]:
        with self._sessions() as session:
            return sorted(session.scalars(select(UserNpiTable.npi).where(UserNpiTable.user_id == user_id)))

    def _pcp_rows(self, session: Session, user_id: str, patient_id: str | None) -> list[tuple[str, dict]]:
        npis = select(UserNpiTable.npi).where(UserNpiTable.user_id == user_id).scalar_subquery()
        stmt = select(RecordTable.patient_id, RecordTable.payload).where(
            RecordTable.kind == "practitioner",
            RecordTable.code_system == "npi",
            RecordTable.code.in_(npis),
            RecordTable.patient_id.is_not(None),
        )
        if patient_id is not None:
            stmt = stmt.where(RecordTable.patient_id == patient_id)
        return [(pid, payload) for pid, payload in session.execute(stmt)]

    def derived_patient_ids(self, user_id: str) -> set[str]:
        """Patients whose records name one of the user's NPIs as their primary care practitioner.

        Why only "pcp": an author, attending or consultant on one document has seen the patient once; the
        primary care practitioner is the one the patient is attributed to, and the care team works for them.
        """
        with self._sessions() as session:
            return {pid for pid, payload in self._pcp_rows(session, user_id, None) if payload.get("role") == "pcp"}

    def in_panel(self, user_id: str, patient_id: str) -> bool:
        """Assigned to the user, or derived from the records by the user's NPI. Deny by default."""
        with self._sessions() as session:
            if session.get(PanelTable, (user_id, patient_id)) is not None:
                return True
            return any(payload.get("role") == "pcp" for _, payload in self._pcp_rows(session, user_id, patient_id))
