"""The Paper page's tables and equity curve from the engine's paper API (pure, testable)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from statarb.dashboard.figures import lines_figure

SIDE_MARK = {1: "▲ long spread", -1: "▼ short spread", 0: "· flat"}
POSITION_COLUMNS = [
    "pair",
    "tf",
    "status",
    "side",
    "qty y",
    "qty x",
    "avg y",
    "avg x",
    "unrealised",
    "realised",
    "fees",
    "pnl",
    "held",
    "trades",
    "opened",
]
ORDER_COLUMNS = [
    "sent",
    "pair",
    "symbol",
    "leg",
    "side",
    "qty",
    "purpose",
    "attempt",
    "status",
    "ref price",
    "client id",
]
FILL_COLUMNS = [
    "time",
    "pair",
    "symbol",
    "leg",
    "side",
    "qty",
    "price",
    "base",
    "fee",
    "realised",
    "source",
    "assumed spread",
    "fill id",
]


def _time(us: Any) -> pd.Timestamp | None:
    return None if us is None else pd.Timestamp(int(us), unit="us", tz="UTC")


def _side(v: Any) -> str:
    return "buy" if v == 1 else "sell"


def positions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One line per strategy's position (``GET /api/v1/paper/positions``), open ones first."""
    out = [
        {
            "pair": f"{r.get('a')}/{r.get('b')}",
            "tf": r.get("timeframe"),
            "status": r["status"],
            "side": SIDE_MARK.get(int(r.get("side") or 0), "· flat"),
            "qty y": r.get("qty_y"),
            "qty x": r.get("qty_x"),
            "avg y": r.get("avg_y"),
            "avg x": r.get("avg_x"),
            "unrealised": r.get("unrealised"),
            "realised": r.get("realised"),
            "fees": r.get("fees"),
            "pnl": r.get("pnl"),
            "held": r.get("held"),
            "trades": r.get("trades"),
            "opened": _time(r.get("entry_ts")),
        }
        for r in rows
    ]
    frame = pd.DataFrame(out, columns=POSITION_COLUMNS)
    if frame.empty:
        return frame
    flat = (frame["status"] == "flat").astype(int)
    return frame.assign(_f=flat).sort_values("_f", kind="stable").drop(columns="_f")


def orders_frame(rows: list[dict[str, Any]], legs: dict[int, str]) -> pd.DataFrame:
    """Orders (newest first as the API sends them); ``legs`` names each pair id."""
    out = [
        {
            "sent": _time(o["sent"]),
            "pair": legs.get(o["pair_id"], str(o["pair_id"])),
            "symbol": o["symbol"],
            "leg": o["leg"],
            "side": _side(o["side"]),
            "qty": o["qty"],
            "purpose": o["purpose"],
            "attempt": o["attempt"],
            "status": o["status"],
            "ref price": o.get("ref_price"),
            "client id": o["client_id"],
        }
        for o in rows
    ]
    return pd.DataFrame(out, columns=ORDER_COLUMNS)


def fills_frame(rows: list[dict[str, Any]], legs: dict[int, str]) -> pd.DataFrame:
    """Fills, newest first."""
    out = [
        {
            "time": _time(f["ts"]),
            "pair": legs.get(f["pair_id"], str(f["pair_id"])),
            "symbol": f["symbol"],
            "leg": f["leg"],
            "side": _side(f["side"]),
            "qty": f["qty"],
            "price": f["price"],
            "base": f.get("base"),
            "fee": f["fee"],
            "realised": f.get("realised"),
            "source": f.get("source"),
            "assumed spread": bool(f.get("assumed_spread")),
            "fill id": f["fill_id"],
        }
        for f in sorted(rows, key=lambda f: f["ts"], reverse=True)
    ]
    return pd.DataFrame(out, columns=FILL_COLUMNS)


def equity_curve_figure(curve: list[dict[str, Any]], unrealised: float = 0.0) -> go.Figure:
    """Realised equity after fees (``pnl_report``'s curve) and, as one marker at its end, the
    total with what is still open (unrealised P&L exists only now, not along the curve)."""
    times = pd.to_datetime([c["ts"] for c in curve], unit="us", utc=True)
    eq = pd.Series([float(c["equity"]) for c in curve], dtype=float)
    fig = lines_figure(
        times, {"realised - fees": eq.to_numpy()}, title="Paper equity (quote ccy)",
        yaxis_title="P&L",
    )  # fmt: skip
    if len(eq):
        total = float(eq.iloc[-1]) + unrealised
        fig.add_trace(go.Scatter(x=[times[-1]], y=[total], mode="markers", name="with unrealised",
                                 marker={"size": 9, "symbol": "diamond"}))  # fmt: skip
    return fig


__all__ = ["equity_curve_figure", "fills_frame", "orders_frame", "positions_frame"]
