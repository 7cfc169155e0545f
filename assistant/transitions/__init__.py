"""Transition-of-care episodes and their checklists.

``episodes`` opens one episode per patient and discharge from the store's records (an HL7 A03, a FHIR
Encounter with a discharge, a C-CDA discharge summary) and cancels it on an A13; ``checklist`` builds what the
care team should do next for one episode, each item citing the records and the knowledge document it rests on.
Both read records only: access checks and the audit row belong to ``assistant.services.transitions``.
"""
