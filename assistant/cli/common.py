"""Helpers shared by command modules: the context, JSON output, and one-line errors with exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import typer
from rich.console import Console

from assistant.errors import CaretrailError

console = Console(stderr=True)


def cli_caller() -> Any:
    """The local operator every command acts as (CARETRAIL_CLI_USER / CARETRAIL_CLI_ROLE): a care manager
    named "local" unless configured otherwise, with that user's panel; never an anonymous admin."""
    from assistant.auth.authenticate import cli_caller as build

    with errors_to_exit():
        return build(open_ctx().settings)


def parse_day(value: str | None, option: str = "--as-of") -> date | None:
    """A YYYY-MM-DD option, or a one-line error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2026-11-15, not {value!r}")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    try:
        yield
    except CaretrailError as exc:
        fail(str(exc), exc.exit_code)


def open_ctx() -> Any:
    from assistant.context import open_context

    return open_context()

