"""cryptofeed against the venue, in its own process: ``python _cryptofeed_client.py WS REST``.

Prints one JSON line per trade, book update and candle; exits 0 after three of each (3 on a
60 s timeout). It runs in a process of its own because cryptofeed installs uvloop's policy and
its HTTP stack reads the trusted certificates (``SSL_CERT_FILE``) when it is imported.
"""

import asyncio
import json
import os
import sys
import threading

from cryptofeed import FeedHandler
from cryptofeed.connection import RestEndpoint, Routes, WebsocketEndpoint
from cryptofeed.defines import CANDLES, L2_BOOK, TRADES
from cryptofeed.exchanges import BinanceFutures

ws, rest_url = sys.argv[1], sys.argv[2]
rest = RestEndpoint(
    rest_url, routes=Routes("/fapi/v1/exchangeInfo", l2book="/fapi/v1/depth?symbol={}&limit={}")
)
counts = {"trade": 0, "book": 0, "candle": 0}


def emit(kind, obj):
    counts[kind] += 1
    print(json.dumps({"kind": kind, "data": obj}), flush=True)
    if all(v >= 3 for v in counts.values()):
        os._exit(0)


async def on_trade(t, ts):
    emit("trade", {"price": str(t.price), "amount": str(t.amount), "raw": t.raw})


async def on_book(b, ts):
    emit("book", [str(b.book.bids.index(0)[0]), str(b.book.asks.index(0)[0])])


async def on_candle(c, ts):
    emit(
        "candle",
        {
            "o": str(c.open),
            "h": str(c.high),
            "l": str(c.low),
            "c": str(c.close),
            "v": str(c.volume),
            "n": c.trades,
            "raw": c.raw,
        },
    )


def routed(route):
    return type(
        "Venue" + route,
        (BinanceFutures,),
        {
            "websocket_endpoints": [
                WebsocketEndpoint(ws + "/" + route, options={"compression": None})
            ],
            "rest_endpoints": [rest],
        },
    )


threading.Timer(60, lambda: os._exit(3)).start()
fh = FeedHandler()  # installs uvloop's policy: make the loop after it
asyncio.set_event_loop(asyncio.new_event_loop())
fh.add_feed(
    routed("market")(
        symbols=["BTC-USDT-PERP"],
        channels=[TRADES, CANDLES],
        callbacks={TRADES: on_trade, CANDLES: on_candle},
        candle_closed_only=False,
    )
)
fh.add_feed(
    routed("public")(symbols=["BTC-USDT-PERP"], channels=[L2_BOOK], callbacks={L2_BOOK: on_book})
)
fh.run()
