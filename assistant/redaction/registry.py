"""Discovers the recognizers: every public module in ``recognizers/`` with a ``build()`` function.

Adding an identifier type is one new file there, no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from presidio_analyzer import EntityRecognizer

from assistant.redaction import recognizers as _package


def recognizer_modules() -> list[str]:
    return sorted(
        name for _finder, name, _ispkg in pkgutil.iter_modules(_package.__path__) if not name.startswith("_")
    )


def build_recognizers() -> list[EntityRecognizer]:
    built = []
    for name in recognizer_modules():
        module = importlib.import_module(f"{_package.__name__}.{name}")
        built.append(module.build())
    return built
