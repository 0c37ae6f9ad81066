"""``statarb paper parity``: paper trading over a replayed recording against the backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from statarb.cli._common import EXIT_OK, EXIT_PARTIAL, fail

FilesArg = Annotated[
    list[Path] | None,
    typer.Argument(help="recordings to replay (default: the packaged BTCUSDT/ETHUSDT sample)"),
]


def register(group: typer.Typer) -> None:
    """Add ``parity`` to the ``paper`` command group."""

    @group.command("parity")
    def parity(
        files: FilesArg = None,
        a: Annotated[str | None, typer.Option(help="leg y (default: first symbol)")] = None,
        b: Annotated[str | None, typer.Option(help="leg x (default: second symbol)")] = None,
        tf: Annotated[str, typer.Option("--tf", help="bar timeframe of the pair")] = "1s",
        window: Annotated[int, typer.Option(help="hedge-ratio window (bars)")] = 30,
        z_window: Annotated[int, typer.Option(help="z-score window (bars)")] = 20,
        entry: Annotated[float, typer.Option(help="entry band (z)")] = 1.5,
        exit_: Annotated[float, typer.Option("--exit", help="exit band (z)")] = 0.0,
        stop: Annotated[float | None, typer.Option(help="stop band (|z|)")] = None,
        max_hold: Annotated[int | None, typer.Option(help="bars")] = None,
        time_stop: Annotated[float | None, typer.Option(help="half-lives")] = None,
        notional: Annotated[float, typer.Option(help="gross entry size (quote ccy)")] = 1000.0,
        fee_bps: Annotated[float, typer.Option(help="fee per fill (bps)")] = 4.0,
        slippage_bps: Annotated[float, typer.Option(help="slippage per fill (bps)")] = 1.0,
        json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    ) -> None:
        """Paper-trade a recording through the replay venue and compare with the backtest.

        Exits 1 when a signal differs or a fill-price difference exceeds the quoted half-spread
        plus the slippage.
        """
        import json

        from statarb.engine.parity import run_parity
        from statarb.errors import StatarbError
        from statarb.paper.parity import trade_table

        paths = list(files or [])
        if not paths:
            from statarb import sample

            paths = sample.files()
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            fail(f"no such recording: {', '.join(missing)}")
        tracker: dict[str, Any] = {
            "window": window,
            "z_window": z_window,
            "coint_window": max(2 * window, 10),
            "drift_bars": 5,
        }
        paper: dict[str, Any] = {
            "entry": entry,
            "exit": exit_,
            "stop": stop,
            "max_hold": max_hold,
            "time_stop": time_stop,
            "notional": notional,
            "fee_bps": fee_bps,
            "slippage_bps": slippage_bps,
        }
        try:
            report = run_parity(paths, a=a, b=b, timeframe=tf, tracker=tracker, paper=paper)
        except StatarbError as exc:
            fail(str(exc))
        if json_out:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            typer.echo("\n".join(trade_table(report)))
            typer.echo(report.summary())
        raise typer.Exit(EXIT_OK if report.passed else EXIT_PARTIAL)
