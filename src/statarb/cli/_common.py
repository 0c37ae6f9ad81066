"""Helpers shared by the command modules: settings, store opening, error exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from statarb.config import Settings
    from statarb.store.base import TickStore

#: exit codes of the CLI
EXIT_OK = 0
EXIT_PARTIAL = 1  # some input rejected
EXIT_USAGE = 2  # usage or format error
EXIT_UNREACHABLE = 3  # a venue or service never answered


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def parse_range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--start``/``--end`` (ISO-8601, plain date or epoch) to epoch µs; usage exit on errors."""
    from statarb.errors import InputError
    from statarb.timeutil import check_time, parse_time

    try:
        lo = None if start is None else check_time(parse_time(start), field="--start")
        hi = None if end is None else check_time(parse_time(end), field="--end")
    except InputError as exc:
        fail(str(exc))
    if lo is not None and hi is not None and lo >= hi:
        fail(f"--start ({start}) must be before --end ({end})")
    return lo, hi


def settings(**overrides: object) -> Settings:
    """Build the settings for a command (environment, config file, CLI overrides)."""
    from statarb.config import load_settings
    from statarb.errors import ConfigError

    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        fail(str(exc))


@contextmanager
def store_from(cfg: Settings, *, read_only: bool = False) -> Iterator[TickStore]:
    """Open the configured store for the duration of a command, with clear errors."""
    from statarb.errors import StoreError
    from statarb.store import open_store

    try:
        store = open_store(cfg.store_url, read_only=read_only)
    except StoreError as exc:
        fail(str(exc))
    try:
        yield store
    finally:
        store.close()
