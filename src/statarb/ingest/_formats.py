"""Opening files (plain, .gz, .zip) and telling their format from the content."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, cast

import orjson

from statarb.errors import FormatError

FormatName = Literal[
    "binance-ws",
    "ndjson",
    "binance-aggtrades",
    "binance-trades",
    "binance-klines",
    "csv",
]
Compression = Literal["none", "gzip", "zip"]

SNIFF_BYTES = 64 * 1024
#: what reading a damaged plain, gzip or zip file raises (zlib.error: a corrupt deflate stream)
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile)

AGGTRADES_COLUMNS = (
    "agg_trade_id",
    "price",
    "quantity",
    "first_trade_id",
    "last_trade_id",
    "transact_time",
    "is_buyer_maker",
)
TRADES_COLUMNS = ("id", "price", "qty", "quote_qty", "time", "is_buyer_maker")
KLINES_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
BINANCE_CSV: dict[FormatName, tuple[str, ...]] = {
    "binance-aggtrades": AGGTRADES_COLUMNS,
    "binance-trades": TRADES_COLUMNS,
    "binance-klines": KLINES_COLUMNS,
}

#: accepted names of each field in generic CSV headers and NDJSON objects, in order of preference
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "transact_time", "T", "E"),
    "price": ("price", "p"),
    "size": ("size", "qty", "quantity", "q"),
    "symbol": ("symbol", "s"),
    "side": ("side", "is_buyer_maker", "m"),
    "trade_id": ("id", "trade_id", "agg_trade_id", "a", "t"),
}

# `<unix ns> {`, `<unix s.frac>: {`
_PREFIX_RE = re.compile(rb"^\s*(\d+(?:\.\d+)?):?\s+[\[{]")
_NUMERIC_RE = re.compile(r"^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$")
_BOOL = {"true", "false", "True", "False", "TRUE", "FALSE"}
_SYMBOL_RE = re.compile(r"^([A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*)(?:[-_.]|$)")
_QUOTE_ASSETS = ("USDT", "USDC", "BUSD", "FDUSD", "USD", "BTC", "ETH", "BNB", "PERP")
_TIMEFRAME_RE = re.compile(r"[-_](\d+(?:ms|s|m|h|d|w))[-_.]")


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What :func:`detect_format` found.

    Attributes
    ----------
    name
        The format: ``binance-ws`` (recorded WebSocket frames, with or without a receive-time
        prefix), ``ndjson``, ``binance-aggtrades``, ``binance-trades``, ``binance-klines`` (Binance
        data dumps) or ``csv`` (generic, with a header row).
    compression
        ``none``, ``gzip`` or ``zip``.
    header
        Whether a CSV has a header row.
    columns
        CSV column names (from the header, or Binance's documented names).
    member
        The file inside a zip archive.
    saw
        The first line as read (an excerpt), for messages.
    """

    name: FormatName
    compression: Compression = "none"
    header: bool = False
    columns: tuple[str, ...] = ()
    member: str | None = None
    saw: str = ""

    @property
    def is_csv(self) -> bool:
        """Whether the format is read by the CSV reader."""
        return self.name not in ("binance-ws", "ndjson")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "name": self.name,
            "compression": self.compression,
            "header": self.header,
            "columns": list(self.columns),
            "member": self.member,
            "saw": self.saw,
        }


def _compression(path: Path) -> Compression:
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"PK\x03\x04":
        return "zip"
    return "none"


def _zip_member(zf: zipfile.ZipFile, source: str) -> str:
    # (not ZipInfo.is_dir(): it fails on an empty member name)
    names = [i.filename for i in zf.infolist() if i.filename and not i.filename.endswith("/")]
    if len(names) != 1:
        raise FormatError(
            f"zip archive holds {len(names)} files {names[:5]}; expected exactly one "
            "(as data.binance.vision ships them)",
            source=source,
        )
    return names[0]


def _open_zip(raw: IO[bytes], source: str) -> tuple[zipfile.ZipFile, str, IO[bytes]]:
    """The archive, the name of its one member and a reader of it."""
    try:
        zf = zipfile.ZipFile(raw)
    except (RuntimeError, ValueError) as exc:  # a zip version zipfile lacks, a bad member name
        raise FormatError(f"cannot read zip data: {exc}", source=source) from exc
    try:
        member = _zip_member(zf, source)
        return zf, member, zf.open(member)
    except (RuntimeError, ValueError) as exc:  # encrypted, or a method zipfile lacks
        zf.close()
        raise FormatError(f"cannot read zip data: {exc}", source=source) from exc
    except BaseException:
        zf.close()
        raise


@contextmanager
def open_raw(path: Path) -> Iterator[tuple[IO[bytes], IO[bytes], Compression, str | None]]:
    """Open a file for reading its decompressed bytes.

    Yields ``(stream, raw, compression, zip_member)``; ``raw.tell()`` is the position in the file
    on disk, for progress.
    """
    if not path.exists():
        raise FormatError("file not found", source=str(path))
    if path.is_dir():
        raise FormatError("is a directory, expected a file", source=str(path))
    comp = _compression(path)
    raw = path.open("rb")
    try:
        if comp == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield cast(IO[bytes], gz), raw, comp, None
        elif comp == "zip":
            zf, member, fh = _open_zip(raw, path.name)
            with zf, fh:
                yield fh, raw, comp, member
        else:
            yield raw, raw, comp, None
    except READ_ERRORS as exc:
        raise FormatError(f"cannot read {comp} data: {exc}", source=path.name) from exc
    finally:
        raw.close()


