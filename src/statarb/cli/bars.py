"""``statarb bars`` (print bars) and ``statarb export ticks|bars`` (write CSV or Parquet)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from statarb.cli._common import fail, parse_range, settings, store_from

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import pandas as pd

    from statarb.model import BarBatch
    from statarb.store.base import TickStore

StartOpt = Annotated[
    str | None, typer.Option(help="First time (ISO-8601 with Z/offset, or epoch s/ms/µs).")
]
EndOpt = Annotated[str | None, typer.Option(help="End time, exclusive (ISO-8601 or epoch).")]
StoreOpt = Annotated[str | None, typer.Option(help="Store URL (default: settings).")]
TfOpt = Annotated[str, typer.Option("--tf", help="Bar interval: 1s, 1m, 5m, 15m, 1h, 4h, 1d ...")]
EmptyOpt = Annotated[
    str, typer.Option(help="omit: only bars with trades; carry: fill gaps with the last close.")
]


_range = parse_range


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        fail(f"--{name} {value!r} is not valid; use one of: {', '.join(allowed)}")


def load_bars_or_fail(
    st: TickStore, symbol: str, tf: str, lo: int | None, hi: int | None, empty: str
) -> BarBatch:
    """:func:`statarb.history.load_bars` with our errors turned into a usage exit (code 2)."""
    from statarb.errors import InputError
    from statarb.history import load_bars

    mode: Literal["omit", "carry"] = "carry" if empty == "carry" else "omit"
    try:
        return load_bars(st, symbol, tf, lo, hi, empty=mode)
    except InputError as exc:
        fail(str(exc))


def source_decimals(values: np.ndarray, most: int = 10) -> int | None:
    """The fewest decimals (up to ``most``) that hold every value to within float noise, or
    ``None`` when the values have no such short precision (then they are left as they are).

    Bars resampled or built from ticks carry sums like ``292.8000000000009``; the source had
    ``292.8``. Examples: ``[1.5, 2.25] -> 2``, ``[292.8000000000009] -> 1``, ``[1/3] -> None``.
    """
    import numpy as np

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return None
    # float noise is a few hundred ulps at most; exchange prices and sizes have at most 12
    # significant digits, so a "precision" needing more is not one (real-valued data stays)
    tol = 256 * np.spacing(np.maximum(np.abs(x), 1e-300))
    int_digits = max(1, int(np.floor(np.log10(max(float(np.abs(x).max()), 1.0)))) + 1)
    for d in range(min(most, 12 - int_digits) + 1):
        if (np.abs(x - np.round(x, d)) <= tol).all():
            return d
    return None


def tidy_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each float column rounded to its source precision (no float noise)."""
    import numpy as np

    out = frame.copy()
    for name in out.columns:
        if out[name].dtype.kind == "f":
            col = out[name].to_numpy()
            d = source_decimals(col)
            if d is not None:
                out[name] = np.round(col, d)
    return out


def bars_json(batch: BarBatch) -> bytes:
    """Bars as a JSON array of objects (``time`` = ISO-8601 UTC open time; NaN as null)."""
    import orjson

    from statarb.export import bars_frame, iso_text

    frame = tidy_floats(bars_frame(batch))
    frame["time"] = iso_text(frame["time"])
    records = frame.to_dict(orient="records")
    return orjson.dumps(records, option=orjson.OPT_SERIALIZE_NUMPY)


def register(app: typer.Typer) -> None:
    """Add the ``bars`` command and the ``export`` group."""

    @app.command()
    def bars(
        symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
        tf: TfOpt = "1m",
        start: StartOpt = None,
        end: EndOpt = None,
        format: Annotated[str, typer.Option(help="csv or json.")] = "csv",
        empty: EmptyOpt = "omit",
        limit: Annotated[
            int | None, typer.Option(min=1, help="Print only the most recent N bars.")
        ] = None,
        store: StoreOpt = None,
    ) -> None:
        """Print OHLCV bars of SYMBOL (stored, resampled from finer bars, or built from ticks)."""
        _choice("format", format, ("csv", "json"))
        _choice("empty", empty, ("omit", "carry"))
        lo, hi = _range(start, end)
        with store_from(settings(store_url=store), read_only=True) as st:
            batch = load_bars_or_fail(st, symbol, tf, lo, hi, empty)
        if limit is not None:
            batch = batch.take(slice(max(len(batch) - limit, 0), None))
        if format == "json":
            sys.stdout.buffer.write(bars_json(batch) + b"\n")
            sys.stdout.flush()
            return
        from statarb.export import bars_frame, csv_frame

        text = csv_frame(tidy_floats(bars_frame(batch))).to_csv(index=False, lineterminator="\n")
        typer.echo(text, nl=False)

    export_app = typer.Typer(help="Write ticks or bars to CSV or Parquet.", no_args_is_help=True)
    app.add_typer(export_app, name="export")

    @export_app.command("ticks")
    def export_ticks(
        symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
        out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
        start: StartOpt = None,
        end: EndOpt = None,
        store: StoreOpt = None,
    ) -> None:
        """Write the stored ticks of SYMBOL (streamed in chunks; constant memory)."""
        from statarb.errors import InputError
        from statarb.export import table_format, ticks_frame, write_tables
        from statarb.history import available_timeframes

        lo, hi = _range(start, end)
        rows = 0
        try:
            table_format(out)
            with store_from(settings(store_url=store), read_only=True) as st:
                available_timeframes(st, symbol.upper())  # unknown symbol: clear error

                def frames() -> Iterator[pd.DataFrame]:
                    nonlocal rows
                    for chunk in st.iter_ticks(symbol.upper(), lo, hi):
                        rows += len(chunk)
                        yield ticks_frame(chunk)

                write_tables(frames(), out)
        except InputError as exc:
            fail(str(exc))
        typer.echo(f"wrote {rows:,} ticks of {symbol.upper()} to {out}", err=True)

    @export_app.command("bars")
    def export_bars(
        symbol: Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")],
        out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
        tf: TfOpt = "1m",
        start: StartOpt = None,
        end: EndOpt = None,
        empty: EmptyOpt = "omit",
        store: StoreOpt = None,
    ) -> None:
        """Write OHLCV bars of SYMBOL (time, open, high, low, close, volume, vwap, ...)."""
        from statarb.errors import InputError
        from statarb.export import bars_frame, table_format, write_table

        _choice("empty", empty, ("omit", "carry"))
        lo, hi = _range(start, end)
        try:
            table_format(out)
            with store_from(settings(store_url=store), read_only=True) as st:
                batch = load_bars_or_fail(st, symbol, tf, lo, hi, empty)
            write_table(bars_frame(batch), out)
        except InputError as exc:
            fail(str(exc))
        typer.echo(
            f"wrote {len(batch):,} {batch.timeframe} bars of {batch.symbol} to {out}", err=True
        )
