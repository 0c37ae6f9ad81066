"""``statarb serve`` (the engine and its API) and ``statarb up`` (everything; ``--demo``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer

from statarb.cli._common import EXIT_OK, fail, settings

if TYPE_CHECKING:
    from statarb.config import Settings

DEMO_STORE = "sqlite:///data/demo.db"
#: seconds open connections get to finish at shutdown before they are closed
SHUTDOWN_GRACE_S = 5
#: where ``statarb up`` keeps the token it generated (readable by the user only)
TOKEN_FILE = "data/api-token"


def _token_hint(cfg: Settings) -> None:
    if cfg.api_token:
        typer.echo("write endpoints need 'Authorization: Bearer $STATARB_API_TOKEN'", err=True)
    else:
        typer.echo(
            "no API token configured: read endpoints and /ws subscriptions work, writes are "
            "refused. To enable them: export STATARB_API_TOKEN=$(python -c 'import secrets; "
            "print(secrets.token_urlsafe(24))') and restart",
            err=True,
        )


def _start_dashboard(cfg: Settings, port: int) -> object:
    """Start the dashboard child process pointed at the API this process serves."""
    from statarb.dashboard.launch import dashboard_url, start_dashboard

    host = "127.0.0.1" if cfg.api_host in ("0.0.0.0", "::") else cfg.api_host
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    child_cfg = cfg.model_copy(update={"api_url": f"http://{shown}:{cfg.api_port}"})
    proc = start_dashboard(child_cfg, port, die_with_parent=True)
    typer.echo(f"dashboard on {dashboard_url(cfg, port)}", err=True)
    return proc


def _stop_child(proc: object) -> None:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _preload_history(cfg: Settings, seed_book: bool = True) -> None:
    """Write the packaged 1m history into the demo store up to the day the venue's kline tape
    plays (seconds, first start only), and seed an empty book with the demo's pairs."""
    import time

    from statarb import sample
    from statarb.cli._demo_book import demo_book, seed_demo_book
    from statarb.store import open_store

    t0 = time.perf_counter()
    store = open_store(cfg.store_url)
    try:
        n = sample.load_history(store, end_us=sample.TAPE_START_US)
        entries = demo_book(cfg.symbols, [s for s in sample.HISTORY_SYMBOLS if s in cfg.symbols])
        seeded = seed_demo_book(store, entries) if seed_book else 0
    finally:
        store.close()
    what = f"{n:,} bars written" if n else "already stored"
    typer.echo(
        f"demo history: {', '.join(sample.HISTORY_SYMBOLS)} ({sample.HISTORY_LABEL}); {what} "
        f"in {time.perf_counter() - t0:.1f} s",
        err=True,
    )
    if seeded:
        typer.echo(f"demo book: {seeded} pairs added to the empty book (STATARB_DEMO_BOOK=false "
                   "or --no-demo-book to start without them)", err=True)  # fmt: skip


async def _backfill_history(app: Any, cfg: Settings, symbols: list[str], days: float) -> None:
    """Fetch the last ``days`` of 1m klines of ``symbols`` over REST into the engine's store.

    Runs beside the live streams once the API is up; a failure is reported, never fatal.
    """
    import time

    from statarb.errors import StatarbError
    from statarb.ingest.rest_klines import KlineClient, backfill_klines

    client = KlineClient(cfg.binance_rest_url)
    try:
        got = await backfill_klines(client, symbols, days, int(time.time() * 1000))
        store = app.state.store
        for batch in got.values():
            if len(batch):
                await asyncio.to_thread(store.write_bars, batch)
        typer.echo(
            "history: "
            + ", ".join(f"{s} {len(b):,} 1m bars" for s, b in got.items())
            + f" backfilled over REST klines from {cfg.binance_rest_url}",
            err=True,
        )
    except (StatarbError, OSError) as exc:
        typer.echo(f"history backfill over REST klines failed: {exc}", err=True)
    finally:
        await client.close()


