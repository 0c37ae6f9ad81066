"""``statarb import`` (files into the store) and ``statarb info`` (what is stored)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from statarb.cli._common import EXIT_OK, EXIT_PARTIAL, fail, settings, store_from

if TYPE_CHECKING:
    from statarb.ingest.report import ImportReport
    from statarb.store.base import SymbolInfo, TickStore

#: files at least this big (bytes in total) report progress even when stderr is not a terminal
BIG_IMPORT_BYTES = 256 * 1024 * 1024


def info_table(infos: list[SymbolInfo]) -> str:
    """Render stored symbols as a fixed-width text table."""
    if not infos:
        return "the store is empty: import files with `statarb import PATH...`"
    header = ("symbol", "ticks", "first", "last", "quotes", "bars")
    rows = [header]
    for s in infos:
        d = s.to_dict()
        bars = " ".join(f"{tf}:{n:,}" for tf, n in sorted(s.bars.items())) or "-"
        rows.append(
            (s.symbol, f"{s.ticks:,}", d["first"] or "-", d["last"] or "-", f"{s.quotes:,}", bars)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for r in rows:
        cells = [
            c.rjust(w) if i in (1, 4) else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def run_import(
    paths: list[Path],
    store: TickStore,
    *,
    symbol: str | None = None,
    strict: bool = False,
    show_progress: bool = False,
    bar_timeframes: Sequence[str] = (),
) -> int:
    """Import ``paths``, print the report, return the exit code (0 all stored, 1 rows rejected)."""
    from statarb.errors import FormatError, InputError, StoreError
    from statarb.ingest.files import import_files

    total = sum(p.stat().st_size for p in paths if p.is_file())
    try:
        if sys.stderr.isatty():
            report = _with_progress(
                paths, store, symbol=symbol, strict=strict, bar_timeframes=bar_timeframes
            )
        else:
            lines = show_progress or total >= BIG_IMPORT_BYTES
            progress = _ProgressLines() if lines else None
            report = import_files(
                paths, store, symbol=symbol, strict=strict, progress=progress,
                bar_timeframes=bar_timeframes,
            )  # fmt: skip
    except FormatError as exc:
        if exc.line is not None:  # a bad row in --strict mode: that file was rolled back
            fail(f"{exc} (nothing stored from {exc.source})", EXIT_PARTIAL)
        fail(str(exc))
    except InputError as exc:
        fail(str(exc))
    except StoreError as exc:  # the file being imported was rolled back, earlier ones are kept
        fail(str(exc))
    typer.echo(report.summary())
    return EXIT_OK if report.ok else EXIT_PARTIAL


class _ProgressLines:
    """Progress for a log file or pipe: one stderr line per tenth of the input."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            mb = 1024 * 1024
            typer.echo(
                f"import: {tenth * 10}% ({done / mb:,.1f} of {total / mb:,.1f} MB)", err=True
            )


def _with_progress(
    paths: list[Path],
    store: TickStore,
    *,
    symbol: str | None,
    strict: bool,
    bar_timeframes: Sequence[str],
) -> ImportReport:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from statarb.ingest.files import import_files

    cols = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*cols, console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task("import", total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        return import_files(
            paths, store, symbol=symbol, strict=strict, progress=update,
            bar_timeframes=bar_timeframes,
        )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``import`` and ``info`` commands."""

    @app.command("import")
    def import_(
        paths: Annotated[
            list[Path],
            typer.Argument(
                help="CSV, NDJSON, Binance dumps or recorded WebSocket frames; plain, .gz or .zip."
            ),
        ],
        symbol: Annotated[
            str | None,
            typer.Option(help="Symbol for rows that carry none (default: from the file name)."),
        ] = None,
        strict: Annotated[
            bool, typer.Option(help="Stop at the first bad row; nothing of that file is stored.")
        ] = False,
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
        progress: Annotated[
            bool, typer.Option(help="Show a progress bar even when stderr is not a terminal.")
        ] = False,
    ) -> None:
        """Import market data files into the store (exit 0 all stored, 1 rows rejected, 2 error)."""
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            fail(f"file not found: {', '.join(missing)}")
        cfg = settings(store_url=store)
        with store_from(cfg) as st:
            code = run_import(
                paths, st, symbol=symbol, strict=strict, show_progress=progress,
                bar_timeframes=cfg.timeframes,
            )  # fmt: skip
        raise typer.Exit(code)

    @app.command()
    def info(
        json: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of a table.")
        ] = False,
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Show what is stored: per symbol ticks, first/last time, quotes, bar timeframes."""
        cfg = settings(store_url=store)
        db = cfg.sqlite_path
        if db is not None and str(db) != ":memory:" and not db.exists():
            infos = []  # nothing imported yet; do not create the file just to say so
        else:
            with store_from(cfg, read_only=True) as st:
                infos = st.symbols()
        if json:
            import json as _json

            typer.echo(_json.dumps([s.to_dict() for s in infos], indent=2))
        else:
            typer.echo(info_table(infos))
