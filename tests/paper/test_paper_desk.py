"""The paper core: fills on the tape, P&L, legging, sizing and replays (hand-checked numbers)."""

from __future__ import annotations

import json

import pytest

from statarb.errors import InputError
from statarb.paper import (
    BarInput,
    PaperDesk,
    PaperPosition,
    PaperSettings,
    PaperStrategy,
    client_order_id,
    paper_settings,
    round_lot,
    symbol_rules,
)

A, B = "AUSDT", "BUSDT"
S = 1_000_000  # one second in µs


def _desk(**kw: object) -> PaperDesk:
    desk = PaperDesk()
    desk.attach(PaperStrategy(7, A, B, PaperSettings(**kw)))  # type: ignore[arg-type]
    return desk


def _bar(i: int, z: float, y: float = 100.0, x: float = 100.0, hl: float = 10.0) -> BarInput:
    return BarInput(i * 60 * S, (i + 1) * 60 * S, z=z, hedge_ratio=1.0, half_life=hl, y=y, x=x)


def test_round_trip_fills_at_the_quotes_after_the_close_with_costs() -> None:
    desk = _desk(notional=1000.0, fee_bps=4.0, slippage_bps=1.0)
    out = desk.on_bar(7, _bar(0, 2.5))
    assert [(o.client_id, o.symbol, o.side, o.qty) for o in out.orders] == [
        ("pa7-0-oy0", A, -1, 5.0), ("pa7-0-ox0", B, 1, 5.0),
    ]  # fmt: skip
    assert not desk.on_quote(A, 60 * S - 1, bid=90.0, ask=91.0).fills  # before the close
    sell = desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1).fills[0]
    assert sell.price == pytest.approx(99.9 * (1 - 1e-4)) and sell.source == "quote"
    assert sell.fee == pytest.approx(4e-4 * 5 * 99.89001)
    assert sell.slippage == pytest.approx(5 * 0.00999)
    buy = desk.on_quote(B, 60 * S + 2, bid=100.0, ask=100.2).fills[0]
    assert buy.price == pytest.approx(100.21002)
    p = desk.strategies[7].position
    assert (p.status, p.side, p.qty_y, p.qty_x) == ("open", -1, -5.0, 5.0)
    desk.on_bar(7, _bar(1, 1.0, y=99.0))
    assert p.held == 1 and p.status == "open"
    assert p.unrealised == pytest.approx(-5 * (99.0 - 99.89001) + 5 * (100.0 - 100.21002))
    out = desk.on_bar(7, _bar(2, -0.1))  # a short exits once z <= exit
    assert [o.client_id for o in out.orders] == ["pa7-120000000-cy0", "pa7-120000000-cx0"]
    desk.on_quote(A, 180 * S + 1, bid=98.9, ask=99.0)
    out = desk.on_quote(B, 180 * S + 1, bid=100.0, ask=100.1)
    assert p.status == "flat" and p.trades == 1 and p.qty_y == 0.0 and p.qty_x == 0.0
    assert p.realised == pytest.approx(5 * (99.89001 - 99.0099) + 5 * (99.99 - 100.21002))
    assert p.fees == pytest.approx(4e-4 * 5 * (99.89001 + 100.21002 + 99.0099 + 99.99))
    assert p.pnl == pytest.approx(3.30045 - 0.79819986)
    assert [e.kind for e in out.events][-1] == "closed"


def test_without_quotes_the_next_trade_fills_with_an_assumed_half_spread() -> None:
    desk = _desk(notional=1000.0, fee_bps=0.0, slippage_bps=0.0, half_spread_bps=0.5)
    desk.on_bar(7, _bar(0, -2.5))  # long spread: buy A, sell B
    out = desk.on_trades(A, [60 * S - 5, 60 * S + 3, 60 * S + 9], [99.0, 100.0, 101.0])
    f = out.fills[0]
    assert f.source == "trade" and f.assumed_spread and f.ts == 60 * S + 3
    assert f.price == pytest.approx(100.0 * (1 + 0.5e-4))
    # once the symbol has quotes, the last known spread is what a trade fill assumes... and
    # quotes fill directly
    f = desk.on_quote(B, 60 * S + 4, bid=49.0, ask=51.0).fills[0]
    assert f.source == "quote" and not f.assumed_spread and f.price == 49.0


