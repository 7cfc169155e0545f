"""Import every module that declares tables, so ``Base.metadata`` is complete before ``create_all``."""

import importlib

TABLE_MODULES = [
    "assistant.audit.tables",
    "assistant.ehr.tables",
    "assistant.guidance.tables",
    "assistant.auth.tables",
    "assistant.chat.tables",
    "assistant.index.tables",
    "assistant.outreach.tables",
    "assistant.records.tables",
    "assistant.transitions.tables",
]

for _name in TABLE_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a module not written yet; anything else is a real error
        if exc.name != _name:
            raise
