"""Helpers shared by the routers: symbols, formats, CSV and error responses."""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import orjson
from fastapi import HTTPException, Path
from fastapi.responses import Response

from statarb.model import BarBatch, TickBatch
from statarb.timeutil import us_array_to_iso

OutFormat = Literal["json", "csv", "arrow"]
SymbolPath = Path(pattern=r"^[A-Za-z0-9]{1,40}$", examples=["BTCUSDT"])
ARROW_MEDIA = "application/vnd.apache.arrow.stream"


def table_responses(model: Any) -> dict[int | str, dict[str, Any]]:
    """OpenAPI of a 200 served as JSON rows of ``model``, CSV or Arrow IPC (``format``)."""
    rows = {"type": "array", "items": {"$ref": f"#/components/schemas/{model.__name__}"}}
    content = {"application/json": {"schema": rows}, "text/csv": {"schema": {"type": "string"}},
               ARROW_MEDIA: {"schema": {"type": "string", "format": "binary"}}}  # fmt: skip
    return {
        200: {
            "description": "JSON rows; CSV with format=csv; an Arrow IPC stream with "
            "format=arrow (time columns as timestamp[us, UTC])",
            "content": content,
        }
    }


def check_symbol(symbol: str) -> str:
    """Upper-case symbol or a 422 naming it."""
    if not re.match(r"^[A-Za-z0-9]{1,40}$", symbol):
        raise HTTPException(422,
                            f"symbol {symbol!r} is not valid; use letters and digits")  # fmt: skip
    return symbol.upper()


def ticks_json(tb: TickBatch) -> list[dict[str, Any]]:
    """Ticks as JSON rows."""
    side = tb.side.tolist()
    ids = tb.trade_id.tolist()
    return [
        {"symbol": tb.symbol, "ts": ts, "time": iso, "price": p, "size": s,
         "is_buyer_maker": None if sd < 0 else bool(sd), "trade_id": None if i < 0 else i}
        for ts, iso, p, s, sd, i in zip(tb.ts.tolist(), us_array_to_iso(tb.ts), tb.price.tolist(),
                                        tb.size.tolist(), side, ids, strict=True)
    ]  # fmt: skip


def bars_json(bars: BarBatch) -> list[dict[str, Any]]:
    """Bars as JSON rows (``time`` = ISO-8601 UTC open time)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(bars.volume > 0, bars.notional / np.where(bars.volume > 0, bars.volume, 1),
                        np.nan)  # fmt: skip
    cols = [us_array_to_iso(bars.open_time), bars.open_time.tolist(), bars.open.tolist(),
            bars.high.tolist(), bars.low.tolist(), bars.close.tolist(), bars.volume.tolist(),
            bars.notional.tolist(), bars.trades.tolist(), bars.taker_buy_volume.tolist(),
            vwap.tolist()]  # fmt: skip
    return [
        {"time": iso, "open_time": ot, "open": o, "high": h, "low": lo, "close": c,
         "volume": v, "notional": n, "trades": k, "taker_buy_volume": tb,
         "vwap": None if w != w else w}
        for iso, ot, o, h, lo, c, v, n, k, tb, w in zip(*cols, strict=True)
    ]  # fmt: skip


def csv_response(frame: Any, name: str) -> Response:
    """A CSV download of a frame with ISO-8601 UTC times."""
    from statarb.export import csv_frame

    text = csv_frame(frame).to_csv(index=False)
    disposition = f'attachment; filename="{name}.csv"'
    return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})


def arrow_bytes(columns: dict[str, Any]) -> bytes:
    """Columns as one Arrow IPC stream (``*_time``/``ts`` int64 µs become UTC timestamps)."""
    import pyarrow as pa

    arrays = {}
    for name, col in columns.items():
        if name in ("ts", "open_time"):
            arrays[name] = pa.array(np.asarray(col, dtype=np.int64), pa.timestamp("us", tz="UTC"))
        else:
            arrays[name] = pa.array(col)
    table = pa.table(arrays)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def bar_columns(bars: BarBatch) -> dict[str, Any]:
    """Bars as numpy columns (``vwap`` NaN without volume)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(bars.volume > 0, bars.notional / np.where(bars.volume > 0, bars.volume, 1),
                        np.nan)  # fmt: skip
    return {"open_time": bars.open_time, "open": bars.open, "high": bars.high, "low": bars.low,
            "close": bars.close, "volume": bars.volume, "notional": bars.notional,
            "trades": bars.trades, "taker_buy_volume": bars.taker_buy_volume,
            "vwap": vwap}  # fmt: skip


def tick_columns(tb: TickBatch) -> dict[str, Any]:
    """Ticks as numpy columns (``is_buyer_maker`` and ``trade_id`` null when unknown)."""
    import pyarrow as pa

    side = pa.array(tb.side.astype(bool), mask=tb.side < 0)
    ids = pa.array(tb.trade_id, mask=tb.trade_id < 0)
    return {"ts": tb.ts, "price": tb.price, "size": tb.size, "is_buyer_maker": side,
            "trade_id": ids}  # fmt: skip


def arrow_response(body: bytes, name: str) -> Response:
    """An Arrow IPC stream download."""
    disposition = f'attachment; filename="{name}.arrows"'
    return Response(body, media_type=ARROW_MEDIA, headers={"Content-Disposition": disposition})


class JSONBytes(Response):
    """JSON rendered by orjson (numpy scalars allowed), without response-model validation."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def json_response(content: Any, status_code: int = 200) -> JSONBytes:
    """Fast JSON (orjson) without response-model validation."""
    return JSONBytes(content, status_code=status_code)
