"""One loop pass of the recording as the frames it emits, in order (the ``--max`` fast path).

Every trade event emits a ``<s>@trade`` payload, and an ``<s>@aggTrade`` payload when it
completes an aggregate; every quote event emits a ``<s>@bookTicker`` payload. A
:class:`PassPlan` lists these emissions of pass ``r`` in event order (arrays of event index and
stream id, plus the payload texts the :class:`~._market.Market` encoded for the pass), and the
presented time of every event, so the player can hand a client all of its frames of a run of
events with a few array operations instead of a Python call per event. Frames are built only for
emissions some client takes (:meth:`PassPlan.frames`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from statarb.venue._data import KIND_DEPTH, KIND_QUOTE, KIND_TRADE, Recording
from statarb.venue._market import Market
from statarb.venue._wire import text_frame

#: stream kinds of the plan; stream id = symbol index * len(STREAM_KINDS) + kind
STREAM_KINDS = ("trade", "aggTrade", "bookTicker")


def stream_names(symbols: list[str]) -> list[str]:
    """Stream name of every stream id (``btcusdt@trade``, ``btcusdt@aggTrade``, ...)."""
    return [f"{s.lower()}@{k}" for s in symbols for k in STREAM_KINDS]


@dataclass(frozen=True)
class PassPlan:
    """The emissions of one pass, in the order the per-event player makes them."""

    rnd: int
    now_ms: np.ndarray  #: presented time (ms) of every event, as the player computes it
    ev: np.ndarray  #: event index of every emission (non-decreasing)
    sid: np.ndarray  #: stream id of every emission
    payload: list[str]  #: payload text of every emission
    names: list[str]  #: stream name of every stream id

    def frames(self, idx: np.ndarray, combined: bool) -> list[bytes]:
        """WebSocket frames of emissions ``idx`` (raw payloads or the combined envelope)."""
        pay = self.payload
        if not combined:
            return [text_frame(pay[k].encode()) for k in idx.tolist()]
        names = self.names
        return [
            text_frame(f'{{"stream":"{names[s]}","data":{pay[k]}}}'.encode())
            for k, s in zip(idx.tolist(), self.sid[idx].tolist(), strict=True)
        ]


def mark_triggers(now_ms: np.ndarray, next_mark: int) -> np.ndarray:
    """Events at which mark prices are due, given the next due time (ms) before the pass.

    The player emits marks at an event whose time reaches the next whole second after the
    last emission (``(second + 1) * 1000``); that is the event whose second exceeds every
    earlier second of the pass and the carried one, also when times step back.
    """
    if not len(now_ms):
        return np.empty(0, dtype=np.int64)
    sec = now_ms // 1000
    before = np.empty(len(sec), dtype=np.int64)
    before[0] = next_mark // 1000 - 1
    if len(sec) > 1:
        np.maximum.accumulate(sec[:-1], out=before[1:])
        np.maximum(before[1:], before[0], out=before[1:])
    return np.flatnonzero(sec > before)


def build_plan(
    rec: Recording, market: Market, rnd: int, depth_ms: dict[str, np.ndarray]
) -> PassPlan:
    """The emissions and event times of pass ``rnd``.

    ``depth_ms`` holds each depth tape's frame times (ms, as recorded) by symbol.
    """
    n = len(rec)
    kinds, syms, rows = rec.kind, rec.sym, rec.row
    now_ms = np.zeros(n, dtype=np.int64)
    evs: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    pays: list[str] = []
    nk = len(STREAM_KINDS)
    for si, sym in enumerate(rec.symbols):
        of_sym = syms == si
        tb = rec.trades.get(sym)
        if tb is not None and len(tb):
            tp = market.trades(sym, rnd)
            ev = np.flatnonzero(of_sym & (kinds == KIND_TRADE))
            rj = rows[ev]
            now_ms[ev] = tp.T[rj]
            evs.append(ev)
            keys.append(np.full(len(ev), si * nk))
            pays.extend(tp.trade_json[j] for j in rj.tolist())
            ag = rec.aggs[sym]
            ev_of_row = np.empty(len(tb), dtype=np.int64)
            ev_of_row[rj] = ev
            evs.append(ev_of_row[ag.last])
            keys.append(np.full(len(ag), si * nk + 1))
            pays.extend(tp.agg_json)
        q = rec.quotes.get(sym)
        if q is not None and len(q):
            ev = np.flatnonzero(of_sym & (kinds == KIND_QUOTE))
            rj = rows[ev]
            now_ms[ev] = market.present_ms(q.ts[rj], rnd)
            evs.append(ev)
            keys.append(np.full(len(ev), si * nk + 2))
            texts = market.book_tickers(sym, rnd)
            pays.extend(texts[j] for j in rj.tolist())
        dms = depth_ms.get(sym)
        if dms is not None and len(dms):
            ev = np.flatnonzero(of_sym & (kinds == KIND_DEPTH))
            now_ms[ev] = market.present_ms(dms[rows[ev]] * 1000, rnd)
    ev_all = np.concatenate(evs) if evs else np.empty(0, dtype=np.int64)
    sid_all = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    # a trade's own frame comes before the aggregate it completes: order by (event, kind)
    order = np.lexsort((sid_all % nk, ev_all))
    return PassPlan(
        rnd,
        now_ms,
        ev_all[order],
        sid_all[order],
        [pays[k] for k in order.tolist()],
        stream_names(rec.symbols),
    )


__all__ = ["STREAM_KINDS", "PassPlan", "build_plan", "mark_triggers", "stream_names"]
