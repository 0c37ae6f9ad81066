"""``/fapi/v1/exchangeInfo`` for the replayed symbols (Binance's schema, precision from the data).

``pricePrecision``/``quantityPrecision`` are the decimals the recording writes (``"61800.30"`` ->
2), ``tickSize``/``stepSize`` the grid its values sit on (BTCUSDT 2024: ``0.10`` and ``0.001``).
Margin, notional and order limits are Binance's defaults for a USD-M perpetual, not per symbol.
"""

from __future__ import annotations

from typing import Any

from statarb.venue._data import Recording


def exchange_info(rec: Recording, server_ms: int) -> dict[str, Any]:
    """A ``/fapi/v1/exchangeInfo`` answer (real schema) for the replayed symbols."""
    return {
        "timezone": "UTC", "serverTime": server_ms, "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [_symbol_info(rec, s) for s in rec.symbols],
    }  # fmt: skip


def _symbol_info(rec: Recording, s: str) -> dict[str, Any]:
    p = rec.prec[s]
    pd, qd = p.price_decimals, p.qty_decimals
    base = s[:-4] if s.endswith(("USDT", "USDC")) else s[:-3]
    tick, step = f"{p.tick:.{pd}f}", f"{p.step:.{qd}f}"
    return {
        "symbol": s, "pair": s, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": base, "quoteAsset": s[len(base):],
        "marginAsset": s[len(base):], "pricePrecision": pd, "quantityPrecision": qd,
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
        "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500",
        "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "4529764",
             "tickSize": tick},
            {"filterType": "LOT_SIZE", "stepSize": step, "maxQty": "1000", "minQty": step},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": step, "maxQty": "120", "minQty": step},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                       "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }  # fmt: skip


__all__ = ["exchange_info"]
