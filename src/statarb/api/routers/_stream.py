"""Large responses streamed in chunks of rows, each chunk rendered in a worker thread.

Turning a million rows into JSON or CSV takes seconds of CPU. Rendered whole in one worker
thread, it still holds the GIL in steps long enough to stall the event loop (a garbage
collection over a million row dicts, one join of 150 MB, pandas formatting a million times),
and it holds the whole body in memory. Here each chunk of :data:`STREAM_CHUNK_ROWS` rows is
rendered by its own worker-thread call and written before the next one starts, so the loop
gets the GIL back between chunks (``/health`` and the WebSocket fan-out answer in between),
the socket's back-pressure paces the rendering, and only one chunk's objects live at a time.
The rows are read from the store before the response starts, so every error is still a
status code; the bounds on rows per response stay where the routes state them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi.responses import StreamingResponse

if TYPE_CHECKING:
    import pandas as pd

#: rows rendered per worker-thread call (about 3 MB of JSON of ticks)
STREAM_CHUNK_ROWS = 20_000

#: rows per pandas CSV write within a chunk: each write holds the GIL for its rows (~4 ms)
CSV_WRITE_ROWS = 2_000

Render = Callable[[int, int], bytes]


def chunk_bounds(n: int, rows: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` row ranges of at most ``rows`` covering ``n`` rows (one empty range if 0)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    return [(lo, min(lo + rows, n)) for lo in range(0, n, rows)] or [(0, 0)]


async def _rendered(render: Render, n: int) -> AsyncIterator[bytes]:
    for lo, hi in chunk_bounds(n, STREAM_CHUNK_ROWS):
        yield await asyncio.to_thread(render, lo, hi)


def json_rows_render(rows: Callable[[int, int], list[Any]], n: int) -> Render:
    """A renderer of one JSON array of ``n`` rows, piece by piece (``rows(lo, hi)`` a piece).

    The pieces joined are byte for byte ``orjson.dumps`` of all the rows at once.
    """

    def render(lo: int, hi: int) -> bytes:
        body = orjson.dumps(rows(lo, hi), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
        if lo > 0 and body:
            body = b"," + body
        return (b"[" if lo == 0 else b"") + body + (b"]" if hi >= n else b"")

    return render


def csv_render(frame: pd.DataFrame) -> Render:
    """A renderer of ``frame`` as CSV with ISO-8601 UTC times, piece by piece.

    The header comes with the first piece; whether a time column carries microseconds is decided
    over the whole column, so the pieces joined are the CSV of the whole frame.
    """
    import pandas as pd

    from statarb.export import csv_frame, needs_micros

    micros = {name: needs_micros(frame[name]) for name in frame.columns
              if isinstance(frame[name].dtype, pd.DatetimeTZDtype)}  # fmt: skip

    def render(lo: int, hi: int) -> bytes:
        part = csv_frame(frame.iloc[lo:hi], micros=micros)
        text = part.to_csv(index=False, header=lo == 0, chunksize=CSV_WRITE_ROWS)
        return str(text).encode()

    return render


def stream_json(rows: Callable[[int, int], list[Any]], n: int) -> StreamingResponse:
    """A JSON array of ``n`` rows streamed in chunks (``rows(lo, hi)`` builds rows lo..hi-1)."""
    return StreamingResponse(_rendered(json_rows_render(rows, n), n),
                             media_type="application/json")  # fmt: skip


async def stream_csv(build: Callable[[], pd.DataFrame], name: str) -> StreamingResponse:
    """The frame ``build()`` returns (made in a worker thread) as a CSV download, streamed."""

    def prepare() -> tuple[Render, int]:
        frame = build()
        return csv_render(frame), len(frame)

    render, n = await asyncio.to_thread(prepare)
    disposition = f'attachment; filename="{name}.csv"'
    return StreamingResponse(_rendered(render, n), media_type="text/csv",
                             headers={"Content-Disposition": disposition})  # fmt: skip
