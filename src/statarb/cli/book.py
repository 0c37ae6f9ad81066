"""``statarb book ls|add|rm``: the book of pairs the engine analyses live."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from statarb.cli._common import EXIT_OK, fail, settings, store_from

RESTART_NOTE = (
    "a running engine picks up changes made in the store at its next start; "
    "give --api http://127.0.0.1:8000 to change a running engine now"
)
ApiOpt = Annotated[
    str | None,
    typer.Option(help="Engine API URL: change the running engine (token: STATARB_API_TOKEN)."),
]
StoreOpt = Annotated[str | None, typer.Option(help="Store URL (default: settings).")]


def _api(method: str, url: str, path: str, token: str | None, body: Any = None) -> Any:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.request(method, url.rstrip("/") + path, json=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        fail(f"cannot reach the engine API at {url}: {exc}", 1)
    if r.status_code >= 400:
        fail(f"the engine API answered {r.status_code}: {r.text[:500]}", 1)
    return r.json() if r.content else None


def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _print_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("the book is empty: add a pair with 'statarb book add A B --tf 1m'")
        return
    head = f"{'id':>4} {'pair':<22} {'tf':<4} {'method':<11} {'z':>6} {'beta':>9} "
    typer.echo(head + f"{'half-life':>9} {'signal':<6} health")
    for r in rows:
        a = r.get("analytics") or {}
        line = (f"{r['id']:>4} {r['a'] + '/' + r['b']:<22} {r['timeframe']:<4} "
                f"{r['settings']['method']:<11} {_fmt(a.get('zscore'), '6.2f')} "
                f"{_fmt(a.get('hedge_ratio'), '9.4g')} {_fmt(a.get('half_life'), '9.1f')} "
                f"{a.get('signal', '-'):<6} {a.get('health', 'not analysed yet')}")  # fmt: skip
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add the ``book`` command group."""
    group = typer.Typer(help="The book of pairs analysed live: ls, add, rm.", no_args_is_help=True)
    app.add_typer(group, name="book")

    @group.command("ls")
    def ls(
        json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Show the pairs of the book (with live analytics when asked through --api)."""
        import json

        s = settings(store_url=store)
        if api:
            rows = _api("GET", api, "/api/v1/book", s.api_token)
        else:
            with store_from(s, read_only=True) as st:
                rows = [{**r, "analytics": None} for r in st.list_book_pairs()]
        if json_out:
            typer.echo(json.dumps(rows, indent=2))
            raise typer.Exit(EXIT_OK)
        _print_rows(rows)

    @group.command("add")
    def add(
        a: Annotated[str, typer.Argument(help="dependent leg (y), e.g. BTCUSDT")],
        b: Annotated[str, typer.Argument(help="regressor leg (x), e.g. ETHUSDT")],
        tf: Annotated[str, typer.Option("--tf", help="bar timeframe")] = "1m",
        method: Annotated[str, typer.Option(help="rolling-ols or kalman")] = "rolling-ols",
        window: Annotated[int, typer.Option(help="hedge-ratio window (bars)")] = 120,
        z_window: Annotated[int, typer.Option(help="z-score window (bars)")] = 60,
        entry: Annotated[float, typer.Option(help="entry band (z)")] = 2.0,
        exit_: Annotated[float, typer.Option("--exit", help="exit band (z)")] = 0.0,
        stop: Annotated[float | None, typer.Option(help="stop band (z)")] = None,
        time_stop: Annotated[
            float | None, typer.Option(help="close after this many half-lives")
        ] = None,
        coint_window: Annotated[int, typer.Option(help="rolling Engle-Granger window")] = 480,
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Watch a pair: its analytics and health update on every closed bar."""
        from statarb.engine._book import tracker_settings
        from statarb.errors import InputError
        from statarb.model import Timeframe

        conf = {"method": method, "window": window, "z_window": z_window, "entry": entry,
                "exit": exit_, "stop": stop, "time_stop": time_stop,
                "coint_window": coint_window}  # fmt: skip
        try:
            ts = tracker_settings(conf)
            timeframe = Timeframe.parse(tf).name
        except InputError as exc:
            fail(str(exc))
        a, b = a.upper(), b.upper()
        if a == b:
            fail(f"a pair needs two different symbols, got {a}/{b}")
        s = settings(store_url=store)
        if api:
            row = _api("POST", api, "/api/v1/book", s.api_token,
                       {"a": a, "b": b, "timeframe": timeframe, "settings": conf})  # fmt: skip
            typer.echo(f"added {a}/{b} {timeframe} as book pair {row['id']} (live)")
            return
        keep = {k: v for k, v in ts.to_dict().items() if k in conf or k in ("fee_bps",)}
        with store_from(s) as st:
            pid = st.save_book_pair(a, b, timeframe, keep)
        typer.echo(f"added {a}/{b} {timeframe} as book pair {pid} ({RESTART_NOTE})")

    @group.command("rm")
    def rm(
        pair_id: Annotated[int, typer.Argument(help="book pair id (see book ls)")],
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Stop watching a pair."""
        s = settings(store_url=store)
        if api:
            _api("DELETE", api, f"/api/v1/book/{pair_id}", s.api_token)
            typer.echo(f"removed book pair {pair_id} (live)")
            return
        with store_from(s) as st:
            if not st.delete_book_pair(pair_id):
                fail(f"book pair {pair_id} does not exist", 1)
        typer.echo(f"removed book pair {pair_id} ({RESTART_NOTE})")
