"""``statarb migrate SRC DST``: copy a whole store into another (SQLite <-> PostgreSQL)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from statarb.cli._common import EXIT_OK, EXIT_PARTIAL, fail, parse_range

if TYPE_CHECKING:
    from statarb.store.base import TickStore
    from statarb.store.copy import CopyReport, Progress


class _ProgressLines:
    """Progress for a log file or pipe: a stderr line per table and per tenth of it."""

    def __init__(self) -> None:
        self.shown: dict[str, int] = {}

    def __call__(self, task: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth > self.shown.get(task, -1):
            self.shown[task] = tenth
            typer.echo(f"migrate: {task}: {done:,} of {total:,} rows", err=True)


def _copy(
    src: TickStore, dst: TickStore, progress: Progress | None, **options: object
) -> CopyReport:
    from statarb.store.copy import copy_store

    if progress is not None or not sys.stderr.isatty():
        return copy_store(src, dst, progress=progress, **options)  # type: ignore[arg-type]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    cols = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress("{task.description}", *cols, console=Console(stderr=True)) as prog:
        tasks: dict[str, object] = {}

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = prog.add_task(task, total=total)
            prog.update(tasks[task], completed=done)  # type: ignore[arg-type]

        return copy_store(src, dst, progress=update, **options)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Add the ``migrate`` command."""

    @app.command()
    def migrate(
        source: Annotated[str, typer.Argument(help="Store URL to copy from (opened read-only).")],
        target: Annotated[
            str, typer.Argument(help="Store URL to copy into (created and migrated if needed).")
        ],
        symbol: Annotated[
            list[str] | None, typer.Option(help="Copy only this symbol (repeatable).")
        ] = None,
        start: Annotated[
            str | None, typer.Option(help="Copy data from this time on (ISO-8601 or epoch).")
        ] = None,
        end: Annotated[
            str | None, typer.Option(help="Copy data before this time (ISO-8601 or epoch).")
        ] = None,
        alerts: Annotated[
            bool, typer.Option(help="Also copy the alert rules and the alert history.")
        ] = True,
        verify: Annotated[
            bool, typer.Option(help="Count every copied table on both sides at the end.")
        ] = True,
        chunk: Annotated[
            int, typer.Option(min=1, help="Rows read and written at a time.")
        ] = 500_000,
        progress: Annotated[
            bool, typer.Option(help="Print progress lines even when stderr is not a terminal.")
        ] = False,
        json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Copy everything stored in SOURCE into TARGET, then verify the row counts.

        Safe to re-run: rows the target already holds are skipped, so an interrupted copy is
        completed by running it again. Exit 0 when every count agrees, 1 when one differs,
        2 on an error.

        Example: statarb migrate sqlite:///data/statarb.db postgresql://127.0.0.1/statarb
        """
        from statarb.errors import InputError, StoreError
        from statarb.store import open_store

        lo, hi = parse_range(start, end)
        try:
            src = open_store(source, read_only=True)
        except StoreError as exc:
            fail(f"source: {exc}")
        try:
            try:
                dst = open_store(target)
            except StoreError as exc:
                fail(f"target: {exc}")
            try:
                lines = _ProgressLines() if progress else None
                report = _copy(src, dst, lines, symbols=symbol or None, start=lo, end=hi,
                               alerts=alerts, verify=verify, chunk=chunk)  # fmt: skip
            except (InputError, StoreError, TypeError) as exc:
                fail(f"{exc} (rows copied so far are kept; run again to complete the copy)")
            finally:
                dst.close()
        finally:
            src.close()
        if json:
            import json as _json

            typer.echo(_json.dumps(report.to_dict(), indent=2))
        else:
            typer.echo(report.summary())
        if not report.ok:
            typer.echo("error: the row counts of source and target differ (see above)", err=True)
        raise typer.Exit(EXIT_OK if report.ok else EXIT_PARTIAL)
