"""The parity run's sequencer: trades and quotes of two connections back in exchange-time order."""

from __future__ import annotations

from statarb.engine.parity import Sequencer
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
