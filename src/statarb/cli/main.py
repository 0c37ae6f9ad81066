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
    from statarb.extras import MissingExtraError, extra_of, install_hint

    app = build_app()
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="statarb")
    except MissingExtraError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:
        extra = extra_of(exc)
        if extra is None:
            raise
        typer.echo(f"error: this command needs the '{extra}' extra ({exc.name} is not "
                   f"installed): {install_hint(extra)}", err=True)  # fmt: skip
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
