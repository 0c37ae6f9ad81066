"""The parity run's edges: the sequencer (two connections back in exchange-time order) and the
reading of every fill from the store."""

from __future__ import annotations

from statarb.engine.parity import Sequencer, _all_fills
from statarb.ingest.binance import FeedBatch


def _t(ts: int) -> tuple:
    return ("AUSDT", ts, 100.0, 1.0, False, ts, "", 0)


def _q(ts: int) -> tuple:
    return ("AUSDT", ts, 99.9, 1.0, 100.1, 1.0, ts, 0)


def test_only_what_both_connections_passed_is_released_in_time_order() -> None:
    seq = Sequencer()
    seq.add(FeedBatch([_t(5), _t(9), _t(12)], []))  # the trades' connection runs ahead
    assert seq.release() is None  # no quote yet: a quote before 12 may still come
    seq.add(FeedBatch([], [_q(3), _q(8)]))
    out = seq.release()
    assert out is not None
    assert [r[1] for r in out.trade_rows] == [5] and [r[1] for r in out.quote_rows] == [3, 8]
    seq.add(FeedBatch([_t(14)], [_q(10), _q(13)]))
    out = seq.release()
    assert out is not None
    assert [r[1] for r in out.trade_rows] == [9, 12] and [r[1] for r in out.quote_rows] == [10, 13]
    assert seq.trades_in == 4
    last = seq.release(final=True)
    assert last is not None and [r[1] for r in last.trade_rows] == [14]
    assert seq.release(final=True) is None


def test_without_quotes_trades_flow_as_they_come() -> None:
    seq = Sequencer(quotes=False)
    seq.add(FeedBatch([_t(2), _t(1)], []))
    out = seq.release()
    assert out is not None and [r[1] for r in out.trade_rows] == [1, 2]


def test_every_fill_is_read_across_pages_even_when_times_tie(sqlite_url: str) -> None:
    from statarb.store import open_store

    store = open_store(sqlite_url)
    try:
        times = [1, 2, 2, 2, 3, 4, 4]
        fills = [
            {
                "fill_id": f"c{i}-f",
                "client_id": f"c{i}",
                "pair_id": 1,
                "symbol": "AUSDT",
                "leg": "y",
                "side": 1,
                "qty": 1.0,
                "price": 10.0,
                "base": 10.0,
                "ref_price": 10.0,
                "fee": 0.0,
                "slippage": 0.0,
                "ts": t,
                "source": "quote",
                "assumed_spread": False,
                "realised": 0.0,
            }
            for i, t in enumerate(times)
        ]
        store.paper.save_changes(fills=fills)
        got = _all_fills(store, 1, page=3)
        assert sorted(f["fill_id"] for f in got) == sorted(f["fill_id"] for f in fills)
        assert len(_all_fills(store, 2, page=3)) == 0
    finally:
        store.close()
