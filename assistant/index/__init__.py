"""Chunking, embedding and storage of indexed text (knowledge protocols and patient narrative)."""