def test_a_late_leg_is_retried_then_fills() -> None:
    desk = _desk(leg_timeout=2.0, on_timeout="retry", max_retries=1, slippage_bps=0.0)
    desk.on_bar(7, _bar(0, 2.5))
    desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1)
    assert not desk.on_quote(A, 61 * S, bid=99.9, ask=100.1)  # before the timeout
    out = desk.on_quote(A, 62 * S, bid=99.9, ask=100.1)  # B silent for 2 s after the send
    assert [(o.client_id, o.status) for o in out.orders] == [
        ("pa7-0-ox0", "cancelled"), ("pa7-0-ox1", "working"),
    ]  # fmt: skip
    assert [e.kind for e in out.events] == ["retry", "order"]
    assert not desk.on_quote(B, 62 * S - 1, bid=99.0, ask=99.5).fills  # before the retry
    f = desk.on_quote(B, 62 * S + 1, bid=100.0, ask=100.2).fills[0]
    assert f.client_id == "pa7-0-ox1" and desk.strategies[7].position.status == "open"


def test_a_late_leg_beyond_its_retries_unwinds_the_filled_one() -> None:
    desk = _desk(leg_timeout=2.0, on_timeout="unwind", fee_bps=0.0, slippage_bps=0.0)
    desk.on_bar(7, _bar(0, 2.5))
    desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1)  # sold 5 A at 99.9
    out = desk.on_quote(A, 62 * S, bid=100.3, ask=100.4)  # B late: unwind A (buy 5)
    assert [e.kind for e in out.events][:3] == ["unwind", "order", "fill"]
    p = desk.strategies[7].position
    assert p.status == "flat" and p.qty_y == 0.0 and p.trades == 0
    assert p.realised == pytest.approx(5 * (99.9 - 100.4))
    assert out.orders[-1].client_id == "pa7-0-uy0" and out.orders[-1].status == "filled"


def test_lot_rounding_and_minimum_notional() -> None:
    assert round_lot(5.7142857, 0.01) == pytest.approx(5.71)
    assert round_lot(-8.5714, 0.1) == pytest.approx(-8.5)
    bar = BarInput(0, 60 * S, z=-2.5, hedge_ratio=1.5, half_life=5.0, y=100.0, x=50.0)
    desk = _desk(notional=1000.0, lot_y=0.01, lot_x=0.1)
    out = desk.on_bar(7, bar)
    assert [o.qty for o in out.orders] == pytest.approx([5.71, 8.5])
    desk = _desk(notional=1000.0, lot_y=0.01, lot_x=0.1, min_notional=500.0)
    out = desk.on_bar(7, bar)  # the x leg is 425 USDT
    assert not out.orders and [e.kind for e in out.events] == ["skipped"]
    assert desk.strategies[7].position.skipped == 1


def test_a_bar_is_decided_once_and_the_time_stop_closes() -> None:
    desk = _desk(time_stop=1.0, slippage_bps=0.0)
    assert desk.on_bar(7, _bar(0, 2.5, hl=2.4)).orders
    assert not desk.on_bar(7, _bar(0, 2.5, hl=2.4)).orders  # a replayed bar
    desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1)
    desk.on_quote(B, 60 * S + 1, bid=99.9, ask=100.1)
    p = desk.strategies[7].position
    assert p.limit == 3  # ceil(1.0 * 2.4)
    assert not desk.on_bar(7, _bar(1, 2.4)).orders and not desk.on_bar(7, _bar(2, 2.4)).orders
    out = desk.on_bar(7, _bar(3, 2.4))
    assert p.exit_reason == "time_stop" and len(out.orders) == 2


