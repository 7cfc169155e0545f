"""SQL side of the index: the chunk rows (source of truth for text and offsets) and the knowledge ledger.

Why chunks live in SQL as well as Chroma: Chroma holds vectors, SQL holds what a citation needs and
decides what is visible. A chunk id that Chroma returns but SQL does not know (left behind by a crash
between the two writes) is ignored, which makes each document's replacement atomic for readers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base


class ChunkRow(Base):
    __tablename__ = "chunks"

    chunk_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    collection: Mapped[str] = mapped_column(String(32))  # "knowledge" | "patient"
    document_key: Mapped[str] = mapped_column(String(128))  # knowledge doc id or patient document id
    doc_id: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(Text)
    section: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source_uri: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    sentence_spans: Mapped[list] = mapped_column(JSON, default=list)
    sentence_vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (
        Index("ix_chunks_collection_patient", "collection", "patient_id"),
        Index("ix_chunks_document_key", "document_key"),
    )


class KnowledgeDocumentRow(Base):
    __tablename__ = "knowledge_documents"

    doc_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(32))
    source_uri: Mapped[str] = mapped_column(Text)
    source_urls: Mapped[list] = mapped_column(JSON, default=list)
    chunk_count: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
