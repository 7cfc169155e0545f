"""EHR integration: which EHRs are trusted, the CDS Hooks JWT, the FHIR data an EHR sends or lets us fetch, the
records it becomes, and the cards Caretrail answers with (docs/ehr.md). The SMART app side is ``assistant.smart``."""
