"""PostgreSQL bulk payloads built and parsed with numpy (no per-row Python).

Writing: the binary COPY format is a fixed 19-byte header, then per row a big-endian int16 field
count followed by (int32 length, value) per field, then an int16 ``-1`` trailer. With NOT NULL
fixed-width columns every row has the same layout, so a whole batch is one structured array.

Reading: ``COPY ... TO STDOUT`` hands over one message per row, which costs a Python round per
row in the driver; instead the server packs the rows into one ``bytea`` (``string_agg`` of the
columns' binary send functions, big-endian, no per-field lengths) parsed here in one go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from statarb.errors import StoreError

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"


def row_dtype(types: list[str]) -> np.dtype[Any]:
    """The structured dtype of one binary COPY row of fixed-width fields (``"i8"``, ``"f8"``...)."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for j, t in enumerate(types):
        fields += [(f"l{j}", ">i4"), (f"v{j}", ">" + t)]
    return np.dtype(fields)


def encode(columns: list[tuple[np.ndarray, str]], *, rows_per_part: int = 0) -> Iterator[bytes]:
    """A complete binary COPY payload of the given (array, type) columns, in parts.

    ``rows_per_part`` > 0 yields the rows in slices of that many, so a writer thread can send one
    part while the next is being built.
    """
    n = len(columns[0][0]) if columns else 0
    step = rows_per_part if rows_per_part > 0 else max(n, 1)
    dtype = row_dtype([t for _, t in columns])
    yield _HEADER
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        rec = np.empty(hi - lo, dtype=dtype)
        rec["n"] = len(columns)
        for j, (a, t) in enumerate(columns):
            rec[f"l{j}"] = np.dtype(t).itemsize
            rec[f"v{j}"] = a[lo:hi]
        yield rec.tobytes()
    yield _TRAILER


_SEND = {"i2": "int2send", "i4": "int4send", "i8": "int8send", "f8": "float8send"}


def packed_query(query: str, types: list[str]) -> str:
    """Wrap a SELECT of NOT NULL fixed-width columns so it returns them packed in one bytea."""
    names = [f"c{j}" for j in range(len(types))]
    parts = " || ".join(f"{_SEND[t]}({n})" for n, t in zip(names, types, strict=True))
    return f"SELECT string_agg({parts}, ''::bytea) FROM ({query}) AS q({', '.join(names)})"


def unpack(buf: bytes | None, types: list[str]) -> list[np.ndarray]:
    """Columns (native byte order) of a :func:`packed_query` result."""
    dtype = np.dtype([(f"c{j}", ">" + t) for j, t in enumerate(types)])
    if not buf:
        return [np.empty(0, dtype=t) for t in types]
    if len(buf) % dtype.itemsize:
        raise StoreError("unexpected packed rows: length is not a multiple of the row width")
    rec = np.frombuffer(buf, dtype=dtype)
    return [rec[f"c{j}"].astype(t) for j, t in enumerate(types)]


__all__ = ["encode", "packed_query", "row_dtype", "unpack"]
