"""Names the records model gives code systems and languages, shared by the connectors that write records and
the engines that read them.

Why here: a measure's value sets and a FHIR bundle name LOINC by the same URI, and the engines must compare codes
the way the connectors stored them. When each kept its own table, the two drifted (one knew the ICD-10-PCS URI,
the other did not) and engines imported a connector to read a language name. Connectors and engines may both
import the records model; neither imports the other.
"""

from __future__ import annotations

# Code system URIs (FHIR, value set expansions) -> the records model's short names.
CODE_SYSTEM_NAMES = {
    "http://loinc.org": "loinc",
    "http://snomed.info/sct": "snomed",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd10",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
    "http://www.ama-assn.org/go/cpt": "cpt",
    "urn:oid:2.16.840.1.113883.6.285": "hcpcs",
    "http://www.nlm.nih.gov/research/umls/hcpcs": "hcpcs",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "hcpcs",
    "http://www.cms.gov/Medicare/Coding/ICD10": "icd10pcs",
    "http://hl7.org/fhir/sid/cvx": "cvx",
    "http://hl7.org/fhir/sid/ndc": "ndc",
}

# Language names as records write them in free text -> BCP 47 primary tags.
LANGUAGE_NAMES = {
    "english": "en", "spanish": "es", "chinese": "zh", "mandarin": "zh", "cantonese": "zh",
    "vietnamese": "vi", "tagalog": "tl", "filipino": "tl", "korean": "ko", "russian": "ru",
    "arabic": "ar", "haitian creole": "ht", "haitian": "ht", "portuguese": "pt", "french": "fr",
    "polish": "pl", "italian": "it", "german": "de", "japanese": "ja", "hindi": "hi", "armenian": "hy",
    "persian": "fa", "farsi": "fa", "greek": "el", "somali": "so", "bengali": "bn", "urdu": "ur",
}  # fmt: skip


def code_system_name(system: str) -> str:
    """A code system URI (or an already short name) as the records model names it."""
    return CODE_SYSTEM_NAMES.get(system, system)
