"""Patient outreach: plain-language drafts in the patient's language, minimum PHI, every filled fact cited, and
never sent without a person's review.

One idea per module: ``languages`` (which languages and scripts), ``dates`` (dates as each language writes them),
``templates`` (the versioned template files), ``facts`` (placeholders filled from the record, with citations),
``sms`` (segments and encoding), ``readability`` (reading grade), ``minimum_phi`` (what a message may carry),
``optout`` (revocation words and the opt-out register), ``translation`` (machine backends), ``engine`` (one draft
from facts, template and gates), ``drafts`` (the review workflow), ``fhir_output`` (FHIR Communication and the
gateway payload), ``letters`` (PDF in the patient's script) and ``evaluation`` (``caretrail eval outreach``).
Engines never see the caller: the service layer (``assistant.services.outreach``) checks access and audits.
"""
