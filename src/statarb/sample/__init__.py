"""The packaged demo sample: ~6 minutes of recorded Binance USD-M BTCUSDT and ETHUSDT trades and
best bid/ask frames (2024-08-08 23:54-24:00 UTC; see ``NOTICE`` for source and licence).

Examples
--------
>>> from statarb.sample import files
>>> [p.name for p in files()]
['btcusdt_20240808.gz', 'ethusdt_20240808.gz']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: symbols the sample holds
SYMBOLS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
_FILES = ("btcusdt_20240808.gz", "ethusdt_20240808.gz")


def path() -> Path:
    """The folder of the sample files."""
    return Path(str(resources.files(__name__)))


def files() -> list[Path]:
    """The sample files (recorded ``<unix ns> <json>`` WebSocket frames, gzip), sorted by name."""
    folder = path()
    out = [folder / name for name in _FILES]
    missing = [p.name for p in out if not p.is_file()]
    if missing:
        from statarb.errors import StatarbError

        raise StatarbError(f"the packaged sample is incomplete, missing {missing} in {folder}")
    return out


__all__ = ["SYMBOLS", "files", "path"]
