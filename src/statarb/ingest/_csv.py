"""CSV readers: Binance data dumps and generic CSV, streamed by pyarrow into numpy columns.

The fast path converts whole blocks at once. A block pyarrow cannot convert (a malformed row)
hands the rest of the file to a row-by-row reader that reports each bad row with its line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from statarb.errors import FormatError, InputError
from statarb.ingest._chunk import (
    MAX_TS_US,
    ChunkBuilder,
    FileChunk,
    RowError,
    epoch_us_checked,
    valid_symbol,
    valid_ts,
)
from statarb.ingest._columns import (
    bar_duration,
    column_numpy,
    line_blocks,
    side_codes,
    timeframe_name,
)
from statarb.ingest._formats import FormatInfo, find_column, open_raw
from statarb.ingest._lines import _ROW_ERRORS, _add_record, _reason
from statarb.model import NO_ID, BarBatch, TickBatch, Timeframe
from statarb.timeutil import epoch_to_us

#: bytes read from the file at a time (whole lines), and pyarrow's parallel parse unit inside
BLOCK_SIZE = 16 * 1024 * 1024
PARSE_BLOCK_SIZE = 4 * 1024 * 1024
_F = pa.float64()
_I = pa.int64()
# name -> {field: (column, type)}
_BINANCE_FIELDS: dict[str, dict[str, tuple[str, pa.DataType]]] = {
    "binance-aggtrades": {
        "ts": ("transact_time", _I),
        "price": ("price", _F),
        "size": ("quantity", _F),
        "trade_id": ("agg_trade_id", _I),
        "side": ("is_buyer_maker", pa.bool_()),
    },
    "binance-trades": {
        "ts": ("time", _I),
        "price": ("price", _F),
        "size": ("qty", _F),
        "trade_id": ("id", _I),
        "side": ("is_buyer_maker", pa.bool_()),
    },
    "binance-klines": {
        "open_time": ("open_time", _I),
        "open": ("open", _F),
        "high": ("high", _F),
        "low": ("low", _F),
        "close": ("close", _F),
        "volume": ("volume", _F),
        "notional": ("quote_volume", _F),
        "trades": ("count", _I),
        "taker_buy_volume": ("taker_buy_volume", _F),
        "close_time": ("close_time", _I),
    },
}


def _fields(info: FormatInfo) -> dict[str, tuple[str, pa.DataType | None]]:
    if info.name in _BINANCE_FIELDS:
        return dict(_BINANCE_FIELDS[info.name])
    out: dict[str, tuple[str, pa.DataType | None]] = {}
    types: dict[str, pa.DataType | None] = {
        "ts": None,
        "price": _F,
        "size": _F,
        "symbol": pa.string(),
        "side": pa.string(),
        "trade_id": _I,
    }
    for name, typ in types.items():
        col = find_column(info.columns, name)
        if col is not None:
            out[name] = (col, typ)
    return out


def check_symbol(info: FormatInfo, symbol: str | None, source: str) -> None:
    """Raise :class:`FormatError` when rows of a CSV could get no symbol."""
    if not symbol and find_column(info.columns, "symbol") is None:
        raise FormatError(
            "rows have no symbol column and none could be taken from the file name "
            "(e.g. BTCUSDT-aggTrades-2024-01-01.csv); give one with --symbol",
            source=source,
        )


class CsvReader:
    """Reads one CSV file (already detected) into :class:`FileChunk` s."""

    def __init__(
        self,
        path: Path,
        info: FormatInfo,
        *,
        source: str,
        symbol: str | None,
        timeframe: str | None,
        chunk_rows: int,
    ) -> None:
        self.path, self.info, self.source = path, info, source
        self.symbol, self.timeframe, self.chunk_rows = symbol, timeframe, chunk_rows
        self.fields = _fields(info)
        self._start, self._offset = 1, 0
        self._line_map: list[int] | None = None
        check_symbol(info, symbol, source)

    def __iter__(self) -> Iterator[FileChunk]:
        size = self.path.stat().st_size
        pos = 0
        with open_raw(self.path) as (stream, raw, _comp, _member):
            line = 1
            for block in line_blocks(stream, BLOCK_SIZE):
                start, nlines = line, block.count(b"\n")
                line += nlines
                if start == 1 and self.info.header:
                    cut = block.find(b"\n") + 1
                    block, start = block[cut:], 2
                now = max(pos, min(raw.tell(), size))
                for chunk in self._block(block, start):
                    yield replace(chunk, bytes_read=now - pos) if now > pos else chunk
                    pos = now
        if size > pos:  # bytes the reader never needed (zip directory)
            yield FileChunk(bytes_read=size - pos)

    def _block(self, block: bytes, start: int) -> Iterator[FileChunk]:
        """Parse one block of whole lines starting at line ``start``."""
        if not block or block.isspace():  # isspace stops at the first other byte
            return
        try:
            table = self._read(block)
        except pa.ArrowInvalid:  # a malformed row: this block row by row, with exact lines
            yield from self._block_by_rows(block, start)
            return
        self._start, self._line_map = start, None
        if block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block:
            lines = block.split(b"\n")
            self._line_map = [k for k, ln in enumerate(lines) if ln.strip(b"\r")]
        self._offset = 0
        for batch in table.to_batches():
            for first in range(0, batch.num_rows, self.chunk_rows):
                part = batch.slice(first, self.chunk_rows)
                yield self._convert(part, 0)
                self._offset += part.num_rows

    def _line_of(self, i: int) -> int:
        k = self._offset + i
        return self._start + (self._line_map[k] if self._line_map is not None else k)

    def _read(self, block: bytes) -> pa.Table:
        types = {col: typ for col, typ in self.fields.values() if typ is not None}
        return pacsv.read_csv(
            pa.BufferReader(block),
            read_options=pacsv.ReadOptions(
                block_size=PARSE_BLOCK_SIZE,
                column_names=list(self.info.columns),
                # one thread: the reader already runs beside the store writer (files._prefetch),
                # and pyarrow's pool on top of it doubled the parse's CPU time on two cores
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=[c for c, _ in self.fields.values()],
                strings_can_be_null=True,
            ),
        )

    # -- fast path -----------------------------------------------------------------------------
    def _convert(self, batch: pa.RecordBatch, nbytes: int) -> FileChunk:
        cols = {name: batch.column(col) for name, (col, _t) in self.fields.items()}
        valid = np.ones(batch.num_rows, dtype=bool)
        for arr in cols.values():
            if arr.null_count and arr is not cols.get("side") and arr is not cols.get("trade_id"):
                valid &= ~column_numpy(arr.is_null(), False).astype(bool)
        errors: list[RowError] = []
        chunk = FileChunk(errors=errors, bytes_read=nbytes)
        if self.info.name == "binance-klines":
            self._bars(cols, valid, chunk)
        else:
            self._ticks(cols, valid, chunk)
        return chunk

    def _reject(
        self, errors: list[RowError], batch_cols: dict[str, Any], bad: Any, why: str
    ) -> None:
        for i in np.flatnonzero(bad).tolist():
            text = ",".join(str(c[i].as_py()) for c in batch_cols.values())
            errors.append(RowError(self.source, self._line_of(i), why, text))

    def _times(self, arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Epoch µs and a mask of usable values."""
        if pa.types.is_timestamp(arr.type):
            import pyarrow.compute as pc

            if arr.type.tz is None:
                raise InputError("timestamps have no time zone; add Z or an offset")
            ts = column_numpy(pc.cast(arr, pa.timestamp("us", "UTC")).cast(pa.int64()), 0)
            return ts, (ts > 0) & (ts <= MAX_TS_US)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            return epoch_us_checked(column_numpy(arr, 0))
        raise InputError(f"timestamps of type {arr.type} are neither epoch numbers nor ISO-8601")

    def _ticks(self, cols: dict[str, pa.Array], valid: np.ndarray, chunk: FileChunk) -> None:
        try:
            ts, ts_ok = self._times(cols["ts"])
        except InputError as exc:
            self._reject(chunk.errors, cols, valid | ~valid, str(exc))
            return
        price = column_numpy(cols["price"], np.nan)
        size = column_numpy(cols["size"], np.nan)
        self._reject(chunk.errors, cols, ~valid, "empty field")
        bad = valid & ~((price > 0) & np.isfinite(price) & (size >= 0) & np.isfinite(size))
        self._reject(chunk.errors, cols, bad, "price must be positive and size non-negative")
        bad2 = valid & ~bad & ~ts_ok
        self._reject(chunk.errors, cols, bad2, "timestamp is not between 1970 and 3000")
        keep = valid & ~bad & ~bad2
        side = side_codes(cols.get("side"), len(ts))
        tid = column_numpy(cols["trade_id"], -1) if "trade_id" in cols else None
        if tid is not None:
            bad3 = keep & (tid < NO_ID)
            self._reject(chunk.errors, cols, bad3, "trade id is negative")
            keep &= ~bad3
        by_symbol = self._symbols(cols.get("symbol"), keep, chunk, cols)
        for sym, mask in by_symbol.items():
            chunk.ticks[sym] = TickBatch(
                sym,
                ts[mask],
                price[mask],
                size[mask],
                side[mask],
                tid[mask] if tid is not None else np.empty(0, np.int64),
                source=f"file:{self.source}",
            )

    def _symbols(
        self, arr: pa.Array | None, keep: np.ndarray, chunk: FileChunk, cols: dict[str, Any]
    ) -> dict[str, np.ndarray]:
        if arr is None:
            return {self.symbol: keep} if self.symbol and keep.any() else {}
        import pyarrow.compute as pc  # slow to import: only for files with a symbol column

        enc = pc.dictionary_encode(pc.utf8_upper(pc.utf8_trim_whitespace(arr)))
        idx = column_numpy(enc.indices, -1)
        out: dict[str, np.ndarray] = {}
        missing = keep.copy()
        for code, sym in enumerate(enc.dictionary.to_pylist()):
            if sym:
                mask = keep & (idx == code)
                missing &= ~mask
                if not valid_symbol(sym):
                    why = f"symbol {sym[:50]!r} is not valid: use letters, digits and _.-"
                    self._reject(chunk.errors, cols, mask, why)
                elif mask.any():
                    out[sym] = mask
        if missing.any():
            if self.symbol:
                out[self.symbol] = out.get(self.symbol, np.zeros_like(keep)) | missing
            else:
                self._reject(chunk.errors, cols, missing, "row has no symbol; give --symbol")
        return out

    def _bars(self, cols: dict[str, pa.Array], valid: np.ndarray, chunk: FileChunk) -> None:
        self._reject(chunk.errors, cols, ~valid, "empty field")
        if not valid.any():
            return
        ot, ot_ok = epoch_us_checked(column_numpy(cols["open_time"], 0))
        ct, ct_ok = epoch_us_checked(column_numpy(cols["close_time"], 0))
        num = {k: column_numpy(cols[k], np.nan) for k in ("open", "high", "low", "close")}
        ok = valid & (num["low"] > 0) & (num["low"] <= num["high"]) & ot_ok & ct_ok & (ct > ot)
        self._reject(
            chunk.errors,
            cols,
            valid & ~ok,
            "bar prices must be positive, low <= high, open < close time",
        )
        if self.timeframe is None:
            i = int(np.flatnonzero(ok)[0]) if ok.any() else 0
            self.timeframe = timeframe_name(bar_duration(int(ot[i]), int(ct[i])))
        if self.timeframe is None:
            raise FormatError(
                "cannot tell the kline interval from close_time - open_time + 1 or the file "
                "name (e.g. BTCUSDT-1m-2024-01.zip)",
                source=self.source,
            )
        sym = self.symbol
        if not sym:
            raise FormatError("klines have no symbol column; give --symbol", source=self.source)
        rest = [
            column_numpy(cols[k], 0) for k in ("volume", "notional", "trades", "taker_buy_volume")
        ]
        bars = BarBatch(sym, self.timeframe, ot, *num.values(), *rest).take(ok)
        chunk.bars[(sym, bars.timeframe)] = bars

    # -- slow path -----------------------------------------------------------------------------
    def _block_by_rows(self, block: bytes, start: int) -> Iterator[FileChunk]:
        b = ChunkBuilder(self.source)
        text = block.decode("utf-8", errors="replace")
        for k, line in enumerate(text.split("\n")):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            self._row(b, start + k, line)
            if b.rows >= self.chunk_rows:
                yield b.flush(0)
        yield b.flush(0)

    def _row(self, b: ChunkBuilder, lineno: int, line: str) -> None:
        try:
            values = next(csv.reader([line]))
        except csv.Error as exc:
            b.error(lineno, f"not a CSV row: {exc}", line)
            return
        if len(values) != len(self.info.columns):
            b.error(lineno, f"expected {len(self.info.columns)} columns, got {len(values)}", line)
            return
        row = dict(zip(self.info.columns, values, strict=True))
        rec = {name: row[col] for name, (col, _t) in self.fields.items()}
        try:
            if self.info.name == "binance-klines":
                self._bar_row(b, lineno, line, rec)
            else:
                _add_record(b, lineno, line.encode(), rec, 0, self.symbol)
        except _ROW_ERRORS as exc:
            b.error(lineno, _reason(exc), line)

    def _bar_row(self, b: ChunkBuilder, lineno: int, line: str, rec: dict[str, str]) -> None:
        ot, ct = epoch_to_us(int(rec["open_time"])), epoch_to_us(int(rec["close_time"]))
        o, h, lo, c = (float(rec[k]) for k in ("open", "high", "low", "close"))
        trades = int(rec["trades"])
        if not (lo > 0 and lo <= h and valid_ts(ot) and valid_ts(ct) and ct > ot):
            b.error(lineno, "bar prices must be positive, low <= high, open < close time", line)
            return
        if not 0 <= trades < 2**63:
            b.error(lineno, f"trade count {trades} is out of range", line)
            return
        tf = self.timeframe or timeframe_name(bar_duration(ot, ct))
        if tf is None or not self.symbol:
            raise ValueError("cannot tell the kline interval or symbol")
        self.timeframe = Timeframe.parse(tf).name
        vol, notional = float(rec["volume"]), float(rec["notional"])
        row = (ot, o, h, lo, c, vol, notional, trades, float(rec["taker_buy_volume"]))
        b.bar((self.symbol, self.timeframe), row)
