"""Entry point of the ``statarb`` command: builds the typer app from the command modules."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import statarb.cli as _cli_pkg


def build_app() -> typer.Typer:
    """Create the app and let every ``statarb.cli.<module>.register(app)`` add its commands."""
    app = typer.Typer(
        name="statarb",
        help="Real-time statistical-arbitrage analytics for crypto futures.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for info in sorted(pkgutil.iter_modules(_cli_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"statarb.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (console script ``statarb``)."""
    app = build_app()
    app(args=argv if argv is not None else sys.argv[1:], prog_name="statarb")


if __name__ == "__main__":  # pragma: no cover
    main()
