"""Append-only, hash-chained audit log of every answer, checklist, draft and refused model call."""
