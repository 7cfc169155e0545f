"""Close every door through which a library could fetch weights or lists at run time.

Imported first by the package so that huggingface, transformers, chroma and tldextract see the
settings before they are imported themselves. Values already set by the operator are kept.
"""

import os

_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}

for _key, _value in _DEFAULTS.items():
    os.environ.setdefault(_key, _value)
