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
        symbols: Annotated[
            list[str] | None,
            typer.Argument(help="Two or more stored symbols; the first of a pair is its y"),
        ] = None,
        all_symbols: Annotated[
            bool, typer.Option("--all", help="every stored symbol (in name order)")
        ] = False,
        tf: TfOpt = "1m",
        days: Annotated[
            float | None,
            typer.Option(help="last N days up to --end (default: the newest stored bar)"),
        ] = None,
        start: StartOpt = None,
        end: EndOpt = None,
        min_notional: Annotated[float, typer.Option(help="drop legs below this notional")] = 0.0,
        min_corr: Annotated[
            float | None,
            typer.Option(help="prefilter: skip pairs with |log-price correlation| below this"),
        ] = None,
        alpha: Annotated[float, typer.Option(help="false-discovery rate")] = 0.05,
        top: Annotated[int, typer.Option(help="rows to print")] = 30,
        cluster: Annotated[
            str | None,
            typer.Option(
                envvar="STATARB_DASK_SCHEDULER",
                help="Dask scheduler address, e.g. tcp://host:8786 (env STATARB_DASK_SCHEDULER)",
            ),
        ] = None,
        executor: Annotated[str, typer.Option(help="auto, inprocess, processes or dask")] = "auto",
        workers: Annotated[
            int | None, typer.Option(min=1, max=1024, help="local processes (default: cores)")
        ] = None,
        cache: Annotated[
            bool, typer.Option(help="read and save results in the store's scan cache")
        ] = True,
        json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        store: StoreOpt = None,
    ) -> None:
        """Rank pairs by Engle-Granger cointegration (fixed direction, BH-corrected), half-life.

        Each pair is tested once, with the symbol named first (with --all: first by name) as
        the dependent leg. Results are cached in the store, so an interrupted or repeated scan
        computes only the pairs it has not done for the same bars and parameters.
        """
        from statarb.analytics.liquidity import liquidity_filter
        from statarb.analytics.scan import ScanParams
        from statarb.errors import InputError, StatarbError
        from statarb.model import Timeframe
        from statarb.scanning import run_scan
        from statarb.scanning.universe import load_universe

        if all_symbols and symbols:
            fail("give symbols or --all, not both")
        if executor not in ("auto", "inprocess", "processes", "dask"):
            fail(f"--executor {executor!r} is not valid; use auto, inprocess, processes or dask")
        try:
            tfo = Timeframe.parse(tf)
            params = ScanParams(alpha=alpha, min_corr=min_corr)
        except InputError as exc:
            fail(str(exc))
        lo, hi = parse_range(start, end)
        cfg = settings(store_url=store)
        with store_from(cfg, read_only=True) as st:
            if all_symbols:
                syms = sorted(i.symbol for i in st.symbols())
            else:
                syms = list(dict.fromkeys(s.upper() for s in symbols or []))
            if len(syms) < 2:
                fail("scan needs at least two symbols (name them, or use --all)")
            try:
                uni = load_universe(st, syms, tfo.name, lo, hi, days=days)
            except InputError as exc:
                fail(str(exc))
        keep = set(liquidity_filter(uni.liquidity, min_notional=min_notional))
        dropped = [s for s in syms if s not in keep]
        kept = [s for s in syms if s in keep]
        if len(kept) < 2:
            fail(f"fewer than two symbols pass --min-notional {min_notional:g} (dropped {dropped})")
        res = _run_scan(
            run_scan,
            uni,
            kept,
            params,
            cfg.store_url if cache else None,
            executor=executor,
            workers=workers,
            cluster=cluster,
            quiet=json,
        )
        if isinstance(res, (InputError, StatarbError)):
            fail(str(res))
        out = res.result
        if json:
            _json(
                {
                    **out.to_dict(),
                    "tf": tfo.name,
                    "start_us": uni.start_us,
                    "end_us": uni.end_us,
                    "dropped": dropped,
                    "run": {
                        "executor": res.executor,
                        "computed": res.computed,
                        "cached": res.cached,
                        "seconds": res.seconds,
                    },
                }
            )
            return
        typer.echo(out.summary() + (f"; dropped for liquidity: {dropped}" if dropped else ""))
        typer.echo(res.summary())
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
        typer.echo(out.table[cols].head(top).to_string(index=False, float_format="{:.4g}".format))


def _run_scan(
    run_scan: Any,
    uni: Any,
    symbols: list[str],
    params: Any,
    cache_url: str | None,
    *,
    executor: str,
    workers: int | None,
    cluster: str | None,
    quiet: bool,
) -> Any:
    """Run the scan with a progress bar on stderr; return the run or the error."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from statarb.errors import InputError, StatarbError
    from statarb.scanning.run import Window

    cache = None
    if cache_url and not cache_url.endswith(":memory:"):
        from statarb.store.scan_cache import ScanCache

        try:
            cache = ScanCache(cache_url)
        except StatarbError as exc:
            return exc
    bar = Progress(
        TextColumn("scan"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pairs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )
    task = bar.add_task("scan", total=None)
    try:
        with bar:
            return run_scan(
                uni.prices[symbols],
                params,
                liquidity=uni.liquidity,
                executor=executor,
                workers=workers,
                cluster=cluster,
                cache=cache,
                window=Window(uni.timeframe, uni.start_us, uni.end_us),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except (InputError, StatarbError) as exc:
        return exc
    finally:
        if cache is not None:
            cache.close()
