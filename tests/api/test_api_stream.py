"""Streamed responses: the pieces rendered chunk by chunk join to the whole, byte for byte."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pandas as pd
import pytest

from statarb.api.routers._common import ticks_json
from statarb.api.routers._stream import chunk_bounds, csv_render, json_rows_render
from statarb.export import csv_frame, ticks_frame
from statarb.model import TickBatch

T0 = 1_723_161_255_000_000


def _ticks(n: int, *, fine_last: bool = False) -> TickBatch:
    ts = T0 + np.arange(n, dtype=np.int64) * 1000
    if fine_last and n:
        ts[-1] += 7  # one tick with microseconds, in the last chunk only
    side = np.array([-1, 0, 1] * n, dtype=np.int8)[:n]
    ids = np.where(np.arange(n) % 4 == 0, -1, np.arange(n))
    return TickBatch("BTCUSDT", ts, 100 + np.arange(n) * 0.1, np.full(n, 0.5), side, ids)


def _joined(render, n: int, rows: int) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(render(lo, hi) for lo, hi in chunk_bounds(n, rows))


def test_chunk_bounds_cover_every_row_once():
    assert chunk_bounds(0, 3) == [(0, 0)]
    assert chunk_bounds(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert chunk_bounds(6, 3) == [(0, 3), (3, 6)]
    with pytest.raises(ValueError, match="rows"):
        chunk_bounds(5, 0)


@pytest.mark.parametrize("n", [0, 1, 5, 7])
@pytest.mark.parametrize("rows", [1, 2, 3, 50])
def test_json_pieces_join_to_the_whole_array(n: int, rows: int):
    tb = _ticks(n)
    render = json_rows_render(lambda lo, hi: ticks_json(tb.take(slice(lo, hi))), n)
    body = _joined(render, n, rows)
    assert body == orjson.dumps(ticks_json(tb))
    assert len(orjson.loads(body)) == n


@pytest.mark.parametrize("n", [0, 1, 5, 7])
@pytest.mark.parametrize("rows", [1, 3, 50])
def test_csv_pieces_join_to_the_whole_file(n: int, rows: int):
    frame = ticks_frame(_ticks(n, fine_last=True))
    body = _joined(csv_render(frame), n, rows)
    assert body == csv_frame(frame).to_csv(index=False).encode()
    if n > 1:  # the first chunk already writes microseconds, as the whole column needs them
        assert pd.read_csv(io.BytesIO(body))["time"][0].endswith(".000000Z")
