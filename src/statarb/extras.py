"""Optional parts of statarb and the pip extras that install them.

``pip install statarb`` is the core: model, stores (SQLite), import, bars, analytics, backtest,
the CLI and the notebook client. The rest comes as extras: ``statarb[server]`` (engine API:
``serve``, ``up``, ``run``, ``replay``), ``statarb[dashboard]``, ``statarb[postgres]``,
``statarb[redis]``, or ``statarb[all]``.
"""

from __future__ import annotations

import importlib.util

from statarb.errors import StatarbError

#: top-level module -> the extra that installs it
MODULE_EXTRA: dict[str, str] = {
    "fastapi": "server",
    "fastapi_offline": "server",
    "starlette": "server",
    "uvicorn": "server",
    "multipart": "server",
    "python_multipart": "server",
    "prometheus_client": "server",
    "streamlit": "dashboard",
    "plotly": "dashboard",
    "psycopg": "postgres",
    "redis": "redis",
}


class MissingExtraError(StatarbError):
    """An optional dependency is not installed; the message says which extra installs it."""


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'statarb[{extra}]'"


def missing(extra: str) -> list[str]:
    """Modules of ``extra`` that are not installed."""
    return sorted(m for m, e in MODULE_EXTRA.items()
                  if e == extra and m not in ("multipart", "python_multipart")
                  and importlib.util.find_spec(m) is None)  # fmt: skip


def require(extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` naming ``what`` when ``extra`` is not installed."""
    gone = missing(extra)
    if gone:
        raise MissingExtraError(
            f"{what} needs the '{extra}' extra ({', '.join(gone)} not installed): "
            f"{install_hint(extra)}"
        )


def extra_of(exc: ModuleNotFoundError) -> str | None:
    """The extra that would have provided the module an import failed on, if any."""
    name = (exc.name or "").split(".")[0]
    return MODULE_EXTRA.get(name)


__all__ = ["MODULE_EXTRA", "MissingExtraError", "extra_of", "install_hint", "missing", "require"]
