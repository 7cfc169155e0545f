"""SQL tables of the patient store: patients, their identifiers, the ingest ledger, records, panels, MPI links.

Why these shapes: every record keeps its full pydantic payload as JSON (so nothing a connector read
is lost and a citation can be rebuilt), plus a few typed columns (kind, effective time, code) that
queries filter and sort on. Identifier rows are what the master patient index searches; their
uniqueness on (system, assigner, value) is what stops one MBI from naming two patients. The same
definitions run on SQLite and PostgreSQL: only portable column types are used.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class PatientTable(Base):
    """One person. ``id`` is deterministic ("pt-" + sha256 of the first identifier key seen), so a re-run
    after a crash hands out the same ids as a clean run."""

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    given: Mapped[list] = mapped_column(JSON, default=list)
    family: Mapped[str | None] = mapped_column(Text, nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    sex: Mapped[str | None] = mapped_column(String(32), nullable=True)
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(100), nullable=True)
    address: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    stub: Mapped[bool] = mapped_column(Boolean, default=False)  # known only by an identifier so far
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PatientIdentifierTable(Base):
    """An identifier that names a patient. ``assigner`` is "" (not NULL) so the unique constraint holds on
    every database; previous MBIs from a CCLF9 crosswalk have system "mbi", assigner "previous"."""

    __tablename__ = "patient_identifiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(500))
    assigner: Mapped[str] = mapped_column(String(500), default="")
    value: Mapped[str] = mapped_column(String(500))
    document_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # where it was first seen

    __table_args__ = (
        UniqueConstraint("system", "assigner", "value", name="uq_patient_identifiers_key"),
        Index("ix_patient_identifiers_system_value", "system", "value"),
    )


class DocumentTable(Base):
    """The ingest ledger: one row per source content (sha256), written in the same transaction as its records."""

    __tablename__ = "documents"

    document_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # "ingested"
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    patient_count: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordTable(Base):
    """One normalized record. Kind "patient" rows hold a document's own Patient entry (its demographics
    as that source stated them), which the roster audit cites as evidence."""

    __tablename__ = "records"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # position in the document: stable ordering
    patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(Text)
    effective_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # naive UTC
    code_system: Mapped[str | None] = mapped_column(String(500), nullable=True)
    code: Mapped[str | None] = mapped_column(String(500), nullable=True)
    code_display: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_records_patient_kind_time", "patient_id", "kind", "effective_at"),
        Index("ix_records_code", "code_system", "code"),
    )


class PanelTable(Base):
    """A care-team member's panel: the patients that user may see."""

    __tablename__ = "panels"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)


class UserNpiTable(Base):
    """Which NPI a care-team user is. Records that name that NPI as a patient's primary care practitioner
    (FHIR ``Patient.generalPractitioner``, a C-CDA PCP performer) put the patient on the user's panel."""

    __tablename__ = "user_npis"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)


class MpiLinkTable(Base):
    """Why a document's patient entry was joined to (or created as) a store patient.

    One row per (document, patient key in that document). Re-saving a document reuses its rows, so
    the answer to "why are these two sources one person" never changes behind the care team's back.
    """

    __tablename__ = "mpi_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(64), index=True)
    source_key: Mapped[str] = mapped_column(String(1600))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("document_id", "source_key", name="uq_mpi_links_document_key"),)


class RecordsVersionTable(Base):
    """A token per patient that changes whenever any of the patient's records is written or removed.

    Why: engines that store results per patient (the guidance worklist) must know which patients to recompute
    without rescanning every record; ingest sets a new token in the same transaction that writes the records,
    so a stored result can never look current for records it did not see.
    """

    __tablename__ = "records_versions"

    patient_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
