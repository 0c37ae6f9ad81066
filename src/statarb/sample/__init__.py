"""The packaged demo data (see ``NOTICE`` for sources and licences).

- The replay: ~6 minutes of recorded Binance USD-M BTCUSDT and ETHUSDT trades and best bid/ask
  frames (2024-08-08 23:54-24:00 UTC), streamed through the live path by the demo.
- The history: a month (2026-02) of real 1-minute klines of seven USD-M symbols, preloaded into
  the demo store so pair analysis, the scan and the backtest have data at once.
- The tape: the demo venue plays the history's last day (from :data:`TAPE_START_US`) as a live
  tape of trades synthesised from the klines, so the seven symbols stream beside the recording;
  the demo preloads the history up to that day only, and the tape carries on where it ends.

Examples
--------
>>> from statarb.sample import files, HISTORY_SYMBOLS
>>> [p.name for p in files()]
['btcusdt_20240808.gz', 'ethusdt_20240808.gz']
>>> HISTORY_SYMBOLS[:2]
('AVAXUSDT', 'LINKUSDT')
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statarb.model import BarBatch
    from statarb.store.base import TickStore

#: symbols the replayed recording holds
SYMBOLS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
_FILES = ("btcusdt_20240808.gz", "ethusdt_20240808.gz")
#: symbols of the packaged 1m history, most liquid pair first
HISTORY_SYMBOLS: tuple[str, ...] = (
    "AVAXUSDT",
    "LINKUSDT",
    "LTCUSDT",
    "DOTUSDT",
    "NEARUSDT",
    "ALGOUSDT",
    "FILUSDT",
)
#: every symbol the demo streams: the recording's, then the kline tapes'
DEMO_SYMBOLS: tuple[str, ...] = (*SYMBOLS, *HISTORY_SYMBOLS)
#: open time (epoch µs) of the first kline the demo's tape plays: 2026-02-28 00:00 UTC
TAPE_START_US = 1_772_236_800_000_000
#: relative step of the packaged volumes (they are rounded to 1 %; prices are exact)
VOLUME_STEP = 1.01
HISTORY_FILE = "klines_1m_2026-02.npz"
#: what the history is, in words for screens and logs
HISTORY_LABEL = "Binance USD-M 1m klines, 2026-02-01 to 2026-02-28 (data.binance.vision)"
REPLAY_LABEL = "Binance USD-M BTCUSDT/ETHUSDT trades and quotes recorded 2024-08-08 23:54-24:00 UTC"
TAPE_LABEL = (
    "trades synthesised from the 1m klines of 2026-02-28 (four a kline), after the stored history "
    "of 2026-02-01 to 02-27"
)


def path() -> Path:
    """The folder of the sample files."""
    return Path(str(resources.files(__name__)))


def _missing(names: list[str]) -> None:
    from statarb.errors import StatarbError

    raise StatarbError(f"the packaged sample is incomplete, missing {names} in {path()}")


def files() -> list[Path]:
    """The replay files (recorded ``<unix ns> <json>`` WebSocket frames, gzip), sorted by name."""
    folder = path()
    out = [folder / name for name in _FILES]
    missing = [p.name for p in out if not p.is_file()]
    if missing:
        _missing(missing)
    return out


def history_bars(
    symbols: tuple[str, ...] | list[str] | None = None, *, end_us: int | None = None
) -> list[BarBatch]:
    """The packaged month of 1m bars of ``symbols`` (default: all of :data:`HISTORY_SYMBOLS`),
    those that open before ``end_us`` when it is given.

    The values are the source's exact decimals (see ``scripts/build_demo_history.py`` for the
    encoding); open times in epoch µs.
    """
    import numpy as np

    from statarb.model import BarBatch

    file = path() / HISTORY_FILE
    if not file.is_file():
        _missing([HISTORY_FILE])
    out = []
    with np.load(file) as npz:
        for sym in symbols or HISTORY_SYMBOLS:
            if f"{sym}.meta" not in npz:
                from statarb.errors import InputError

                raise InputError(f"{sym} is not in the packaged history ({HISTORY_SYMBOLS})")
            col = {
                k.split(".", 1)[1]: npz[k].astype(np.int64) for k in npz if k.startswith(sym + ".")
            }
            n, pdec, qdec = (int(v) for v in col["meta"])
            close_i = np.cumsum(col["close"])
            prev = np.concatenate([close_i[:1], close_i[:-1]])
            open_i = prev + col["open"]
            high_i = np.maximum(open_i, close_i) + col["up"]
            low_i = np.minimum(open_i, close_i) - col["down"]
            p = 10.0**pdec
            high, low, close = high_i / p, low_i / p, close_i / p
            # volume to 1 % in its own step (qty precision), -1 codes a zero volume
            step = 10.0**-qdec
            vol = np.where(col["volume"] >= 0, np.round(VOLUME_STEP ** col["volume"]) * step, 0.0)
            vol = np.round(vol, qdec).astype(np.float64)
            notional = (vol * (high + low + close) / 3.0).astype(np.float64)
            out.append(
                BarBatch(
                    sym,
                    "1m",
                    np.cumsum(col["time"]) * 1000,
                    open_i / p,
                    high,
                    low,
                    close,
                    vol,
                    notional,
                    col["trades"],
                    np.round(vol * col["taker_buy"] / 100.0, qdec),
                )
            )
            if len(out[-1]) != n:
                from statarb.errors import StatarbError

                raise StatarbError(f"{file}: {sym} holds {len(out[-1])} bars, its header {n}")
            if end_us is not None:
                out[-1] = out[-1].take(slice(0, int(np.searchsorted(out[-1].open_time, end_us))))
    return out


__all__ = [
    "DEMO_SYMBOLS",
    "HISTORY_LABEL",
    "HISTORY_SYMBOLS",
    "REPLAY_LABEL",
    "SYMBOLS",
    "TAPE_LABEL",
    "TAPE_START_US",
    "files",
    "history_bars",
    "load_history",
    "path",
]


def load_history(
    store: TickStore,
    symbols: tuple[str, ...] | list[str] | None = None,
    *,
    end_us: int | None = None,
) -> int:
    """Write the packaged 1m history of ``symbols`` (bars opening before ``end_us``, if given)
    into ``store`` where it is not there yet.

    A symbol whose stored 1m bars already fill the packaged range is skipped, so a second start
    writes nothing. Returns the number of bars written.
    """
    written = 0
    with store.transaction():
        for batch in history_bars(symbols, end_us=end_us):
            lo, hi = int(batch.open_time[0]), int(batch.open_time[-1]) + 1
            if len(store.read_bars(batch.symbol, "1m", lo, hi)) == len(batch):
                continue
            written += store.write_bars(batch)
    return written
