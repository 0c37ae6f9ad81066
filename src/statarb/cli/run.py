"""``statarb run``: open the store, import the packaged demo sample if needed, show the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from statarb.cli._common import settings, store_from

if TYPE_CHECKING:
    from statarb.config import Settings


def run(cfg: Settings) -> int:
    """Open the configured store, import the sample symbols not stored yet, print the store.

    Returns the exit code (0 when the sample imported cleanly or was already there).
    """
    from statarb import sample
    from statarb.cli.importing import info_table, run_import

    code = 0
    with store_from(cfg) as store:
        stored = {s.symbol for s in store.symbols() if s.ticks}
        todo = [
            p for p, sym in zip(sample.files(), sample.SYMBOLS, strict=True) if sym not in stored
        ]
        if todo:
            names = ", ".join(p.name for p in todo)
            typer.echo(f"importing the demo sample ({names}) into {cfg.store_url}")
            code = run_import(todo, store)
        typer.echo(f"store {cfg.store_url}:")
        typer.echo(info_table(store.symbols()))
    return code


def register(app: typer.Typer) -> None:
    """Add the ``run`` command."""

    @app.command("run")
    def run_(
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Start statarb on the configured store (imports the demo sample when it is missing)."""
        raise typer.Exit(run(settings(store_url=store)))
