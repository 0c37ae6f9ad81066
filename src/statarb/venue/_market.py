"""The recording as the venue presents it: passes rebased, ids shifted, times on the venue clock.

Pass ``r`` of a looping replay shows trade ``j`` of the recording with

- price ``p_j * g**r`` on the tick grid, where ``g`` = last / first trade price of the symbol, so
  that every pass starts where the previous one ended (no jump at the seam; prices are rebased
  multiplicatively per symbol, quotes and book levels with the same factor);
- trade ids ``t_j + r * span`` and aggregate ids ``a0 + r * aggs + k`` (strictly increasing);
- time ``t_j + r * duration`` mapped by the :class:`~._clock.Clock`.

Frames are encoded once per pass and symbol (vectorised), and REST answers are computed from the
same arrays, so the stream and REST agree by construction.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from statarb.venue._clock import Clock
from statarb.venue._data import Precision, Recording

#: REST history reaches back this many loop passes (older passes are forgotten)
MAX_PASSES_KEPT = 24
KLINE_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
            "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
            "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000,
            "1w": 604_800_000}  # fmt: skip


def _fmt_all(values: np.ndarray, decimals: int) -> list[str]:
    spec = f".{decimals}f"
    return [format(v, spec) for v in values.tolist()]


@dataclass(frozen=True)
class TradePass:
    """One symbol's trades in one pass, as presented."""

    T: np.ndarray  #: presented trade time (ms)
    price: np.ndarray  #: rebased price on the tick grid
    size: np.ndarray
    ids: np.ndarray
    maker: np.ndarray  #: buyer is maker
    p_txt: list[str]
    q_txt: list[str]
    trade_json: list[str]  #: ``trade`` payload of every trade
    agg_json: list[str]  #: ``aggTrade`` payload of every aggregate
    agg_t: np.ndarray  #: presented time of every aggregate


