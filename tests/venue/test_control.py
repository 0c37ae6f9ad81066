"""The replay server's control protocol as a pure state machine."""

from __future__ import annotations

import orjson

from statarb.venue._control import ConnState, handle_control, parse_path, stream_route


def _req(state: ConnState, obj: object) -> dict:
    text = obj if isinstance(obj, str) else orjson.dumps(obj).decode()
    return handle_control(state, text, max_streams=1024)


def test_paths() -> None:
    assert parse_path("/market/stream?streams=btcusdt@aggTrade/ethusdt@markPrice") == (
        "market",
        True,
        ["btcusdt@aggTrade", "ethusdt@markPrice"],
    )
    assert parse_path("/public/ws/btcusdt@bookTicker/ethusdt@depth") == (
        "public",
        False,
        ["btcusdt@bookTicker", "ethusdt@depth"],
    )
    assert parse_path("/public/stream") == ("public", True, [])
    assert parse_path("/ws") == ("legacy", False, [])
    assert parse_path("/stream?streams=btcusdt@trade") == ("legacy", True, ["btcusdt@trade"])
    assert parse_path("/fapi/v1/ping") is None
    assert parse_path("/private/ws") is None


def test_stream_names_and_routes() -> None:
    assert stream_route("btcusdt@aggTrade") == "market"
    assert stream_route("btcusdt@markPrice@1s") == "market"
    assert stream_route("btcusdt@kline_1m") == "market"
    assert stream_route("!markPrice@arr") == "market"
    assert stream_route("btcusdt@bookTicker") == "public"
    assert stream_route("btcusdt@depth20@100ms") == "public"
    assert stream_route("zzzunknown@aggTrade") == "market"  # well-formed: valid
    for bad in ("btcusdt@aggtrade", "BTCUSDT@aggTrade", "btcusdt", "btc-usdt@trade", "@trade"):
        assert stream_route(bad) is None, bad


def test_subscribe_unsubscribe_list() -> None:
    st = ConnState("market", True)
    assert _req(
        st, {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "x@markPrice"], "id": 1}
    ) == {"result": None, "id": 1}
    assert _req(st, {"method": "LIST_SUBSCRIPTIONS", "id": 3}) == {
        "result": ["btcusdt@aggTrade", "x@markPrice"],
        "id": 3,
    }
    assert _req(st, {"method": "UNSUBSCRIBE", "params": ["x@markPrice"], "id": 312}) == {
        "result": None,
        "id": 312,
    }
    assert st.subs == ["btcusdt@aggTrade"]
    # string ids are tolerated (the official SDK sends UUIDs)
    assert _req(st, {"method": "LIST_SUBSCRIPTIONS", "id": "a-b"})["id"] == "a-b"


def test_properties() -> None:
    st = ConnState("public", False)
    assert _req(st, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {
        "result": False,
        "id": 2,
    }
    assert _req(st, {"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}) == {
        "result": None,
        "id": 5,
    }
    assert st.combined is True
    assert _req(st, {"method": "GET_PROPERTY", "params": ["colour"], "id": 6}) == {
        "error": {"code": 0, "msg": "Unknown property"},
        "id": 6,
    }
    assert _req(st, {"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 7}) == {
        "error": {"code": 1, "msg": "Invalid value type: expected Boolean"},
        "id": 7,
    }
    assert _req(st, {"method": "GET_PROPERTY", "params": [5], "id": 8})["error"] == {
        "code": 2,
        "msg": "Invalid request: property name must be a string",
    }
    assert (
        _req(st, {"method": "SET_PROPERTY", "params": ["combined", True, 1], "id": 9})["error"][
            "msg"
        ]
        == "Invalid request: too many parameters"
    )


def test_errors_are_nested_with_the_request_id() -> None:
    st = ConnState("market", True)
    assert _req(st, {"method": "SUBSCRIBE", "params": ["BTCUSDT@aggTrade"], "id": 1}) == {
        "error": {"code": 2, "msg": "Invalid request: invalid stream"},
        "id": 1,
    }
    assert st.subs == []
    bad_json = _req(st, "{not json")
    assert bad_json["id"] is None and bad_json["error"]["code"] == 3
    assert bad_json["error"]["msg"].startswith("Invalid JSON: expected value at line 1 column")
    assert _req(st, {"params": [], "id": 1}) == {
        "error": {"code": 2, "msg": "Invalid request: missing field `method`"},
        "id": None,
    }
    for bad_id in (-1, 1.5, True, None):
        assert _req(st, {"method": "LIST_SUBSCRIPTIONS", "id": bad_id})["error"] == {
            "code": 2,
            "msg": "Invalid request: request ID must be an unsigned integer",
        }
    unknown = _req(st, {"method": "SUBSCRIBEX", "params": [], "id": 4})
    assert unknown["id"] == 4 and unknown["error"]["msg"].startswith(
        "Invalid request: unknown variant `SUBSCRIBEX`, expected one of `SUBSCRIBE`"
    )


def test_wrong_route_subscription_is_accepted_but_not_delivered() -> None:
    public = ConnState("public", True)
    assert _req(public, {"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}) == {
        "result": None,
        "id": 1,
    }
    assert not public.delivers("btcusdt@aggTrade")
    legacy = ConnState("legacy", False, ["btcusdt@aggTrade", "btcusdt@bookTicker"])
    assert not legacy.delivers("btcusdt@aggTrade")
    assert legacy.delivers("btcusdt@bookTicker")
    market = ConnState("market", True, ["btcusdt@aggTrade"])
    assert market.delivers("btcusdt@aggTrade") and not market.delivers("ethusdt@aggTrade")
