"""Quality measures (CMS165, CMS122): Caretrail's own engine and the stewards' reference engine to check it.

Caretrail's engine computes the two LEAD eCQMs from the patient store, with cited evidence. Modules: ``period``
(the measurement period parameter), ``valuesets`` (the stewards' value-set expansions), ``intervals`` (CQL interval
semantics), ``common`` (the CQL libraries both measures include), ``cms165`` and ``cms122`` (one per measure),
``results`` (what an evaluation returns), ``engine`` (evaluate a stored patient) and ``cases`` (score MADiE test
cases, read through the real ingest). ``reference`` runs the stewards' reference JavaScript engine.
"""
