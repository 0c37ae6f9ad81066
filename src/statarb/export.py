"""User-facing tables of ticks and bars, written as CSV or Parquet.

Frames carry a ``time`` column of tz-aware UTC timestamps. CSV files get ISO-8601 UTC text
(``2024-08-08T23:54:15.123Z``; microseconds only when a column has them), Parquet files get
``timestamp[us, tz=UTC]`` columns. Files are written to a temporary name beside the target and
renamed when complete, so a failed export never leaves a truncated file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from statarb.errors import InputError
from statarb.model import NO_ID, SIDE_UNKNOWN, BarBatch, TickBatch

if TYPE_CHECKING:
    import pandas as pd

TableFormat = Literal["csv", "parquet"]
_SUFFIXES: dict[str, TableFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
BAR_FRAME_COLUMNS: tuple[str, ...] = (
    "time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "notional",
    "vwap",
    "trades",
    "taker_buy_volume",
)
TICK_FRAME_COLUMNS: tuple[str, ...] = ("time", "price", "size", "is_buyer_maker", "trade_id")


def _utc_times(us: np.ndarray) -> pd.Series:
    import pandas as pd

    return pd.Series(pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC"))


def ticks_frame(batch: TickBatch) -> pd.DataFrame:
    """Ticks as a frame: time (UTC), price, size, is_buyer_maker (nullable), trade_id (nullable)."""
    import pandas as pd

    maker = pd.array(batch.side == 1, dtype="boolean")
    maker[batch.side == SIDE_UNKNOWN] = pd.NA
    trade_id = pd.array(batch.trade_id, dtype="Int64")
    trade_id[batch.trade_id == NO_ID] = pd.NA
    return pd.DataFrame(
        {
            "time": _utc_times(batch.ts),
            "price": batch.price,
            "size": batch.size,
            "is_buyer_maker": maker,
            "trade_id": trade_id,
        }
    )


def bars_frame(batch: BarBatch) -> pd.DataFrame:
    """Bars as a frame with :data:`BAR_FRAME_COLUMNS` (``time`` is the UTC open time)."""
    import pandas as pd

    data = {c: getattr(batch, c) for c in BAR_FRAME_COLUMNS[1:]}
    return pd.DataFrame({"time": _utc_times(batch.open_time), **data})


def table_format(path: Path, format: TableFormat | None = None) -> TableFormat:
    """The format to write: ``format`` if given, else from the file suffix."""
    if format is not None:
        if format not in ("csv", "parquet"):
            raise InputError(f"format {format!r} is not supported; use 'csv' or 'parquet'")
        return format
    fmt = _SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format of {str(path)!r} from its suffix; use .csv or .parquet "
            "(or give the format)"
        )
    return fmt


def needs_micros(times: pd.Series) -> bool:
    """Whether any of the tz-aware ``times`` has a sub-millisecond part."""
    if not len(times):
        return False
    return bool((times.dt.microsecond.to_numpy() % 1000 > 0).any())  # NaT: NaN, not > 0


def iso_text(times: pd.Series, *, micros: bool | None = None) -> pd.Series:
    """Tz-aware timestamps as ISO-8601 UTC text with ``Z``.

    Milliseconds, or microseconds when ``micros`` (by default: when the column needs them).
    """
    import pandas as pd

    t = times.dt.tz_convert("UTC")
    if micros is None:
        micros = needs_micros(t)
    us = t.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(us, unit="us" if micros else "ms", casting="unsafe")
    out = pd.Series(np.char.add(text, "Z").astype(object), index=times.index, name=times.name)
    out[np.isnat(us)] = np.nan
    return out


def csv_frame(frame: pd.DataFrame, *, micros: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its tz-aware time columns as ISO-8601 UTC text.

    ``micros`` fixes, per column name, whether times are written with microseconds (a part of
    a larger frame written in pieces keeps the whole column's choice); by default each column
    decides for itself.
    """
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[name] = iso_text(col, micros=(micros or {}).get(name))
        elif col.dtype.kind == "M":
            raise InputError(f"column {name!r} holds naive times; localize them to UTC first")
    return out


def _user_frame(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def write_table(frame: pd.DataFrame, path: Path, *, format: TableFormat | None = None) -> Path:
    """Write ``frame`` as CSV or Parquet (format from the suffix when ``None``); return the path.

    A named or time index is written as a column. The file appears only once complete.
    """
    return write_tables([frame], path, format=format)


def write_tables(
    frames: Iterable[pd.DataFrame], path: Path, *, format: TableFormat | None = None
) -> Path:
    """Write frames of the same columns one after another into one file (constant memory)."""
    path = Path(path)
    fmt = table_format(path, format)
    if not path.parent.is_dir():
        raise InputError(f"folder {str(path.parent)!r} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            _write_csv(frames, tmp)
        else:
            _write_parquet(frames, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_csv(frames: Iterable[pd.DataFrame], path: Path) -> None:
    first = True
    with path.open("w", newline="") as fh:
        for frame in frames:
            csv_frame(_user_frame(frame)).to_csv(fh, index=False, header=first, lineterminator="\n")
            first = False
        if first:
            raise InputError("nothing to write: no frames given")


def _write_parquet(frames: Iterable[pd.DataFrame], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for frame in frames:
            table = pa.Table.from_pandas(_user_frame(frame), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise InputError("nothing to write: no frames given")


__all__ = [
    "BAR_FRAME_COLUMNS",
    "TICK_FRAME_COLUMNS",
    "bars_frame",
    "csv_frame",
    "iso_text",
    "needs_micros",
    "table_format",
    "ticks_frame",
    "write_table",
    "write_tables",
]