async def _run(
    cfg: Settings,
    *,
    demo: bool,
    speed: float,
    dashboard_port: int | None = None,
    history_days: float = 0.0,
    demo_clock: str = "now",
) -> None:
    import uvicorn

    from statarb.api import create_app
    from statarb.masking import mask_url

    replay = None
    feed_urls = None
    if demo:
        import socket

        from statarb import sample
        from statarb.venue.server import ReplayServer

        with socket.socket() as sock:  # the venue's port is known before it starts, so the
            sock.bind(("127.0.0.1", 0))  # dashboard (started first) already knows the URLs
            venue_port = int(sock.getsockname()[1])
        # the recording, and the kline symbols as tapes that carry on where the history ends
        klines = await asyncio.to_thread(sample.history_bars)
        replay = ReplayServer(
            sample.files(), port=venue_port, speed=speed, loop=True,
            clock=demo_clock,  # type: ignore[arg-type]
            klines=klines, kline_start_us=sample.TAPE_START_US,
        )  # fmt: skip
        feed_urls = (f"ws://127.0.0.1:{venue_port}", f"http://127.0.0.1:{venue_port}")
        # streams started later from the dashboard or the API dial the demo venue too; the
        # recording has quotes, so paper orders fill on them (unless the user said otherwise)
        update: dict[str, object] = {"binance_ws_url": feed_urls[0],
                                     "binance_rest_url": feed_urls[1]}  # fmt: skip
        if "feed_quotes" not in cfg.model_fields_set:
            update["feed_quotes"] = True
        cfg = cfg.model_copy(update=update)
    # the dashboard boots (seconds) while the venue loads and the demo history is written
    dash = _start_dashboard(cfg, dashboard_port) if dashboard_port else None
    if replay is not None:
        # the book's 2026 history would follow the recording's 2024 times on the original clock
        seed = cfg.demo_book and demo_clock == "now"
        await asyncio.gather(replay.start(), asyncio.to_thread(_preload_history, cfg, seed))
        typer.echo(f"demo: replaying the packaged sample at {replay.ws_url} ({speed:g}x)", err=True)
    # the demo sample is minutes long: analyse the pair on 1 s bars too, so it shows at once
    atf: list[str] | None = None
    if demo:
        atf = [t for t in ("1s", "1m") if t in cfg.timeframes] or None
    # the demo's pair page watches the recorded pair live (the book watches the rest)
    pairs = None
    if demo:
        import itertools

        from statarb.sample import SYMBOLS

        pairs = list(itertools.combinations([s for s in SYMBOLS if s in cfg.symbols], 2))
    app = create_app(cfg, feed_urls=feed_urls, analytics_timeframes=atf, live_pairs=pairs)
    config = uvicorn.Config(
        app,
        host=cfg.api_host,
        port=cfg.api_port,
        log_level=cfg.log_level.lower(),
        ws_max_size=cfg.ws_max_frame,  # larger frames are refused before they are buffered
        ws_max_queue=8,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    server = uvicorn.Server(config)
    typer.echo(
        f"API on http://{cfg.api_host}:{cfg.api_port} (docs /docs, live /ws); "
        f"store {mask_url(cfg.store_url)}",
        err=True,
    )
    backfill = None
    if history_days and cfg.symbols:

        async def later() -> None:
            while not server.started:
                if server.should_exit:
                    return
                await asyncio.sleep(0.1)
            await _backfill_history(app, cfg, list(cfg.symbols), history_days)

        backfill = asyncio.create_task(later(), name="history-backfill")
    try:
        await server.serve()
    finally:
        if backfill is not None:
            backfill.cancel()
        if dash is not None:
            _stop_child(dash)
        if replay is not None:
            await replay.stop()


def write_secret_file(path: str, secret: str) -> None:
    """Write ``secret`` to ``path``, created readable and writable by the user only (0600)."""
    import os
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: tighten it
        os.write(fd, (secret + "\n").encode())
    finally:
        os.close(fd)


def _session_token(cfg: Settings) -> Settings:
    """``up`` without a configured token: make one for this session, shared with child processes.

    The token goes to :data:`TOKEN_FILE` (mode 0600), never to the terminal or the logs.
    """
    import os
    import secrets
    from pathlib import Path

    token = secrets.token_urlsafe(24)
    os.environ["STATARB_API_TOKEN"] = token  # inherited by processes started by `up`
    write_secret_file(TOKEN_FILE, token)
    typer.echo(
        f"generated an API token for this session in {Path(TOKEN_FILE).resolve()} (mode 0600); "
        f"use it with: export STATARB_API_TOKEN=$(cat {TOKEN_FILE})",
        err=True,
    )
    return cfg.model_copy(update={"api_token": token})


def _serve(
    demo: bool = False,
    speed: float = 1.0,
    *,
    demo_clock: str = "now",
    up: bool = False,
    dashboard_port: int | None = None,
    history_days: float = 0.0,
    **overrides: object,
) -> int:
    from statarb.errors import StatarbError
    from statarb.extras import require

    require("server", "statarb serve, up and run")
    if up:
        require("dashboard", "the dashboard of statarb up and run")
    cfg = settings(**overrides)
    if dashboard_port is not None:
        from statarb.dashboard.launch import check_exposure
        from statarb.errors import ConfigError

        try:
            check_exposure(cfg)
        except ConfigError as exc:
            fail(str(exc))
    if up and not cfg.api_token:
        cfg = _session_token(cfg)
    if demo and not cfg.symbols:
        from statarb.sample import DEMO_SYMBOLS

        cfg = cfg.model_copy(update={"symbols": list(DEMO_SYMBOLS)})
    if cfg.sqlite_path is not None:
        cfg.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    _token_hint(cfg)
    try:
        if dashboard_port == 0:  # `up` without --dashboard-port: the configured one
            dashboard_port = cfg.dashboard_port
        _check_ports(cfg, dashboard_port)
        run = _run(cfg, demo=demo, speed=speed, dashboard_port=dashboard_port,
                   history_days=history_days, demo_clock=demo_clock)  # fmt: skip
        asyncio.run(run)
    except StatarbError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _port_busy(host: str, port: int) -> bool:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _check_ports(cfg: Settings, dashboard_port: int | None) -> None:
    """Refuse to start on a busy port, naming the option that picks another one."""
    if _port_busy(cfg.api_host, cfg.api_port):
        fail(
            f"the API port {cfg.api_host}:{cfg.api_port} is in use (another statarb?): stop it, "
            "or pick another with --port N (or STATARB_API_PORT)"
        )
    if dashboard_port and _port_busy("127.0.0.1", dashboard_port):
        fail(
            f"the dashboard port {dashboard_port} is in use: stop what holds it, or pick another "
            "with --dashboard-port N (or STATARB_DASHBOARD_PORT), or --no-dashboard"
        )


def _symbols(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [s.strip().upper() for s in text.replace(",", " ").split() if s.strip()]


def register(app: typer.Typer) -> None:
    """Add the ``serve`` and ``up`` commands."""

    @app.command("serve")
    def serve(
        host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
        port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
        symbols: Annotated[
            str | None, typer.Option(help="stream these at start, e.g. btcusdt,ethusdt")
        ] = None,
        store: Annotated[str | None, typer.Option(help="store URL (default from settings)")] = None,
    ) -> None:
        """Run the engine and its REST + WebSocket API (uvicorn); Ctrl-C stops cleanly."""
        raise typer.Exit(
            _serve(api_host=host, api_port=port, symbols=_symbols(symbols), store_url=store)
        )

    @app.command("up")
    def up(
        demo: Annotated[
            bool, typer.Option("--demo", help="stream the packaged sample from a local replay")
        ] = False,
        speed: Annotated[float, typer.Option(help="demo replay speed factor")] = 1.0,
        demo_clock: Annotated[
            str,
            typer.Option(
                help="demo times: 'now' (today's clock, advancing at wall-clock pace "
                "at any speed) or 'original' (the recording's own times)"
            ),
        ] = "now",
        host: Annotated[str | None, typer.Option(help="API bind address")] = None,
        port: Annotated[int | None, typer.Option(help="API port")] = None,
        symbols: Annotated[str | None, typer.Option(help="stream these at start")] = None,
        store: Annotated[str | None, typer.Option(help="store URL")] = None,
        dashboard_port: Annotated[
            int | None, typer.Option(help="dashboard port (default: settings, 8501)")
        ] = None,
        dashboard: Annotated[
            bool, typer.Option("--dashboard/--no-dashboard", help="also start the dashboard")
        ] = True,
        demo_book: Annotated[
            bool | None,
            typer.Option(
                "--demo-book/--no-demo-book",
                help="with --demo, seed an empty book with 50 pairs (default: on; "
                "STATARB_DEMO_BOOK)",
            ),
        ] = None,
    ) -> None:
        """Start everything: engine, API and dashboard (with --demo: on a replay of the sample).

        Without STATARB_API_TOKEN a token is generated for the session and written to
        data/api-token (mode 0600).
        """
        if speed <= 0:
            fail(f"--speed must be positive, got {speed}")
        if demo_clock not in ("now", "original"):
            fail(f"--demo-clock must be 'now' or 'original', got {demo_clock!r}")
        raise typer.Exit(
            _serve(
                demo=demo,
                speed=speed,
                demo_clock=demo_clock,
                up=True,
                dashboard_port=(dashboard_port or 0) if dashboard else None,
                api_host=host,
                api_port=port,
                symbols=_symbols(symbols),
                store_url=store or (DEMO_STORE if demo else None),
                demo_book=demo_book,
            )
        )
