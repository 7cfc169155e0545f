"""Typer front door. Every module in this package registers its commands on ``app`` when imported,
so adding a command means adding one file."""

import importlib
import pkgutil

from assistant.cli.app import app

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "app":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app"]
