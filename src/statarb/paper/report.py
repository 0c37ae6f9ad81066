"""P&L figures of the paper book from positions and fills (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SUMS = ("realised", "unrealised", "fees", "slippage", "funding", "pnl")


def pnl_report(
    positions: Iterable[dict[str, Any]], fills: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """Per-pair P&L, totals and the realised equity curve.

    Parameters
    ----------
    positions
        Position views (:meth:`statarb.paper.PaperPosition.view` with ``pair_id``).
    fills
        Fill rows in any order; the curve is the running sum of ``realised - fee`` in time
        order (the P&L booked by those fills, not counting what is still open).

    Returns
    -------
    dict
        ``pairs`` (one row per position), ``total`` (sums of ``realised``, ``unrealised``,
        ``fees``, ``slippage``, ``funding``, ``pnl`` and ``trades``) and ``curve``
        (``[{"ts", "pair_id", "equity"}]``).

    Examples
    --------
    >>> pnl_report([], [{"ts": 2, "pair_id": 1, "realised": 5.0, "fee": 0.5},
    ...                 {"ts": 1, "pair_id": 1, "realised": 0.0, "fee": 0.25}])["curve"]
    [{'ts': 1, 'pair_id': 1, 'equity': -0.25}, {'ts': 2, 'pair_id': 1, 'equity': 4.25}]
    """
    rows = []
    total: dict[str, Any] = dict.fromkeys(_SUMS, 0.0)
    total["trades"] = 0
    for p in positions:
        row = {"pair_id": p["pair_id"], "a": p.get("a"), "b": p.get("b"),
               **{k: p.get(k) or 0.0 for k in _SUMS}, "trades": p.get("trades", 0)}  # fmt: skip
        rows.append(row)
        for k in _SUMS:
            total[k] += row[k]
        total["trades"] += row["trades"]
    curve = []
    equity = 0.0
    for f in sorted(fills, key=lambda f: (f["ts"], f.get("fill_id", ""))):
        equity += f["realised"] - f["fee"]
        curve.append({"ts": f["ts"], "pair_id": f["pair_id"], "equity": equity})
    return {"pairs": rows, "total": total, "curve": curve}


__all__ = ["pnl_report"]
