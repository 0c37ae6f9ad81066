"""``statarb pair A B`` (pair analysis of stored bars) and ``statarb scan SYM...`` (rank pairs)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from statarb.cli._common import fail, parse_range, settings, store_from
from statarb.cli.bars import EndOpt, StartOpt, StoreOpt, TfOpt

METHODS = ("ols", "huber", "theil-sen", "kalman")


def _json(obj: Any) -> None:
    import orjson

    typer.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


def _aligned(
    store_url: str | None, symbols: list[str], tf: str, start: str | None, end: str | None
) -> Any:
    from statarb.errors import InputError
    from statarb.history import load_aligned

    lo, hi = parse_range(start, end)
    cfg = settings(store_url=store_url)
    with store_from(cfg, read_only=True) as st:
        try:
            frame = load_aligned(st, symbols, tf, lo, hi)
        except InputError as exc:
            fail(str(exc))
    if frame.empty:
        fail(f"no aligned {tf} bars of {', '.join(symbols)} in the range")
    return frame, cfg, lo, hi


def register(app: typer.Typer) -> None:
    """Add the ``pair`` and ``scan`` commands."""

    @app.command()
    def pair(
        a: Annotated[str, typer.Argument(help="Leg A (the leg hedged), e.g. AVAXUSDT")],
        b: Annotated[str, typer.Argument(help="Leg B (the hedge leg), e.g. LINKUSDT")],
        tf: TfOpt = "1m",
        method: Annotated[str, typer.Option(help="ols, huber, theil-sen or kalman")] = "ols",
        window: Annotated[
            int | None, typer.Option(help="rolling hedge-ratio window (bars)")
        ] = None,
        z_window: Annotated[int, typer.Option(help="z-score window (bars)")] = 60,
        log: Annotated[bool, typer.Option("--log", help="regress log prices")] = False,
        start: StartOpt = None,
        end: EndOpt = None,
        json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        store: StoreOpt = None,
    ) -> None:
        """Hedge ratio, spread z-score, ADF, Engle-Granger and half-life of two stored symbols."""
        if method not in METHODS:
            fail(f"--method {method!r} is not valid; use one of: {', '.join(METHODS)}")
        from statarb.analytics.pair import analyze_pair
        from statarb.errors import InputError
        from statarb.model import Timeframe

        a, b = a.upper(), b.upper()
        try:
            tfo = Timeframe.parse(tf)
        except InputError as exc:
            fail(str(exc))
        frame, _, _, _ = _aligned(store, [a, b], tfo.name, start, end)
        try:
            res = analyze_pair(
                frame[a],
                frame[b],
                method=method,  # type: ignore[arg-type]
                window=window,
                transform="log" if log else "price",
                bar_seconds=tfo.seconds,
                z_window=z_window,
                a=a,
                b=b,
            )
        except InputError as exc:
            fail(str(exc))
        out = {**res.to_dict(), "tf": tfo.name}
        if json:
            _json(out)
        else:
            typer.echo(res.summary())

    @app.command()
    def scan(
        symbols: Annotated[list[str], typer.Argument(help="Two or more stored symbols")],
        tf: TfOpt = "1m",
        start: StartOpt = None,
        end: EndOpt = None,
        min_notional: Annotated[float, typer.Option(help="drop legs below this notional")] = 0.0,
        alpha: Annotated[float, typer.Option(help="false-discovery rate")] = 0.05,
        top: Annotated[int, typer.Option(help="rows to print")] = 30,
        json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        store: StoreOpt = None,
    ) -> None:
        """Rank every pair of SYMBOLS by cointegration (BH-corrected), half-life, correlation."""
        syms = sorted({s.upper() for s in symbols})
        if len(syms) < 2:
            fail("scan needs at least two symbols")
        from statarb.analytics.liquidity import liquidity_filter, liquidity_stats
        from statarb.analytics.scan import scan_pairs
        from statarb.errors import InputError
        from statarb.history import load_bars

        frame, cfg, lo, hi = _aligned(store, syms, tf, start, end)
        with store_from(cfg, read_only=True) as st:
            liq = {s: liquidity_stats(load_bars(st, s, tf, lo, hi)) for s in syms}
        keep = liquidity_filter(liq, min_notional=min_notional)
        dropped = sorted(set(syms) - set(keep))
        if len(keep) < 2:
            fail(f"fewer than two symbols pass --min-notional {min_notional:g} (dropped {dropped})")
        try:
            res = scan_pairs(frame[sorted(keep)], liquidity=liq, alpha=alpha)
        except InputError as exc:
            fail(str(exc))
        if json:
            _json({**res.to_dict(), "tf": tf, "dropped": dropped})
            return
        typer.echo(res.summary() + (f"; dropped for liquidity: {dropped}" if dropped else ""))
        cols = [
            "a",
            "b",
            "pvalue",
            "pvalue_adj",
            "significant",
            "hedge_ratio",
            "half_life",
            "correlation",
            "n",
        ]
        typer.echo(res.table[cols].head(top).to_string(index=False, float_format="{:.4g}".format))
