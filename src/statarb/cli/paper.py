"""``statarb paper start|stop|status``: paper trading of the book's pairs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from statarb.cli._common import EXIT_OK, fail, settings, store_from
from statarb.cli.book import RESTART_NOTE, ApiOpt, StoreOpt, _api, _fmt

_INFO_HELP = (
    "venue base URL: lot sizes and minimum notional from its /fapi/v1/exchangeInfo "
    "(e.g. https://fapi.binance.com)"
)
PairArg = Annotated[int, typer.Argument(help="book pair id (see statarb book ls)")]


def _legs(pair_id: int, rows: list[dict[str, Any]]) -> tuple[str, str]:
    row = next((r for r in rows if r["id"] == pair_id), None)
    if row is None:
        fail(f"book pair {pair_id} does not exist (see statarb book ls)", 1)
    return row["a"], row["b"]


def _settings(conf: dict[str, Any], info_url: str | None, a: str, b: str) -> dict[str, Any]:
    """Validated settings (lot sizes from the venue when asked), as a plain dict."""
    from statarb.errors import InputError
    from statarb.paper import paper_settings

    if info_url:
        conf = {**conf, **_exchange_rules(info_url, a, b)}
    try:
        return paper_settings(conf).to_dict()
    except InputError as exc:
        fail(str(exc))


def _exchange_rules(url: str, a: str, b: str) -> dict[str, float]:
    """Lot steps and minimum notional of the legs from ``<url>/fapi/v1/exchangeInfo``."""
    import httpx

    from statarb.errors import InputError
    from statarb.paper import symbol_rules

    try:
        r = httpx.get(url.rstrip("/") + "/fapi/v1/exchangeInfo", timeout=30)
        r.raise_for_status()
        rules = symbol_rules(r.json())
    except (httpx.HTTPError, ValueError, InputError) as exc:
        fail(f"cannot read exchangeInfo from {url}: {exc}", 1)
    missing = [s for s in (a, b) if s not in rules]
    if missing:
        fail(f"exchangeInfo at {url} does not list {missing}", 1)
    return {"lot_y": rules[a].step, "lot_x": rules[b].step,
            "min_notional": max(rules[a].min_notional, rules[b].min_notional)}  # fmt: skip


def _print_status(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("no paper strategy: attach one with 'statarb paper start PAIR_ID --api URL'")
        return
    typer.echo(f"{'pair':>4} {'legs':<22} {'status':<9} {'side':>4} {'qty y':>10} {'qty x':>10} "
               f"{'realised':>10} {'unreal.':>10} {'fees':>8} {'pnl':>10} trades")  # fmt: skip
    for r in rows:
        p = r["position"]
        typer.echo(f"{r['pair_id']:>4} {r['a'] + '/' + r['b']:<22} {p['status']:<9} "
                   f"{p['side']:>4} {p['qty_y']:>10.6g} {p['qty_x']:>10.6g} "
                   f"{_fmt(p.get('realised'), '10.2f')} {_fmt(p.get('unrealised'), '10.2f')} "
                   f"{_fmt(p.get('fees'), '8.2f')} {_fmt(p.get('pnl'), '10.2f')} "
                   f"{p['trades']}{'' if r.get('active', True) else ' (stopped)'}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the ``paper`` command group."""
    group = typer.Typer(help="Paper trading of the book: start, stop, status.",
                        no_args_is_help=True)  # fmt: skip
    app.add_typer(group, name="paper")

    @group.command("start")
    def start(
        pair_id: PairArg,
        entry: Annotated[float, typer.Option(help="entry band (z)")] = 2.0,
        exit_: Annotated[float, typer.Option("--exit", help="exit band (z)")] = 0.0,
        stop: Annotated[float | None, typer.Option(help="stop band (|z|)")] = None,
        time_stop: Annotated[float | None, typer.Option(help="half-lives")] = None,
        max_hold: Annotated[int | None, typer.Option(help="bars")] = None,
        notional: Annotated[float, typer.Option(help="gross entry size (quote ccy)")] = 1000.0,
        fee_bps: Annotated[float, typer.Option(help="fee per fill (bps)")] = 4.0,
        slippage_bps: Annotated[float, typer.Option(help="slippage per fill (bps)")] = 1.0,
        leg_timeout: Annotated[float, typer.Option(help="seconds a late leg may wait")] = 5.0,
        on_timeout: Annotated[str, typer.Option(help="retry or unwind")] = "retry",
        max_retries: Annotated[int, typer.Option(help="retries of a late entry leg")] = 3,
        exchange_info: Annotated[str | None, typer.Option(help=_INFO_HELP)] = None,
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Attach a paper strategy to a pair of the book (re-configures a running one)."""
        from statarb.paper import PaperPosition

        conf: dict[str, Any] = {
            "entry": entry, "exit": exit_, "stop": stop, "time_stop": time_stop,
            "max_hold": max_hold, "notional": notional, "fee_bps": fee_bps,
            "slippage_bps": slippage_bps, "leg_timeout": leg_timeout, "on_timeout": on_timeout,
            "max_retries": max_retries,
        }  # fmt: skip
        s = settings(store_url=store)
        if api:
            a, b = _legs(pair_id, _api("GET", api, "/api/v1/book", s.api_token))
            body = {"pair_id": pair_id, "settings": _settings(conf, exchange_info, a, b)}
            row = _api("POST", api, "/api/v1/paper/start", s.api_token, body)
            typer.echo(f"paper trading book pair {pair_id} {a}/{b} (live, position "
                       f"{row['position']['status']})")  # fmt: skip
            return
        with store_from(s) as st:
            a, b = _legs(pair_id, st.list_book_pairs())
            ps = _settings(conf, exchange_info, a, b)
            prior = {r["pair_id"]: r for r in st.paper.strategies()}.get(pair_id)
            pos = prior["position"] if prior else PaperPosition().to_dict()
            st.paper.save_strategy(pair_id, ps, pos, active=True)
        typer.echo(f"paper strategy attached to book pair {pair_id} {a}/{b} ({RESTART_NOTE})")

    @group.command("stop")
    def stop(
        pair_id: PairArg,
        flatten: Annotated[bool, typer.Option(help="close the position at market first")] = False,
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Stop paper trading a pair (its position is kept unless --flatten)."""
        s = settings(store_url=store)
        if api:
            row = _api("POST", api, "/api/v1/paper/stop", s.api_token,
                       {"pair_id": pair_id, "flatten": flatten})  # fmt: skip
            state = "stopping once its exit orders fill" if row.get("stopping") else "stopped"
            typer.echo(f"book pair {pair_id}: {state} (position {row['position']['status']})")
            return
        if flatten:
            fail("--flatten needs a running engine: give --api URL", 2)
        with store_from(s) as st:
            if not st.paper.set_active(pair_id, False):
                fail(f"book pair {pair_id} has no paper strategy", 1)
        typer.echo(f"book pair {pair_id}: stopped ({RESTART_NOTE})")

    @group.command("status")
    def status(
        json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        api: ApiOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Show the paper strategies with their positions and P&L."""
        import json

        from statarb.paper import PaperPosition

        s = settings(store_url=store)
        if api:
            rows = _api("GET", api, "/api/v1/paper/status", s.api_token)["strategies"]
        else:
            with store_from(s, read_only=True) as st:
                legs = {r["id"]: (r["a"], r["b"]) for r in st.list_book_pairs()}
                rows = [{"pair_id": r["pair_id"], "a": legs.get(r["pair_id"], ("?", "?"))[0],
                         "b": legs.get(r["pair_id"], ("?", "?"))[1], "active": r["active"],
                         "settings": r["settings"],
                         "position": PaperPosition.from_dict(r["position"]).view()}
                        for r in st.paper.strategies()]  # fmt: skip
        if json_out:
            typer.echo(json.dumps(rows, indent=2))
            raise typer.Exit(EXIT_OK)
        _print_status(rows)

    from statarb.cli.paper_parity import register as register_parity

    register_parity(group)