class Market:
    """Presented trades, quotes and REST computations over a :class:`Recording`."""

    def __init__(self, rec: Recording, clock: Clock) -> None:
        self.rec = rec
        self.clock = clock
        self._cache: OrderedDict[tuple[str, int], TradePass] = OrderedDict()
        self._quotes: OrderedDict[tuple[str, int], list[str]] = OrderedDict()

    def reset(self) -> None:
        """Forget encoded passes (after the clock was restarted)."""
        self._cache.clear()
        self._quotes.clear()

    # -- per pass -----------------------------------------------------------------------------
    def factor(self, sym: str, rnd: int) -> float:
        """Price factor of pass ``rnd`` (``g ** rnd``)."""
        return self.rec.growth(sym) ** rnd if rnd else 1.0

    def present_ms(self, rec_us: np.ndarray, rnd: int) -> np.ndarray:
        """Presented ms of recording times ``rec_us`` in pass ``rnd``."""
        c = self.clock
        u = rec_us + rnd * self.rec.duration_us
        if c.mode == "original":
            return u // 1000
        k = 1.0 if c.speed is None else 1.0 / c.speed
        return (c.anchor + ((u - c.rec0) * k).astype(np.int64)) // 1000

    def present_ms_one(self, rec_us: int, rnd: int) -> int:
        """Presented ms of one recording time (scalar :meth:`present_ms`)."""
        c = self.clock
        u = rec_us + rnd * self.rec.duration_us
        if c.mode == "original":
            return u // 1000
        k = 1.0 if c.speed is None else 1.0 / c.speed
        return (c.anchor + int((u - c.rec0) * k)) // 1000

    def rebased(self, sym: str, prices: np.ndarray, rnd: int) -> np.ndarray:
        """Prices of pass ``rnd`` on the tick grid."""
        if not rnd:
            return prices
        tick = self.rec.prec[sym].tick
        return np.round(prices * self.factor(sym, rnd) / tick) * tick

    def trades(self, sym: str, rnd: int) -> TradePass:
        """The encoded pass ``rnd`` of ``sym`` (cached)."""
        key = (sym, rnd)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        tp = self._encode(sym, rnd)
        self._cache[key] = tp
        while len(self._cache) > 4 * max(1, len(self.rec.symbols)):
            self._cache.popitem(last=False)
        return tp

    def _encode(self, sym: str, rnd: int) -> TradePass:
        b, pr = self.rec.trades[sym], self.rec.prec[sym]
        ag = self.rec.aggs[sym]
        T = self.present_ms(b.ts, rnd)
        tape = self.rec.tapes.get(sym)
        if tape is not None:  # a kline tape: each pass shows the next klines, not a rebased copy
            price, size, side = tape.trades(rnd)
        else:
            price, size, side = self.rebased(sym, b.price, rnd), b.size, b.side
        ids = b.trade_id + rnd * self.rec.id_span(sym)
        maker = side == 1
        p_txt, q_txt = _fmt_all(price, pr.price_decimals), _fmt_all(size, pr.qty_decimals)
        mk = ["true" if m else "false" for m in maker.tolist()]
        Tl, idl = T.tolist(), ids.tolist()
        trade_json = [
            f'{{"e":"trade","E":{t},"T":{t},"s":"{sym}","t":{i},"p":"{p}","q":"{q}",'
            f'"X":"MARKET","m":{m}}}'
            for t, i, p, q, m in zip(Tl, idl, p_txt, q_txt, mk, strict=True)
        ]
        agg_q = np.add.reduceat(size, ag.first) if len(ag) else np.empty(0)
        aq = _fmt_all(agg_q, pr.qty_decimals)
        a0 = ag.id0 + rnd * len(ag)
        agg_t = T[ag.last]
        agg_json = [
            f'{{"e":"aggTrade","E":{Tl[la]},"a":{a0 + k},"s":"{sym}","p":"{p_txt[fi]}",'
            f'"q":"{aq[k]}","f":{idl[fi]},"l":{idl[la]},"T":{Tl[la]},"m":{mk[fi]}}}'
            for k, (fi, la) in enumerate(zip(ag.first.tolist(), ag.last.tolist(), strict=True))
        ]
        return TradePass(T, price, size, ids, maker, p_txt, q_txt, trade_json, agg_json, agg_t)

    def book_ticker_json(self, sym: str, j: int, rnd: int) -> str:
        """``bookTicker`` payload of quote ``j`` in pass ``rnd`` (encoded once per pass)."""
        return self.book_tickers(sym, rnd)[j]

    def book_tickers(self, sym: str, rnd: int) -> list[str]:
        """``bookTicker`` payloads of every quote in pass ``rnd`` (cached)."""
        key = (sym + "@q", rnd)
        hit = self._quotes.get(key)
        if hit is None:
            hit = self._quotes[key] = self._encode_quotes(sym, rnd)
            while len(self._quotes) > 2 * max(1, len(self.rec.symbols)):
                self._quotes.popitem(last=False)
        return hit

    def _encode_quotes(self, sym: str, rnd: int) -> list[str]:
        q, pr = self.rec.quotes[sym], self.rec.prec[sym]
        t = self.present_ms(q.ts, rnd).tolist()
        u = np.where(q.update_id < 0, np.arange(len(q)), q.update_id)
        if rnd:  # update ids keep increasing from pass to pass
            u = u + rnd * (int(q.update_id.max()) + len(q) + 1)
        b = _fmt_all(self.rebased(sym, q.bid, rnd), pr.price_decimals)
        a = _fmt_all(self.rebased(sym, q.ask, rnd), pr.price_decimals)
        bq, aq = _fmt_all(q.bid_size, pr.qty_decimals), _fmt_all(q.ask_size, pr.qty_decimals)
        return [
            f'{{"e":"bookTicker","u":{ui},"s":"{sym}","b":"{bi}","B":"{bqi}","a":"{ai}",'
            f'"A":"{aqi}","T":{ti},"E":{ti}}}'
            for ui, bi, bqi, ai, aqi, ti in zip(u.tolist(), b, bq, a, aq, t, strict=True)
        ]

    # -- released data ------------------------------------------------------------------------
    def passes(self, sym: str, released: int) -> range:
        """Passes with released trades that REST still remembers."""
        n = len(self.rec.trades[sym])
        if not n or released <= 0:
            return range(0)
        last = (released - 1) // n
        return range(max(0, last - MAX_PASSES_KEPT + 1), last + 1)

    def released_in(self, sym: str, released: int, rnd: int) -> int:
        """How many trades of pass ``rnd`` are released."""
        n = len(self.rec.trades[sym])
        return int(min(n, max(0, released - rnd * n)))

    def aggs_released_in(self, sym: str, released: int, rnd: int) -> int:
        """How many aggregates of pass ``rnd`` are complete."""
        j = self.released_in(sym, released, rnd)
        if j == 0:
            return 0
        ag = self.rec.aggs[sym]
        k = int(ag.of_row[j - 1])
        return k + 1 if int(ag.last[k]) == j - 1 else k

    def agg_rows(
        self, sym: str, released: int, *, from_id: int | None, start_ms: int | None,
        end_ms: int | None, limit: int,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """``/fapi/v1/aggTrades`` rows (only aggregates whose last trade has been served)."""
        ag = self.rec.aggs.get(sym)
        passes = self.passes(sym, released)
        if ag is None or not len(ag) or not passes:
            return []
        m = len(ag)
        total = (passes[-1]) * m + self.aggs_released_in(sym, released, passes[-1])
        lo = passes[0] * m
        if from_id is not None:
            g = max(lo, from_id - ag.id0)
        elif start_ms is not None:
            g = total
            for r in passes:
                tp = self.trades(sym, r)
                k = int(np.searchsorted(tp.agg_t, start_ms))
                if k < m:
                    g = max(lo, r * m + k)
                    break
        else:
            g = max(lo, total - limit)
        out: list[dict[str, Any]] = []
        while g < total and len(out) < limit:
            r, k = divmod(g, m)
            tp = self.trades(sym, r)
            fi, la = int(ag.first[k]), int(ag.last[k])
            t = int(tp.T[la])
            if end_ms is not None and t > end_ms:
                break
            q = float(tp.size[fi : la + 1].sum())
            out.append({"a": ag.id0 + g, "p": tp.p_txt[fi], "q": self.rec.prec[sym].qty(q),
                        "f": int(tp.ids[fi]), "l": int(tp.ids[la]), "T": t,
                        "m": bool(tp.maker[fi])})  # fmt: skip
            g += 1
        return out

    def _window(self, sym: str, released: int) -> TradePass | None:
        """Released trades of the remembered passes, concatenated (``None`` if there are none)."""
        parts = []
        for r in self.passes(sym, released):
            tp, j = self.trades(sym, r), self.released_in(sym, released, r)
            parts.append((tp, j))
        if not parts:
            return None
        cat = {
            f: np.concatenate([getattr(tp, f)[:j] for tp, j in parts])
            for f in ("T", "price", "size", "ids", "maker")
        }
        p_txt = [s for tp, j in parts for s in tp.p_txt[:j]]
        q_txt = [s for tp, j in parts for s in tp.q_txt[:j]]
        return TradePass(cat["T"], cat["price"], cat["size"], cat["ids"], cat["maker"], p_txt,
                         q_txt, [], [], np.empty(0))  # fmt: skip

    def recent_trades(self, sym: str, released: int, limit: int) -> list[dict[str, Any]]:
        """``/fapi/v1/trades``: the last ``limit`` trades."""
        w = self._window(sym, released)
        if w is None:
            return []
        pr = self.rec.prec[sym]
        lo = max(0, len(w.T) - limit)
        qd = min(8, pr.price_decimals + pr.qty_decimals)
        return [{"id": int(w.ids[i]), "price": w.p_txt[i], "qty": w.q_txt[i],
                 "quoteQty": f"{w.price[i] * w.size[i]:.{qd}f}", "time": int(w.T[i]),
                 "isBuyerMaker": bool(w.maker[i])} for i in range(lo, len(w.T))]  # fmt: skip

    def last_trade(self, sym: str, released: int) -> tuple[float, str, int] | None:
        """(price, price text, presented ms) of the last released trade."""
        ps = self.passes(sym, released)
        if not ps:
            return None
        tp = self.trades(sym, ps[-1])
        j = self.released_in(sym, released, ps[-1]) - 1
        return float(tp.price[j]), tp.p_txt[j], int(tp.T[j])

    def klines(
        self, sym: str, released: int, iv_ms: int, *, start_ms: int | None, end_ms: int | None,
        limit: int,
    ) -> list[list[Any]]:  # fmt: skip
        """``/fapi/v1/klines`` rows built from the released trades (open time ascending)."""
        w = self._window(sym, released)
        if w is None:
            return []
        keep = np.ones(len(w.T), dtype=bool)
        if start_ms is not None:
            keep &= start_ms // iv_ms * iv_ms <= w.T
        if end_ms is not None:
            keep &= end_ms >= w.T
        T, p, v, ids, maker = w.T[keep], w.price[keep], w.size[keep], w.ids[keep], w.maker[keep]
        if not len(T):
            return []
        bucket = T // iv_ms * iv_ms
        all_starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        all_ends = np.r_[all_starts[1:], len(T)]
        sel = slice(0, limit) if start_ms is not None else slice(-limit, None)
        starts, ends = all_starts[sel], all_ends[sel]
        pr = self.rec.prec[sym]
        qd = min(8, pr.price_decimals + pr.qty_decimals)
        rows: list[list[Any]] = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            pp, vv, mm = p[s:e], v[s:e], maker[s:e]
            taker_buy = ~mm
            t0 = int(bucket[s])
            rows.append([
                t0, pr.price(pp[0]), pr.price(pp.max()), pr.price(pp.min()), pr.price(pp[-1]),
                pr.qty(vv.sum()), t0 + iv_ms - 1, f"{(pp * vv).sum():.{qd}f}", e - s,
                pr.qty(vv[taker_buy].sum()), f"{(pp[taker_buy] * vv[taker_buy]).sum():.{qd}f}",
                "0", int(ids[s]), int(ids[e - 1]),
            ])  # fmt: skip
        return rows

    def ticker_24h(self, sym: str, released: int, now_ms: int) -> dict[str, Any]:
        """``/fapi/v1/ticker/24hr`` over the remembered, released trades of the last 24 h."""
        pr = self.rec.prec[sym]
        w = self._window(sym, released)
        zero_p, zero_q = pr.price(0.0), pr.qty(0.0)
        out: dict[str, Any] = {"symbol": sym, "priceChange": zero_p, "priceChangePercent": "0.000",
                               "weightedAvgPrice": zero_p, "lastPrice": zero_p,
                               "lastQty": zero_q, "openPrice": zero_p, "highPrice": zero_p,
                               "lowPrice": zero_p, "volume": zero_q, "quoteVolume": "0",
                               "openTime": now_ms - 86_400_000, "closeTime": now_ms,
                               "firstId": -1, "lastId": -1, "count": 0}  # fmt: skip
        if w is None:
            return out
        keep = now_ms - 86_400_000 <= w.T
        T, p, v, ids = w.T[keep], w.price[keep], w.size[keep], w.ids[keep]
        if not len(T):
            return out
        qv = float((p * v).sum())
        chg = float(p[-1] - p[0])
        out.update(priceChange=pr.price(chg) if chg >= 0 else "-" + pr.price(-chg),
                   priceChangePercent=f"{100 * chg / p[0]:.3f}",
                   weightedAvgPrice=pr.price(qv / float(v.sum())), lastPrice=pr.price(p[-1]),
                   lastQty=pr.qty(v[-1]), openPrice=pr.price(p[0]), highPrice=pr.price(p.max()),
                   lowPrice=pr.price(p.min()), volume=pr.qty(v.sum()),
                   quoteVolume=f"{qv:.{min(8, pr.price_decimals + pr.qty_decimals)}f}",
                   openTime=int(T[0]), closeTime=int(T[-1]), firstId=int(ids[0]),
                   lastId=int(ids[-1]), count=len(T))  # fmt: skip
        return out


def kline_payload(
    sym: str,
    interval: str,
    row: list[Any],
    event_ms: int,
    closed: bool,
    *,
    continuous: bool = False,
) -> str:
    """A ``<sym>@kline_<tf>`` (or ``<pair>_perpetual@continuousKline_<tf>``) payload."""
    import orjson

    k = {"t": row[0], "T": row[6], "s": sym, "i": interval, "f": row[12], "L": row[13],
         "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": row[8],
         "x": closed, "q": row[7], "V": row[9], "Q": row[10], "B": "0"}  # fmt: skip
    if continuous:
        del k["s"]
        msg = {"e": "continuous_kline", "E": event_ms, "ps": sym, "ct": "PERPETUAL", "k": k}
        return orjson.dumps(msg).decode()
    return orjson.dumps({"e": "kline", "E": event_ms, "s": sym, "k": k}).decode()


__all__ = ["KLINE_MS", "MAX_PASSES_KEPT", "Market", "Precision", "TradePass", "kline_payload"]