def _head_lines(stream: IO[bytes]) -> list[bytes]:
    head = stream.read(SNIFF_BYTES)
    lines = head.split(b"\n")
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    return [ln.strip() for ln in lines if ln.strip()][:20]


def _excerpt(line: bytes) -> str:
    return line[:120].decode("utf-8", "replace")


def detect_format(path: str | Path) -> FormatInfo:
    """Tell the format of a file from its content (not its name).

    Parameters
    ----------
    path
        A plain, gzip or zip (one member) file.

    Returns
    -------
    FormatInfo

    Raises
    ------
    FormatError
        When the content matches no known format; the message says what was seen and what
        was expected.
    """
    p = Path(path)
    with open_raw(p) as (stream, _raw, comp, member):
        try:
            lines = _head_lines(stream)
        except READ_ERRORS as exc:
            raise FormatError(f"cannot read {comp} data: {exc}", source=p.name) from exc
    if not lines:
        raise FormatError("file is empty; expected CSV or NDJSON rows", source=p.name)
    info = _detect_lines(lines, p.name)
    return FormatInfo(
        info.name,
        comp,
        info.header,
        info.columns,
        member,
        info.saw,
    )


def _detect_lines(lines: list[bytes], source: str) -> FormatInfo:
    first = lines[0]
    if b"\x00" in first:
        raise FormatError(
            f"binary content (saw {_excerpt(first)!r}); expected text: CSV or NDJSON lines",
            source=source,
        )
    json_like = [ln for ln in lines if ln[:1] in (b"{", b"[") or _PREFIX_RE.match(ln)]
    if json_like and (len(json_like) >= len(lines) - 1):
        return _detect_json(json_like, first)
    return _detect_csv(first, lines, source)


def _detect_json(lines: list[bytes], first: bytes) -> FormatInfo:
    ws = False
    for ln in lines[:10]:
        if not ln.startswith((b"{", b"[")):
            ws = True
            break
        try:
            obj = orjson.loads(ln)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and ("stream" in obj or "e" in obj or "lastUpdateId" in obj):
            ws = True
            break
    return FormatInfo("binance-ws" if ws else "ndjson", saw=_excerpt(first))


def _is_number_or_bool(text: str) -> bool:
    return bool(_NUMERIC_RE.match(text)) or text.strip() in _BOOL


def _detect_csv(first: bytes, lines: list[bytes], source: str) -> FormatInfo:
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"not UTF-8 text (saw {_excerpt(first)!r}); expected CSV or NDJSON lines",
            source=source,
        ) from exc
    fields = [f.strip().strip('"').strip() for f in text.split(",")]
    saw = text[:120]
    if len(fields) < 3:
        raise FormatError(
            f"unknown format: saw {saw!r}; expected NDJSON objects, recorded Binance WebSocket "
            "frames, a CSV with a header (timestamp,symbol,price,size) or a Binance data dump "
            "(aggTrades, trades or klines)",
            source=source,
        )
    if all(_is_number_or_bool(f) for f in fields):
        by_count = {len(c): n for n, c in BINANCE_CSV.items()}
        name = by_count.get(len(fields))
        if name is None:
            raise FormatError(
                f"headerless CSV with {len(fields)} columns (saw {saw!r}); expected a header "
                "row, or a Binance dump without one: aggTrades (7 columns), trades (6) or "
                "klines (12)",
                source=source,
            )
        return FormatInfo(name, header=False, columns=BINANCE_CSV[name], saw=saw)
    cols = tuple(fields)
    for name, known in BINANCE_CSV.items():
        if tuple(c.lower() for c in cols) == known:
            return FormatInfo(name, header=True, columns=known, saw=saw)
    missing = [k for k in ("ts", "price", "size") if find_column(cols, k) is None]
    if missing:
        raise FormatError(
            f"CSV header {list(fields)} has no column for {', '.join(missing)}; expected "
            "time (ts/timestamp/time/T/E), price (price/p) and size (size/qty/quantity/q), or a "
            "Binance aggTrades/trades/klines header",
            source=source,
        )
    return FormatInfo("csv", header=True, columns=cols, saw=saw)


def find_column(columns: tuple[str, ...], field_name: str) -> str | None:
    """The first column of ``columns`` that is an alias of ``field_name`` (case-insensitive)."""
    for alias in ALIASES[field_name]:
        if alias in columns:
            return alias
    lowered = {c.lower(): c for c in columns}
    for alias in ALIASES[field_name]:
        if len(alias) > 1 and alias.lower() in lowered:
            return lowered[alias.lower()]
    return None


def symbol_from_name(name: str) -> str | None:
    """``BTCUSDT-aggTrades-2024-01-01.csv`` and ``btcusdt_20240808.gz`` -> ``BTCUSDT``."""
    m = _SYMBOL_RE.match(Path(name).name)
    if not m:
        return None
    sym = m.group(1).upper()
    return sym if sym.endswith(_QUOTE_ASSETS) and len(sym) > 4 else None


def timeframe_from_name(name: str) -> str | None:
    """``ALGOUSDT-1m-2023-02.zip`` -> ``1m``."""
    m = _TIMEFRAME_RE.search(Path(name).name)
    return m.group(1) if m else None


def text_stream(stream: IO[bytes]) -> io.BufferedReader:
    """A buffered reader over a decompressed stream (fast line iteration)."""
    return io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[arg-type]
