"""PostgreSQL binary COPY buffers built and parsed with numpy (no per-row Python).

The binary COPY format is a fixed 19-byte header, then per row a big-endian int16 field count
followed by (int32 length, value) per field, then an int16 ``-1`` trailer. With NOT NULL
fixed-width columns every row has the same layout, so a whole batch is one structured array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from statarb.errors import StoreError

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = _SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"


def row_dtype(types: list[str]) -> np.dtype[Any]:
    """The structured dtype of one binary COPY row of fixed-width fields (``"i8"``, ``"f8"``...)."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for j, t in enumerate(types):
        fields += [(f"l{j}", ">i4"), (f"v{j}", ">" + t)]
    return np.dtype(fields)


def encode(columns: list[tuple[np.ndarray, str]]) -> bytes:
    """A complete binary COPY payload of the given (array, type) columns."""
    n = len(columns[0][0]) if columns else 0
    rec = np.empty(n, dtype=row_dtype([t for _, t in columns]))
    rec["n"] = len(columns)
    for j, (a, t) in enumerate(columns):
        rec[f"l{j}"] = np.dtype(t).itemsize
        rec[f"v{j}"] = a
    return _HEADER + rec.tobytes() + _TRAILER


def decode(buf: bytes | bytearray | memoryview, types: list[str]) -> list[np.ndarray]:
    """Columns (native byte order) of a binary COPY payload of NOT NULL fixed-width fields."""
    mv = memoryview(buf)
    if len(mv) == 0:
        return [np.empty(0, dtype=t) for t in types]
    if bytes(mv[:11]) != _SIGNATURE:
        raise StoreError("unexpected COPY output: not the PostgreSQL binary format")
    ext = int.from_bytes(mv[15:19], "big")
    start = 19 + ext
    dtype = row_dtype(types)
    body = len(mv) - start - len(_TRAILER)
    if body < 0 or body % dtype.itemsize:
        raise StoreError("unexpected COPY output: rows are not the expected fixed width")
    rec = np.frombuffer(mv, dtype=dtype, offset=start, count=body // dtype.itemsize)
    for j, t in enumerate(types):
        if len(rec) and not (rec[f"l{j}"] == np.dtype(t).itemsize).all():
            raise StoreError(f"unexpected COPY output: column {j} is NULL or not {t}")
    return [rec[f"v{j}"].astype(t) for j, t in enumerate(types)]


__all__ = ["decode", "encode", "row_dtype"]