def test_state_round_trips_through_json_and_resumes() -> None:
    desk = _desk()
    desk.on_bar(7, _bar(0, 2.5))
    desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1)
    st = desk.strategies[7]
    stored = json.loads(json.dumps(st.position.to_dict()))
    again = PaperStrategy(7, A, B, st.settings, PaperPosition.from_dict(stored),
                          list(st.working.values()))  # fmt: skip
    assert again.position == st.position and again.working == st.working
    desk2 = PaperDesk()
    desk2.attach(again)
    f = desk2.on_quote(B, 60 * S + 2, bid=100.0, ask=100.2).fills[0]
    assert f.client_id == client_order_id(7, 0, "open", "x", 0)
    assert again.position.status == "open"


def test_settings_are_validated_by_name() -> None:
    assert paper_settings({"entry": 2, "max_retries": 2.0}).max_retries == 2
    with pytest.raises(InputError, match="unknown paper settings"):
        paper_settings({"entri": 2})
    with pytest.raises(InputError, match="exit"):
        paper_settings({"entry": 1.0, "exit": 1.5})
    with pytest.raises(InputError, match="on_timeout"):
        paper_settings({"on_timeout": "pray"})
    with pytest.raises(InputError, match="notional"):
        paper_settings({"notional": -1})


def test_symbol_rules_from_exchange_info() -> None:
    info = {"symbols": [{"symbol": A, "filters": [
        {"filterType": "LOT_SIZE", "stepSize": "0.001"},
        {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.01"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ]}]}  # fmt: skip
    r = symbol_rules(info)[A]
    assert (r.step, r.min_notional) == (0.01, 100.0)


def test_cancelling_a_legged_entry_leaves_a_position_the_rule_can_close() -> None:
    desk = _desk(slippage_bps=0.0, fee_bps=0.0)
    desk.on_bar(7, _bar(0, 2.5))
    desk.on_quote(A, 60 * S + 1, bid=99.9, ask=100.1)  # only leg y filled
    st, out = desk.strategies[7], desk.on_time(60 * S + 2)
    st.cancel_all(60 * S + 2, out)
    p = st.position
    assert (p.status, p.side, p.qty_y, p.qty_x) == ("open", -1, -5.0, 0.0)
    assert [o.status for o in out.orders] == ["cancelled"]
    out = desk.on_bar(7, _bar(1, -0.5))  # the exit closes what is held: leg y only
    assert [(o.symbol, o.side, o.qty) for o in out.orders] == [(A, 1, 5.0)]
    desk.on_quote(A, 120 * S + 1, bid=99.0, ask=99.5)
    assert p.status == "flat" and p.realised == pytest.approx(5 * (99.9 - 99.5))
    nothing = PaperStrategy(8, A, B, PaperSettings())
    nothing.cancel_all(0, out)
    assert nothing.position.status == "flat"


def test_funding_is_settled_once_per_funding_time_on_the_legs_held() -> None:
    desk = _desk(fee_bps=0.0, slippage_bps=0.0)
    desk.on_bar(7, _bar(0, 2.5))  # short the spread: -5 A, +5 B
    desk.on_quote(A, 60 * S + 1, bid=100.0, ask=100.0)
    desk.on_quote(B, 60 * S + 1, bid=100.0, ask=100.0)
    hour = 3600 * S
    assert not desk.on_mark(A, 61 * S, mark=101.0, rate=1e-4, next_funding=hour).events
    out = desk.on_mark(A, hour + 5, mark=102.0, rate=2e-4, next_funding=2 * hour)
    # the short leg receives qty x mark x rate at the last mark and rate before the funding
    assert [e.kind for e in out.events] == ["funding"]
    p = desk.strategies[7].position
    assert p.funding == pytest.approx(5 * 101.0 * 1e-4) and p.last_funding_y == hour
    assert not desk.on_mark(A, hour + 9, mark=102.0, rate=2e-4, next_funding=2 * hour).events
    desk.on_mark(B, 61 * S, mark=99.0, rate=-1e-4, next_funding=hour)
    desk.on_mark(B, hour + 1, mark=99.0, rate=-1e-4, next_funding=2 * hour)  # longs receive
    assert p.funding == pytest.approx(5 * 101.0 * 1e-4 + 5 * 99.0 * 1e-4)
    assert p.pnl == pytest.approx(p.realised + p.unrealised - p.fees + p.funding)
    again = PaperPosition.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p  # settled times survive a restart
