"""Order-book depth for the venue: the recording's diff frames, its REST snapshot and the live book.

A recording with ``<sym>@depth@0ms`` frames and a REST snapshot line (``{"lastUpdateId",...}``)
gives a :class:`DepthTape`: the snapshot and the frames after it, chained by ``pu``. A symbol with
quotes but no depth gets a one-level book built from its ``bookTicker`` quotes (stated in the
docs). :class:`Book` is the venue's current book, updated as frames are served, so a REST
snapshot always agrees with the diff stream.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

if TYPE_CHECKING:
    from statarb.model import QuoteBatch
    from statarb.venue._data import Precision

#: one level: (price, quantity text); quantity ``"0"``-valued text deletes the level
Level = tuple[float, str]


@dataclass(frozen=True, slots=True)
class Frame:
    """One ``depthUpdate`` as recorded (times in ms, prices as floats, quantities as text)."""

    E: int
    T: int
    U: int
    u: int
    pu: int
    bids: list[Level]
    asks: list[Level]


@dataclass
class DepthTape:
    """A snapshot and the diff frames that follow it (``frames[0].pu == snap_id``)."""

    snap_id: int
    snap_bids: list[Level]
    snap_asks: list[Level]
    frames: list[Frame]
    ts: np.ndarray  #: exchange time of each frame (µs)
    synthetic: bool = False

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def id_span(self) -> int:
        """How far update ids move per loop pass (the seam frame ends at the shifted snapshot)."""
        last = self.frames[-1].u if self.frames else self.snap_id
        return last - self.snap_id + 1


def _lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            if b"depthUpdate" in line or b"lastUpdateId" in line:
                yield line


def _json(line: bytes) -> Any:
    start = line.find(b"{")
    return orjson.loads(line[start:]) if start >= 0 else None


def _levels(raw: list[list[str]]) -> list[Level]:
    return [(float(p), q) for p, q in raw]


def read_depth(files: Sequence[Path | str]) -> dict[str, DepthTape]:
    """Depth tapes from recordings: the first snapshot of each symbol and its unbroken chain."""
    out: dict[str, DepthTape] = {}
    for f in files:
        try:
            lines = list(_lines(Path(f)))
        except (OSError, EOFError):
            continue
        snap: dict[str, Any] | None = None
        tape: DepthTape | None = None
        sym = ""
        for line in lines:
            try:
                obj = _json(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(obj, dict):
                continue
            if "lastUpdateId" in obj:
                snap = obj if tape is None else snap
                continue
            d = obj.get("data", obj)
            if not isinstance(d, dict) or d.get("e") != "depthUpdate" or snap is None:
                continue
            sym = sym or str(d["s"])
            if d["s"] != sym or sym in out:
                continue
            if tape is None:
                if d["u"] < snap["lastUpdateId"]:
                    continue  # already in the snapshot
                tape = DepthTape(int(snap["lastUpdateId"]), _levels(snap["bids"]),
                                 _levels(snap["asks"]), [], np.empty(0))  # fmt: skip
                pu = tape.snap_id
            elif d["pu"] != tape.frames[-1].u:
                break  # the chain breaks: serve the part before it
            else:
                pu = int(d["pu"])
            tape.frames.append(Frame(int(d["E"]), int(d["T"]), int(d["U"]), int(d["u"]), pu,
                                     _levels(d["b"]), _levels(d["a"])))  # fmt: skip
        if tape is not None and tape.frames and sym not in out:
            tape.ts = np.array([fr.T * 1000 for fr in tape.frames], dtype=np.int64)
            out[sym] = tape
    return out


def synthetic_depth(q: QuoteBatch, prec: Precision) -> DepthTape:
    """A one-level book from ``bookTicker`` quotes (for recordings without depth frames)."""
    n = len(q)
    uid = np.where(q.update_id >= 0, q.update_id, np.arange(n))
    uid = np.maximum.accumulate(uid)
    uid = uid + np.arange(n)  # strictly increasing even when quotes repeat an id
    frames: list[Frame] = []
    zero = prec.qty(0.0)
    pb, pa = float(q.bid[0]), float(q.ask[0])
    for j in range(1, n):
        b, a = float(q.bid[j]), float(q.ask[j])
        bids = [(b, prec.qty(float(q.bid_size[j])))]
        asks = [(a, prec.qty(float(q.ask_size[j])))]
        if b != pb:
            bids.append((pb, zero))
        if a != pa:
            asks.append((pa, zero))
        t = int(q.ts[j]) // 1000
        frames.append(Frame(t, t, int(uid[j - 1]) + 1, int(uid[j]), int(uid[j - 1]), bids, asks))
        pb, pa = b, a
    first = DepthTape(int(uid[0]), [(float(q.bid[0]), prec.qty(float(q.bid_size[0])))],
                      [(float(q.ask[0]), prec.qty(float(q.ask_size[0])))], frames,
                      np.asarray(q.ts[1:], dtype=np.int64), synthetic=True)  # fmt: skip
    return first


class Book:
    """The venue's current book of one symbol (price text -> quantity text per side)."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.last_id = 0

    def reset(self, bids: dict[str, str], asks: dict[str, str], last_id: int) -> None:
        """Replace the whole book."""
        self.bids, self.asks, self.last_id = bids, asks, last_id

    def apply(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]], u: int) -> None:
        """Apply one diff (absolute quantities; a zero quantity deletes the level)."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, qty in levels:
                if float(qty) == 0.0:
                    side.pop(p, None)
                else:
                    side[p] = qty
        self.last_id = u

    def top(self, limit: int) -> tuple[list[list[str]], list[list[str]]]:
        """Best ``limit`` bids (descending) and asks (ascending) as ``[[price, qty], ...]``."""
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:limit]
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:limit]
        return [list(x) for x in bids], [list(x) for x in asks]


__all__ = ["Book", "DepthTape", "Frame", "Level", "read_depth", "synthetic_depth"]
