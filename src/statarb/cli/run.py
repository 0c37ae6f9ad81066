"""``statarb run`` (what ``make run`` calls) and ``statarb sample`` (import the demo sample).

``run`` starts the whole product on the configured store: live Binance streams when Binance
answers, otherwise the packaged sample replayed through the same live path (and it says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from statarb.cli._common import settings, store_from

if TYPE_CHECKING:
    from statarb.config import Settings


def run(cfg: Settings) -> int:
    """Open the configured store, import the sample (replay recording and the month of 1m
    history) where it is not stored yet, print the store.

    Returns the exit code (0 when the sample imported cleanly or was already there).
    """
    from statarb import sample
    from statarb.cli.importing import info_table, run_import
    from statarb.masking import mask_url

    code = 0
    with store_from(cfg) as store:
        stored = {s.symbol for s in store.symbols() if s.ticks}
        todo = [
            p for p, sym in zip(sample.files(), sample.SYMBOLS, strict=True) if sym not in stored
        ]
        if todo:
            names = ", ".join(p.name for p in todo)
            typer.echo(f"importing the demo sample ({names}) into {mask_url(cfg.store_url)}")
            code = run_import(todo, store)
        if added := sample.load_history(store):
            typer.echo(f"stored {added:,} bars of demo history ({sample.HISTORY_LABEL})")
        typer.echo(f"store {mask_url(cfg.store_url)}:")
        typer.echo(info_table(store.symbols()))
    return code


DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: days of 1m history ``run`` backfills over REST klines for the streamed symbols
HISTORY_DAYS = 28.0


def binance_reachable(rest_url: str, timeout: float = 3.0) -> bool:
    """Whether Binance's USD-M REST API answers ``/fapi/v1/ping`` within ``timeout`` seconds."""
    import httpx

    try:
        return httpx.get(f"{rest_url.rstrip('/')}/fapi/v1/ping", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def plan_start(cfg: Settings, *, reachable: bool, dashboard: bool = True) -> dict[str, Any]:
    """What ``statarb run`` starts: keyword arguments for ``statarb up`` and a message.

    Live streams of ``cfg.symbols`` (default BTCUSDT, ETHUSDT) when Binance is reachable;
    otherwise the packaged sample replayed through the live path, into ``data/demo.db`` unless a
    store was configured.
    """
    from statarb.cli.serve import DEMO_STORE

    port = cfg.dashboard_port if dashboard else None
    if reachable:
        symbols = cfg.symbols or list(DEFAULT_SYMBOLS)
        return {
            "message": f"Binance is reachable: streaming {', '.join(symbols)} live, with the "
            f"last {HISTORY_DAYS:g} days of 1m klines backfilled over REST",
            "kwargs": {
                "up": True,
                "dashboard_port": port,
                "symbols": symbols,
                "store_url": cfg.store_url,
                "history_days": HISTORY_DAYS,
            },
        }
    store = cfg.store_url if "store_url" in cfg.model_fields_set else DEMO_STORE
    return {
        "message": f"Binance ({cfg.binance_rest_url}) is out of reach: starting the offline demo, "
        "the packaged BTCUSDT/ETHUSDT recording replayed through the live path, beside a month "
        "of packaged 1m history of seven symbols whose last day streams as a tape of trades "
        "synthesised from the klines, and a book of 50 pairs",
        "kwargs": {"demo": True, "up": True, "dashboard_port": port, "store_url": store},
    }


def start(cfg: Settings, *, dashboard: bool = True) -> int:
    """Start engine, API and dashboard: live when Binance answers, else the offline demo."""
    from statarb.cli.serve import _serve

    plan = plan_start(cfg, reachable=binance_reachable(cfg.binance_rest_url), dashboard=dashboard)
    typer.echo(plan["message"], err=True)
    return _serve(**plan["kwargs"])


def register(app: typer.Typer) -> None:
    """Add the ``run`` and ``sample`` commands."""

    @app.command("run")
    def run_(
        dashboard: Annotated[
            bool, typer.Option("--dashboard/--no-dashboard", help="also start the dashboard")
        ] = True,
    ) -> None:
        """Start statarb: engine, API and dashboard; live data, or the demo feed when offline."""
        raise typer.Exit(start(settings(), dashboard=dashboard))

    @app.command("sample")
    def sample_(
        store: Annotated[str | None, typer.Option(help="Store URL (default: settings).")] = None,
    ) -> None:
        """Import the packaged demo sample (BTCUSDT/ETHUSDT trades, a month of 1m history)."""
        raise typer.Exit(run(settings(store_url=store)))
