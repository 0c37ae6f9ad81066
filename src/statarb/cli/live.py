"""``statarb stream`` (live Binance ticks into the store) and ``statarb replay`` (local server)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from statarb.cli._common import EXIT_OK, EXIT_UNREACHABLE, fail, settings

if TYPE_CHECKING:
    from statarb.ingest._feed_stats import FeedStats
    from statarb.ingest.binance import StreamKind
    from statarb.ingest.writer import WriterStats


class _StatusLine:
    """A one-line live status (rewritten in place on a terminal)."""

    def __init__(self) -> None:
        self.prev_msgs = 0
        self.tty = sys.stderr.isatty()
        self.connected = False  # ever

    def __call__(self, feed: FeedStats, writer: WriterStats) -> None:
        self.connected = self.connected or feed.connected or feed.messages > 0
        rate = feed.messages - self.prev_msgs
        self.prev_msgs = feed.messages
        lag = "-" if feed.latency_p50_ms is None else f"{feed.latency_p50_ms:.0f}ms"
        line = (
            f"{'up' if feed.connected else 'DOWN'} {rate:,} msg/s lag={lag} ticks={feed.ticks:,} "
            f"quotes={feed.quotes:,} gaps={feed.gaps} backfilled={feed.backfilled:,} "
            f"reconnects={feed.reconnects} stored={writer.written:,}"
        )
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _stream(symbols: list[str], seconds: float | None, book: bool, mark: bool) -> int:
    import asyncio

    from statarb.errors import StatarbError
    from statarb.ingest.stream import run_stream
    from statarb.masking import mask_url

    cfg = settings()
    kinds: list[StreamKind] = ["aggTrade"]
    if book:
        kinds.append("bookTicker")
    if mark:
        kinds.append("markPrice")
    status = _StatusLine()
    typer.echo(f"streaming {', '.join(s.upper() for s in symbols)} from {cfg.binance_ws_url} "
               f"into {mask_url(cfg.store_url)} (Ctrl-C stops)", err=True)  # fmt: skip
    try:
        result = asyncio.run(
            run_stream(cfg, symbols, seconds=seconds, on_status=status, streams=kinds)
        )
    except StatarbError as exc:
        fail(str(exc))
    if status.tty:
        sys.stderr.write("\n")
    typer.echo(result.summary())
    if not (status.connected or result.feed.connected or result.feed.messages):
        fail(
            f"never connected to {cfg.binance_ws_url}: nothing was streamed. Check the network "
            "(or STATARB_BINANCE_WS_URL); offline, `statarb up --demo` replays a recording",
            EXIT_UNREACHABLE,
        )
    return EXIT_OK


def _replay(
    files: list[Path], port: int, speed: float | None, disconnect_every: int | None, loop: bool,
    *, clock: str = "now", tls: bool = False, certfile: Path | None = None,
    keyfile: Path | None = None,
) -> int:  # fmt: skip
    import asyncio

    from statarb.errors import StatarbError
    from statarb.venue.server import ReplayServer

    async def serve() -> None:
        server = ReplayServer(files, port=port, speed=speed, disconnect_every=disconnect_every,
                              loop=loop, clock="original" if clock == "original" else "now",
                              tls=tls, certfile=certfile, keyfile=keyfile)  # fmt: skip
        await server.start()
        assert server.rec is not None
        typer.echo(f"replaying {len(server.rec):,} events of {', '.join(server.rec.symbols)} "
                   f"on port {server.port}")  # fmt: skip
        typer.echo(f"STATARB_BINANCE_WS_URL={server.ws_url} "
                   f"STATARB_BINANCE_REST_URL={server.rest_url}")  # fmt: skip
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    except StatarbError as exc:
        fail(str(exc))
    return EXIT_OK


def register(app: typer.Typer) -> None:
    """Add the ``stream`` and ``replay`` commands."""

    @app.command("stream")
    def stream(
        symbols: Annotated[list[str], typer.Argument(help="symbols, e.g. BTCUSDT ETHUSDT")],
        seconds: Annotated[
            float | None, typer.Option(help="stop after this many seconds (default: Ctrl-C)")
        ] = None,
        book: Annotated[bool, typer.Option("--book", help="also stream bookTicker")] = False,
        mark: Annotated[bool, typer.Option("--mark", help="also stream markPrice")] = False,
    ) -> None:
        """Stream live Binance USD-M trades into the store (gap-free, resumes after restarts)."""
        raise typer.Exit(_stream(symbols, seconds, book, mark))

    @app.command("replay")
    def replay(
        files: Annotated[list[Path], typer.Argument(help="recordings to serve", exists=True)],
        port: Annotated[int, typer.Option(help="port (0 = any free port)")] = 8765,
        speed: Annotated[float, typer.Option(help="replay speed factor")] = 1.0,
        max_speed: Annotated[
            bool, typer.Option("--max", help="as fast as clients take it (ignores --speed)")
        ] = False,
        disconnect_every: Annotated[
            int | None, typer.Option(help="drop each connection after N data frames")
        ] = None,
        loop: Annotated[
            bool,
            typer.Option("--loop", help="start over at the end, rebased on the last price"),
        ] = False,
        clock: Annotated[
            str,
            typer.Option(help="'now': times shifted to the wall clock; 'original': as recorded"),
        ] = "now",
        tls: Annotated[
            bool, typer.Option("--tls", help="serve wss:// and https:// (self-signed certificate)")
        ] = False,
        certfile: Annotated[
            Path | None, typer.Option(help="PEM certificate for --tls (default: self-signed)")
        ] = None,
        keyfile: Annotated[Path | None, typer.Option(help="PEM private key for --certfile")] = None,
    ) -> None:
        """Serve recordings as a local Binance USD-M WebSocket + REST endpoint."""
        if speed <= 0:
            fail(f"--speed must be positive, got {speed}")
        if clock not in ("now", "original"):
            fail(f"--clock must be 'now' or 'original', got {clock!r}")
        code = _replay(files, port, None if max_speed else speed, disconnect_every, loop,
                       clock=clock, tls=tls, certfile=certfile, keyfile=keyfile)  # fmt: skip
        raise typer.Exit(code)
