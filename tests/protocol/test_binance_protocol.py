"""Stream names, routes, URLs, backoff and parsing of real recorded Binance frames."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import orjson
import pytest

from statarb.errors import InputError
from statarb.model import Quote, Tick
from statarb.protocol.binance import (
    MarkPrice,
    Reply,
    backoff_delay,
    check_symbols,
    control_message,
    parse_frame,
    plan_connections,
    route_of,
    stream_url,
)
from statarb.venue._faults import MALFORMED_KINDS, spoilt


def _cryptofeed_lines(shared_data: Path) -> list[str]:
    text = (shared_data / "binance-usdm-protocol" / "BINANCE_FUTURES.ws.1.0").read_text()
    return [ln.split(": ", 1)[1] for ln in text.splitlines()[1:] if ": " in ln]


def test_real_aggtrade_and_bookticker_frames(shared_data: Path) -> None:
    counts = {"aggTrade": 0, "bookTicker": 0, "other": 0}
    for raw in _cryptofeed_lines(shared_data):
        data = orjson.loads(raw)["data"]
        ev = parse_frame(raw, 123)
        if data["e"] == "aggTrade":
            counts["aggTrade"] += 1
            assert isinstance(ev, Tick)
            assert (ev.symbol, ev.trade_id, ev.ts) == (data["s"], data["a"], data["T"] * 1000)
            assert ev.price == float(data["p"]) and ev.size == float(data["q"])
            assert ev.is_buyer_maker is data["m"] and ev.recv_ts == 123 and ev.source == "binance"
        elif data["e"] == "bookTicker":
            counts["bookTicker"] += 1
            assert isinstance(ev, Quote)
            assert (ev.bid, ev.ask, ev.update_id) == (float(data["b"]), float(data["a"]), data["u"])
            assert (ev.bid_size, ev.ask_size, ev.ts) == (
                float(data["B"]),
                float(data["A"]),
                data["T"] * 1000,
            )
        else:
            counts["other"] += 1
            assert ev is None  # depth and kline are not used by the client
    assert counts == {"aggTrade": 91, "bookTicker": 613, "other": 764 + 67}


def test_real_trade_frames_from_hftbacktest(shared_data: Path) -> None:
    path = shared_data / "binance-usdm-recorded" / "btcusdt_20240718.gz"
    trades = quotes = 0
    with gzip.open(path, "rt") as fh:
        for line in fh:
            raw = line.split(" ", 1)[1]
            data = orjson.loads(raw).get("data", {})
            ev = parse_frame(raw, 1)
            if data.get("e") == "trade":
                trades += 1
                assert isinstance(ev, Tick) and ev.trade_id == data["t"]
                assert ev.price == float(data["p"]) and ev.ts == data["T"] * 1000
            elif data.get("e") == "bookTicker":
                quotes += 1
                assert isinstance(ev, Quote) and ev.update_id == data["u"]
    assert trades == 974 and quotes == 7113


def test_raw_mode_payload_mark_price_and_replies() -> None:
    raw = (
        b'{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000",'
        b'"ap":"11794.1","i":"11784.62659091","P":"11784.25641265","r":"0.00038167",'
        b'"T":1562306400000}'
    )
    ev = parse_frame(raw, 5)
    assert ev == MarkPrice(
        "BTCUSDT", 1562305380000000, 11794.15, 11784.62659091, 0.00038167, 1562306400000000, 5
    )
    assert parse_frame('{"result":null,"id":7}', 0) == Reply(7, None, None)
    err = parse_frame('{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}', 0)
    assert isinstance(err, Reply) and err.error == {
        "code": 2,
        "msg": "Invalid request: invalid stream",
    }
    new_keys = (
        '{"e":"aggTrade","E":1,"s":"X","a":5,"p":"1.5","q":"2","nq":"2","f":1,"l":1,'
        '"T":1,"m":true,"st":1}'
    )
    assert parse_frame(new_keys, 0).trade_id == 5  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        parse_frame('{"e":"aggTrade","s":"X"}', 0)
    with pytest.raises(ValueError):
        parse_frame("not json", 0)


def test_backoff_schedule_is_exponential_capped_and_jittered() -> None:
    top = [backoff_delay(a, base=0.5, cap=30.0, rand=lambda: 1.0) for a in range(9)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff_delay(1000, base=0.5, cap=30.0, rand=lambda: 1.0) == 30.0
    assert backoff_delay(4, base=0.5, cap=30.0, rand=lambda: 0.25) == 2.0
    assert backoff_delay(4, base=0.5, cap=30.0, rand=lambda: 0.0) == 0.0
    draws = [backoff_delay(3) for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in draws) and len(set(draws)) > 100
    with pytest.raises(InputError):
        backoff_delay(-1)
    with pytest.raises(InputError):
        backoff_delay(0, base=2.0, cap=1.0)


def test_routes_plan_and_urls() -> None:
    assert route_of("btcusdt@aggTrade") == "market"
    assert route_of("btcusdt@markPrice") == "market"
    assert route_of("btcusdt@bookTicker") == "public"
    plan = plan_connections(["BTCUSDT", "ETHUSDT", "SOLUSDT"], ["aggTrade", "bookTicker"], 2)
    assert plan == [
        ("market", ["btcusdt@aggTrade", "ethusdt@aggTrade"]),
        ("market", ["solusdt@aggTrade"]),
        ("public", ["btcusdt@bookTicker", "ethusdt@bookTicker"]),
        ("public", ["solusdt@bookTicker"]),
    ]
    url = stream_url("wss://fstream.binance.com/", "market", ["btcusdt@aggTrade", "x@markPrice"])
    assert url == "wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/x@markPrice"
    assert check_symbols(["btcusdt", "BTCUSDT", " ethusdt "]) == ["BTCUSDT", "ETHUSDT"]
    with pytest.raises(InputError, match="BTC-USDT"):
        check_symbols(["BTC-USDT"])


def test_control_message_uses_unsigned_int_ids() -> None:
    msg = orjson.loads(control_message("SUBSCRIBE", 3, ["btcusdt@aggTrade"]))
    assert msg == {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 3}
    assert orjson.loads(control_message("LIST_SUBSCRIPTIONS", 4)) == {
        "method": "LIST_SUBSCRIPTIONS",
        "id": 4,
    }
    with pytest.raises(InputError):
        control_message("SUBSCRIBE", -1, [])


async def test_recorded_session_through_the_real_handlers(shared_data: Path) -> None:
    """The 2021 capture (4 symbols, 30 s) replayed frame by frame through BinanceFeed."""
    from statarb.ingest.binance import BinanceFeed

    lines = (shared_data / "binance-usdm-protocol" / "BINANCE_FUTURES.ws.1.0").read_text()
    frames = [ln.split(": ", 1) for ln in lines.splitlines()[1:]]
    syms = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]
    queue: asyncio.Queue = asyncio.Queue()
    feed = BinanceFeed(syms, out=queue, streams=("aggTrade", "bookTicker"))
    for ts, raw in frames:
        await feed.handle_frame(raw, int(float(ts) * 1e6))
    again = next(raw for _, raw in reversed(frames) if '"aggTrade"' in raw)
    await feed.handle_frame(again, int(float(ts) * 1e6) + 10**6)  # a repeated trade: dropped
    await feed._flush()
    ticks, quotes = [], []
    while not queue.empty():
        b = queue.get_nowait()
        ticks += b.ticks
        quotes += b.quotes
    per = {s: [t.trade_id for t in ticks if t.symbol == s] for s in syms}
    assert {s: len(v) for s, v in per.items()} == {"SUSHIUSDT": 40, "AKROUSDT": 8,
                                                   "KEEPUSDT": 5, "CTKUSDT": 38}  # fmt: skip
    assert all(v == list(range(v[0], v[0] + len(v))) for v in per.values())
    assert len(quotes) == 613
    st = feed.stats
    assert (st.messages, st.ticks, st.quotes, st.gaps, st.malformed) == (1536, 91, 613, 0, 0)
    assert st.latency_p50_ms is not None and 0 < st.latency_p50_ms < 1000
    assert st.last_ids["CTKUSDT"] == 16599329 and st.duplicates == 1


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
@pytest.mark.parametrize("stream", ["aggTrade", "trade"])
def test_spoilt_trades_are_refused_at_the_edge(kind: str, stream: str) -> None:
    good = {"e": "aggTrade", "E": 1, "s": "BTCUSDT", "a": 7, "p": "65000.1", "q": "0.002",
            "f": 7, "l": 7, "T": 1, "m": False}  # fmt: skip
    if stream == "trade":
        good = {"e": "trade", "E": 1, "T": 1, "s": "BTCUSDT", "t": 7, "p": "65000.1",
                "q": "0.002", "X": "MARKET", "m": False}  # fmt: skip
    assert isinstance(parse_frame(orjson.dumps(good), 0), Tick)
    with pytest.raises((ValueError, TypeError)):
        parse_frame(spoilt(good, kind), 0)


@pytest.mark.parametrize(
    "change",
    [{"p": "-1"}, {"p": "inf"}, {"q": "NaN"}, {"q": "0"}, {"p": 1.5j}, {"p": None}, {"s": 5},
     {"a": True}, {"a": -3}, {"T": 1.5}, {"m": 1}],
)  # fmt: skip
def test_bad_trade_values_and_types(change: dict[str, object]) -> None:
    data = {"e": "aggTrade", "E": 1, "s": "X", "a": 7, "p": "2", "q": "1", "T": 1, "m": True}
    data.update(change)  # type: ignore[arg-type]
    with pytest.raises((ValueError, TypeError)):
        parse_frame(orjson.dumps({"stream": "x@aggTrade", "data": data}, default=str), 0)


def test_bad_quotes_and_marks_are_refused() -> None:
    q = {"e": "bookTicker", "u": 1, "s": "X", "b": "1", "B": "1", "a": "2", "A": "1", "T": 5}
    assert isinstance(parse_frame(orjson.dumps(q), 0), Quote)
    for change in ({"u": "1"}, {"T": "5"}, {"b": "0"}, {"A": "-1"}, {"a": "NaN"}):
        with pytest.raises((ValueError, TypeError)):
            parse_frame(orjson.dumps({**q, **change}), 0)
    m = {"e": "markPriceUpdate", "E": 1, "s": "X", "p": "1", "i": "1", "r": "0", "T": 2}
    assert isinstance(parse_frame(orjson.dumps(m), 0), MarkPrice)
    for change in ({"E": "1"}, {"p": "0"}, {"T": None}):
        with pytest.raises((ValueError, TypeError)):
            parse_frame(orjson.dumps({**m, **change}), 0)
