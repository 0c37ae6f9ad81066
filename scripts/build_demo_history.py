"""Build ``src/statarb/sample/klines_1m_2026-02.npz``: the demo's month of real 1m history.

Reads the monthly USD-M 1-minute kline archives of data.binance.vision (one zipped CSV per
symbol, e.g. ``AVAXUSDT-1m-2026-02.zip``) and writes, per symbol, as .npy members of a zip
(LZMA; ``numpy.load`` reads it):

Exact (integers in the source's own decimal precision, delta-coded):

- ``<SYM>.meta``: int64 ``[n, price_decimals, qty_decimals]``
- ``<SYM>.time``: open time in ms, first value absolute, then differences
- ``<SYM>.close``: close in price units, first value absolute, then differences
- ``<SYM>.open``: open minus the previous close (the first row: minus its own close)
- ``<SYM>.up`` / ``<SYM>.down``: high above max(open, close), low below min(open, close)
- ``<SYM>.trades``: trade count

Rounded (to keep the file small; prices stay exact):

- ``<SYM>.volume``: ``round(ln(volume / qty_step) / ln(1.01))``, i.e. volume to 1 %
  (-1 for a zero volume)
- ``<SYM>.taker_buy``: the taker-buy share of the volume in percent (0..100)

The quote volume (notional) is not kept: :func:`statarb.sample.history_bars` rebuilds it as
volume x typical price (high + low + close) / 3.

Usage: ``python scripts/build_demo_history.py FOLDER [SYMBOL ...]``
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MONTH = "2026-02"
SYMBOLS = ("AVAXUSDT", "LINKUSDT", "LTCUSDT", "DOTUSDT", "NEARUSDT", "ALGOUSDT", "FILUSDT")
#: relative step of the volume code
VOLUME_STEP = 1.01
OUT = Path(__file__).resolve().parents[1] / "src/statarb/sample" / f"klines_1m_{MONTH}.npz"
# open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,...
COLS = {"time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 5, "trades": 8,
        "taker_buy": 9}  # fmt: skip


def _decimals(texts: list[str]) -> int:
    return max((len(t) - t.index(".") - 1) if "." in t else 0 for t in texts)


def _ints(texts: list[str], dec: int) -> np.ndarray:
    """Exact integers of ``texts`` scaled by ``10**dec`` (no float rounding)."""
    out = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        whole, _, frac = t.partition(".")
        out[i] = int(whole + frac.ljust(dec, "0")) if dec else int(whole)
    return out


def _small(a: np.ndarray) -> np.ndarray:
    lo, hi = int(a.min(initial=0)), int(a.max(initial=0))
    for dt in (np.int8, np.int16, np.int32, np.int64):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return a.astype(dt)
    raise AssertionError("unreachable")


def encode(symbol: str, rows: list[list[str]]) -> dict[str, np.ndarray]:
    """The arrays of one symbol (see the module docstring)."""
    col = {k: [r[i] for r in rows] for k, i in COLS.items()}
    pdec = _decimals(col["open"] + col["high"] + col["low"] + col["close"])
    qdec = _decimals(col["volume"] + col["taker_buy"])
    o, h, lo, c = (_ints(col[k], pdec) for k in ("open", "high", "low", "close"))
    t = np.array([int(x) for x in col["time"]], dtype=np.int64)
    vol = _ints(col["volume"], qdec)
    buy = _ints(col["taker_buy"], qdec)
    with np.errstate(divide="ignore", invalid="ignore"):
        vcode = np.where(vol > 0, np.round(np.log(vol) / np.log(VOLUME_STEP)), -1)
        share = np.where(vol > 0, np.round(100 * buy / vol), 0)
    prev = np.concatenate([c[:1], c[:-1]])
    arrays = {
        "meta": np.array([len(rows), pdec, qdec], dtype=np.int64),
        "time": np.diff(t, prepend=0),
        "close": np.diff(c, prepend=0),
        "open": o - prev,
        "up": h - np.maximum(o, c),
        "down": np.minimum(o, c) - lo,
        "volume": vcode.astype(np.int64),
        "taker_buy": share.astype(np.int64),
        "trades": np.array([int(x) for x in col["trades"]], dtype=np.int64),
    }
    assert (arrays["up"] >= 0).all() and (arrays["down"] >= 0).all(), symbol
    return {f"{symbol}.{k}": v if k == "meta" else _small(v) for k, v in arrays.items()}


def read_zip(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as zf:
        (name,) = zf.namelist()
        text = zf.read(name).decode()
    lines = text.splitlines()
    if lines and lines[0].startswith("open_time"):
        lines = lines[1:]
    return [line.split(",") for line in lines if line]


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    symbols = argv[1:] or list(SYMBOLS)
    arrays: dict[str, np.ndarray] = {}
    for sym in symbols:
        arrays.update(encode(sym, read_zip(folder / f"{sym}-1m-{MONTH}.zip")))
    with zipfile.ZipFile(OUT, "w", compression=zipfile.ZIP_LZMA) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, arr)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(2026, 3, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            zf.writestr(info, buf.getvalue())
    print(f"{OUT}: {len(symbols)} symbols, {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
