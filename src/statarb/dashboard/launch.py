"""Start the dashboard as a child process (``statarb dashboard``, ``statarb up``).

The settings travel through ``STATARB_*`` environment variables: the Streamlit script builds its
own :class:`~statarb.config.Settings` from them, exactly as any other entry point does.
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
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


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


__all__ = ["APP", "dashboard_command", "dashboard_env", "start_dashboard"]
