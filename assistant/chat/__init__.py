"""The care team's chat: conversations about one patient (or none), each turn classified and answered by the engine
that owns the kind of question, with follow-ups resolved from the earlier turns and every sentence screened.

Engines only: nothing here resolves callers, checks panels or writes the audit (``assistant.services.chat`` does).
"""
