"""``statarb backtest-book A/B C/D ...``: a book of pairs on stored bars, with shared capital."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from statarb.cli._common import fail, parse_range, settings, store_from
from statarb.cli.bars import EndOpt, StartOpt, StoreOpt, TfOpt

if TYPE_CHECKING:
    import pandas as pd

SIZINGS = ("equal", "inverse-vol", "risk")
METHODS = ("kalman", "rolling-ols", "expanding", "static")
FUNDING_COLUMNS = ("symbol", "fundingTime", "fundingRate")


def read_funding_csv(path: Path) -> pd.DataFrame:
    """Binance funding history as CSV (``symbol,fundingTime,fundingRate``; time in epoch ms).

    Raises :class:`~statarb.errors.FormatError` naming the file and line of a bad row.
    """
    import pandas as pd

    from statarb.errors import FormatError

    try:
        df = pd.read_csv(path, dtype={"symbol": str})
    except (OSError, ValueError) as exc:
        raise FormatError(f"cannot read funding CSV: {exc}", source=str(path)) from None
    missing = [c for c in FUNDING_COLUMNS if c not in df.columns]
    if missing:
        raise FormatError(
            f"missing column(s) {missing}; expected {', '.join(FUNDING_COLUMNS)}", source=str(path)
        )
    for col in ("fundingTime", "fundingRate"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() | ~num.abs().lt(float("inf"))
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise FormatError(
                f"{col} {df[col].iloc[i]!r} is not a number", source=str(path), line=i + 2
            )
        df[col] = num
    df["symbol"] = df["symbol"].str.upper()
    return df


def funding_schedules(df: pd.DataFrame, frame: pd.DataFrame, bar_us: int) -> dict[str, Any]:
    """Per symbol of ``frame``, its funding schedule on the bars (reconciled)."""
    from statarb.backtest.funding import funding_per_bar

    times = frame.index.as_unit("us").asi8
    out = {}
    for sym in frame.columns:
        ev = df[df.symbol == sym]
        out[sym] = funding_per_bar(
            times,
            (ev.fundingTime.to_numpy() * 1000).astype("int64"),
            ev.fundingRate.to_numpy(),
            bar_us=bar_us,
            symbol=sym,
        )
    return out


def register(app: typer.Typer) -> None:
    """Add the ``backtest-book`` command."""

    @app.command("backtest-book")
    def backtest_book(
        pairs: Annotated[list[str], typer.Argument(help="Pairs as Y/X, e.g. AVAXUSDT/LINKUSDT")],
        tf: TfOpt = "1m",
        entry: Annotated[float, typer.Option(help="enter when |z| exceeds this")] = 2.0,
        exit: Annotated[float, typer.Option(help="exit when z is back inside this")] = 0.0,
        stop: Annotated[float | None, typer.Option(help="stop-loss |z|")] = None,
        window: Annotated[int, typer.Option(help="z-score (and rolling hedge) window")] = 60,
        method: Annotated[str, typer.Option(help="kalman, rolling-ols, expanding, static")] = (
            "rolling-ols"
        ),
        time_stop: Annotated[
            float | None, typer.Option(help="close after this many half-lives")
        ] = None,
        sizing: Annotated[str, typer.Option(help="equal, inverse-vol or risk")] = "equal",
        size: Annotated[float, typer.Option(help="sizing parameter, a fraction of equity")] = 0.1,
        pair_cap: Annotated[float, typer.Option(help="gross notional per pair / equity")] = 0.25,
        gross_cap: Annotated[float, typer.Option(help="netted gross exposure / equity")] = 2.0,
        max_open: Annotated[int, typer.Option(help="most pairs open at once")] = 10,
        fee_bps: Annotated[float, typer.Option(help="taker fee per leg (bps)")] = 4.0,
        slippage_bps: Annotated[float, typer.Option(help="slippage per leg (bps)")] = 1.0,
        capital: Annotated[float, typer.Option(help="starting equity")] = 100_000.0,
        funding: Annotated[
            Path | None,
            typer.Option(help="Binance funding CSV (symbol,fundingTime,fundingRate) to charge"),
        ] = None,
        start: StartOpt = None,
        end: EndOpt = None,
        json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        trades: Annotated[Path | None, typer.Option(help="write the pair trades (CSV)")] = None,
        store: StoreOpt = None,
    ) -> None:
        """Backtest a book of pairs on one clock: shared capital, caps, sizing, time stop."""
        if sizing not in SIZINGS:
            fail(f"--sizing {sizing!r} is not valid; use one of: {', '.join(SIZINGS)}")
        if method not in METHODS:
            fail(f"--method {method!r} is not valid; use one of: {', '.join(METHODS)}")
        from statarb.backtest.portfolio import PortfolioConfig, parse_pairs, run_portfolio
        from statarb.errors import FormatError, InputError
        from statarb.history import load_aligned
        from statarb.model import Timeframe

        try:
            plist = parse_pairs([p.upper() for p in pairs])
            tfo = Timeframe.parse(tf)
            cfg = PortfolioConfig(
                entry=entry, exit=exit, stop=stop, window=window, method=method,  # type: ignore[arg-type]
                time_stop=time_stop, sizing=sizing, size=size, pair_cap=pair_cap,  # type: ignore[arg-type]
                gross_cap=gross_cap, max_open=max_open, fee_bps=fee_bps,
                slippage_bps=slippage_bps, capital=capital, bar_seconds=tfo.seconds,
            )  # fmt: skip
            fund_df = read_funding_csv(funding) if funding is not None else None
        except (InputError, FormatError) as exc:
            fail(str(exc))
        symbols = sorted({s for p in plist for s in p})
        lo, hi = parse_range(start, end)
        with store_from(settings(store_url=store), read_only=True) as st:
            try:
                frame = load_aligned(st, symbols, tfo.name, lo, hi).dropna()
            except InputError as exc:
                fail(str(exc))
        if len(frame) == 0:
            fail(f"no aligned {tfo.name} bars of {', '.join(symbols)} in that range")
        try:
            sched = None
            if fund_df is not None:
                sched = funding_schedules(fund_df, frame, int(tfo.seconds * 1_000_000))
            res = run_portfolio(plist, frame, config=cfg, index=frame.index, funding=sched)
        except InputError as exc:
            fail(str(exc))
        if trades is not None:
            from statarb.export import write_table

            write_table(res.trades_frame(), trades)
        if json:
            import orjson

            out = {"tf": tfo.name, "start": frame.index[0].isoformat(),
                   "end": frame.index[-1].isoformat(), **res.to_dict()}  # fmt: skip
            typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
            return
        typer.echo(f"book of {len(plist)} pairs, {tfo.name}, {len(frame)} bars")
        typer.echo(res.summary())
        typer.echo("\ncontribution:")
        typer.echo(res.contribution().to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
        if trades is not None:
            typer.echo(f"trades: {trades} ({len(res.trade_table)} rows)")
