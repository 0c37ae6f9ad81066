"""Start the dashboard as a child process (``statarb dashboard``, ``statarb up``).

The settings travel through ``STATARB_*`` environment variables: the Streamlit script builds its
own :class:`~statarb.config.Settings` from them, exactly as any other entry point does.

The dashboard binds ``settings.dashboard_host`` (127.0.0.1 by default). It holds the API token
and makes write calls, so binding it to any other address needs ``STATARB_DASHBOARD_PASSWORD``:
every session then logs in first (see :mod:`statarb.dashboard.auth`), and without a password the
start is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statarb.config import Settings

#: the Streamlit entry script
APP = Path(__file__).resolve().parent / "app.py"


def dashboard_command(settings: Settings, port: int) -> list[str]:
    """The command line that serves the dashboard on ``port`` (headless, no usage stats).

    Examples
    --------
    >>> from statarb.config import Settings
    >>> dashboard_command(Settings(), 8501)[1:4]
    ['-m', 'streamlit', 'run']
    """
    if not 0 < port < 65536:
        from statarb.errors import InputError

        raise InputError(f"port must be in 1..65535, got {port}")
    check_exposure(settings)
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        settings.dashboard_host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only reaches this machine."""
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve the dashboard beyond loopback without a login password."""
    if not is_loopback(settings.dashboard_host) and not settings.dashboard_password:
        from statarb.errors import ConfigError

        raise ConfigError(
            f"the dashboard would listen on {settings.dashboard_host}, reachable from other "
            "machines, and it acts with the API token: set STATARB_DASHBOARD_PASSWORD=<secret> "
            "(every visitor must then log in) or bind it to 127.0.0.1"
        )


def dashboard_url(settings: Settings, port: int) -> str:
    """Where the dashboard listens, as the banner shows it."""
    host = settings.dashboard_host
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def dashboard_env(settings: Settings) -> dict[str, str]:
    """``os.environ`` with every setting as its ``STATARB_*`` variable (lists comma-joined)."""
    env = dict(os.environ)
    for key, value in settings.model_dump().items():
        name = f"STATARB_{key.upper()}"
        if value is None:
            env.pop(name, None)
        elif isinstance(value, list):
            env[name] = ",".join(map(str, value))
        else:
            env[name] = str(value)
    env.pop("STATARB_CONFIG", None)  # the values above already include the file's
    return env


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent process dies."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_dashboard(
    settings: Settings, port: int, *, die_with_parent: bool = False
) -> subprocess.Popen[bytes]:
    """Start the dashboard process; the caller stops it (``terminate()``, then ``wait()``).

    With ``die_with_parent`` (Linux) the dashboard also stops if its parent is killed outright,
    so ``statarb up`` never leaves an orphaned dashboard holding the port.
    """
    preexec = _die_with_parent if die_with_parent and sys.platform.startswith("linux") else None
    return subprocess.Popen(
        dashboard_command(settings, port), env=dashboard_env(settings), preexec_fn=preexec
    )


__all__ = [
    "APP",
    "check_exposure",
    "dashboard_command",
    "dashboard_env",
    "dashboard_url",
    "is_loopback",
    "start_dashboard",
]
