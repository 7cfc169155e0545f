"""Role-based next steps per patient: one rule per module in ``rules/``, each naming its measure or protocol and
the knowledge document that defines it. The assistant suggests and explains; it never diagnoses or orders."""
