"""``statarb backtest A B``: z-score mean reversion on stored bars, metrics and trade log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from statarb.cli._common import fail, parse_range, settings, store_from
from statarb.cli.bars import EndOpt, StartOpt, StoreOpt, TfOpt

METHODS = ("kalman", "rolling-ols", "expanding", "static")


def _floats(text: str | None, name: str, kind: type = float) -> list[Any]:
    from statarb.errors import InputError

    if not text:
        return []
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"--{name} must be a comma-separated list of numbers, got {text!r}"
        ) from None


def _grid(entry: str | None, window: str | None) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    if entries := _floats(entry, "sweep-entry"):
        grid["entry"] = entries
    if windows := _floats(window, "sweep-window", int):
        grid["window"] = windows
    return grid


def _ou(y: Any, x: Any, cfg: Any) -> Any:
    """The OU study of the traded spread, or why there is none."""
    from statarb.backtest.ou_study import ou_study
    from statarb.errors import InputError

    try:
        return ou_study(y, x, config=cfg)
    except InputError as exc:
        return f"no OU fit: {exc}"


def register(app: typer.Typer) -> None:
    """Add the ``backtest`` command."""

    @app.command()
    def backtest(
        a: Annotated[str, typer.Argument(help="Leg A (y), e.g. AVAXUSDT")],
        b: Annotated[str, typer.Argument(help="Leg B (x, the hedge leg), e.g. LINKUSDT")],
        tf: TfOpt = "1m",
        entry: Annotated[float, typer.Option(help="enter when |z| exceeds this")] = 2.0,
        exit: Annotated[float, typer.Option(help="exit when z is back inside this")] = 0.0,
        stop: Annotated[float | None, typer.Option(help="stop-loss |z|")] = None,
        window: Annotated[int, typer.Option(help="z-score (and rolling hedge) window")] = 60,
        hedge_window: Annotated[int | None, typer.Option(help="rolling hedge window")] = None,
        method: Annotated[str, typer.Option(help="kalman, rolling-ols, expanding, static")] = (
            "rolling-ols"
        ),
        fee_bps: Annotated[float, typer.Option(help="taker fee per leg (bps)")] = 4.0,
        slippage_bps: Annotated[float, typer.Option(help="slippage per leg (bps)")] = 1.0,
        capital: Annotated[float, typer.Option(help="starting equity and trade notional")] = (
            100_000.0
        ),
        max_hold: Annotated[int | None, typer.Option(help="exit after N bars")] = None,
        time_stop: Annotated[
            float | None, typer.Option(help="exit after this many half-lives of the spread")
        ] = None,
        funding: Annotated[
            Path | None,
            typer.Option(help="Binance funding CSV (symbol,fundingTime,fundingRate) to charge"),
        ] = None,
        sweep_entry: Annotated[
            str | None, typer.Option(help="sweep these entry levels, e.g. 1.5,2,2.5")
        ] = None,
        sweep_window: Annotated[
            str | None, typer.Option(help="sweep these z windows, e.g. 30,60,120")
        ] = None,
        start: StartOpt = None,
        end: EndOpt = None,
        json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        trades: Annotated[Path | None, typer.Option(help="write the trade log (CSV)")] = None,
        store: StoreOpt = None,
    ) -> None:
        """Backtest mean reversion of the A/B spread: next-bar fills, no look-ahead, costs."""
        if method not in METHODS:
            fail(f"--method {method!r} is not valid; use one of: {', '.join(METHODS)}")
        from statarb.backtest import BacktestConfig, run_backtest
        from statarb.backtest.sweep import sweep_report
        from statarb.cli.backtest_book import funding_schedules, read_funding_csv
        from statarb.errors import FormatError, InputError
        from statarb.history import load_aligned
        from statarb.model import Timeframe

        a, b = a.upper(), b.upper()
        try:
            tfo = Timeframe.parse(tf)
            cfg = BacktestConfig(
                entry=entry,
                exit=exit,
                stop=stop,
                window=window,
                hedge_window=hedge_window,
                method=method,  # type: ignore[arg-type]
                fee_bps=fee_bps,
                slippage_bps=slippage_bps,
                capital=capital,
                max_hold=max_hold,
                time_stop=time_stop,
                bar_seconds=tfo.seconds,
            )
            grid = _grid(sweep_entry, sweep_window)
            fund_df = read_funding_csv(funding) if funding is not None else None
        except (InputError, FormatError) as exc:
            fail(str(exc))
        lo, hi = parse_range(start, end)
        with store_from(settings(store_url=store), read_only=True) as st:
            try:
                frame = load_aligned(st, [a, b], tfo.name, lo, hi)
            except InputError as exc:
                fail(str(exc))
        fund: dict[str, Any] = {"charged": False}
        rates: dict[str, Any] = {}
        if fund_df is not None:
            from statarb.backtest.funding import funding_matrix

            try:
                sched = funding_schedules(fund_df, frame, int(tfo.seconds * 1_000_000))
                mat, report = funding_matrix(sched, [a, b])
            except InputError as exc:
                fail(str(exc))
            fund = {"charged": True, "reconciled": True, **report}
            rates = {"funding_y": mat[0], "funding_x": mat[1]}
        try:
            res = run_backtest(frame[a], frame[b], config=cfg, index=frame.index, **rates)
            ou = _ou(frame[a], frame[b], cfg)
            rep = sweep_report(frame[a], frame[b], config=cfg, grid=grid) if grid else None
        except InputError as exc:
            fail(str(exc))
        if trades is not None:
            from statarb.export import write_table

            write_table(res.trades_frame(), trades)
        if json:
            import orjson

            out = {"a": a, "b": b, "tf": tfo.name, **res.to_dict()}
            out["ou"] = ou.to_dict() if not isinstance(ou, str) else {"error": ou}
            out["funding"] = fund
            if rep is not None:
                out["sweep"] = rep.to_dict()
            typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
            return
        typer.echo(f"{a}/{b} {tfo.name}, {len(frame)} bars, {method}")
        typer.echo(res.summary())
        for k, v in res.metrics.items():
            typer.echo(f"  {k:<18} {v:,.6g}" if isinstance(v, float) else f"  {k:<18} {v}")
        if not fund["charged"]:
            typer.echo("funding: not charged (give --funding to charge it)")
        else:
            flag = " FLAGGED (>1% missing)" if fund["flagged"] else ""
            typer.echo(f"funding: {fund['found']}/{fund['expected']} events found, "
                       f"{fund['missing']} missing{flag}")  # fmt: skip
        typer.echo("OU model of the spread:")
        typer.echo("  " + (ou if isinstance(ou, str) else ou.summary()).replace("\n", "\n  "))
        if rep is not None:
            typer.echo(f"sweep of {rep.n_configs} configurations:")
            cols = [*grid, "sharpe", "dsr", "trades", "total_return"]
            typer.echo(rep.table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            typer.echo(rep.summary())
        if trades is not None:
            typer.echo(f"trade log: {trades} ({len(res.trades)} trades)")
