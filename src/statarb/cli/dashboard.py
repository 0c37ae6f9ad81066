"""``statarb dashboard``: the Streamlit dashboard (reads the store, talks to the engine's API)."""

from __future__ import annotations

import signal
import subprocess
from typing import Annotated

import typer

from statarb.cli._common import EXIT_OK, fail, settings


def _run(port: int | None, store: str | None, api_url: str | None) -> int:
    from statarb.extras import require

    require("dashboard", "statarb dashboard")
    from statarb.dashboard.launch import dashboard_url, start_dashboard
    from statarb.errors import ConfigError, InputError
    from statarb.masking import mask_url

    cfg = settings(store_url=store, api_url=api_url, dashboard_port=port)
    try:
        proc = start_dashboard(cfg, cfg.dashboard_port)
    except (ConfigError, InputError) as exc:
        fail(str(exc))
    typer.echo(
        f"dashboard on {dashboard_url(cfg, cfg.dashboard_port)} (store {mask_url(cfg.store_url)}, "
        f"engine API {mask_url(cfg.api_url)})",
        err=True,
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)  # a terminated CLI takes its server down with it
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return EXIT_OK
    return EXIT_OK if code in (0, -2, -15) else code


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command."""

    @app.command("dashboard")
    def dashboard(
        port: Annotated[int | None, typer.Option(help="HTTP port (default 8501)")] = None,
        store: Annotated[str | None, typer.Option(help="store URL (default from settings)")] = None,
        api_url: Annotated[
            str | None, typer.Option(help="engine API (default http://127.0.0.1:8000)")
        ] = None,
    ) -> None:
        """Serve the dashboard (Streamlit); Ctrl-C stops it."""
        raise typer.Exit(_run(port, store, api_url))
