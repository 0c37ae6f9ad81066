"""The Book page's table: rows of ``GET /api/v1/book`` as a frame to show (pure, testable)."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

HEALTH_MARK = {"holding": "🟢 holding", "weakening": "🟠 weakening", "broken": "🔴 broken",
               "warming": "⚪ warming up"}  # fmt: skip
SIGNAL_MARK = {"long": "▲ long spread", "short": "▼ short spread", "flat": "· flat"}
SortKey = Literal["|z|", "p-value", "half-life", "drift", "health"]
SORT_KEYS: tuple[SortKey, ...] = ("|z|", "p-value", "half-life", "drift", "health")
_HEALTH_ORDER = {"broken": 0, "weakening": 1, "holding": 2, "warming": 3}
COLUMNS = ["id", "pair", "tf", "signal", "health", "z", "|z|", "zscores", "p-value", "half-life",
           "drift σ", "beta", "break-even z", "bars in signal", "why", "a", "b"]  # fmt: skip


def book_frame(rows: list[dict[str, Any]], sort: SortKey = "|z|") -> pd.DataFrame:
    """One line per pair, sorted (largest |z|, drift first; smallest p-value, half-life first)."""
    out = []
    for r in rows:
        a = r.get("analytics") or {}
        z = a.get("zscore")
        out.append({
            "id": r["id"], "pair": f"{r['a']}/{r['b']}", "tf": r["timeframe"],
            "signal": SIGNAL_MARK.get(a.get("signal", "flat"), "· flat"),
            "health": HEALTH_MARK.get(a.get("health", "warming"), "⚪ warming up"),
            "z": z, "|z|": None if z is None else abs(z),
            "zscores": [v if v is not None else float("nan") for v in r.get("zscores", [])],
            "p-value": a.get("coint_pvalue"), "half-life": a.get("half_life"),
            "drift σ": a.get("drift"), "beta": a.get("hedge_ratio"),
            "break-even z": a.get("break_even_z"), "bars in signal": a.get("signal_bars"),
            "why": ", ".join(a.get("reasons") or []), "a": r["a"], "b": r["b"],
            "_health": _HEALTH_ORDER.get(a.get("health", "warming"), 3),
        })  # fmt: skip
    frame = pd.DataFrame(out, columns=[*COLUMNS, "_health"])
    if frame.empty:
        return frame.drop(columns="_health")
    if sort == "health":
        frame = frame.sort_values(["_health", "|z|"], ascending=[True, False], na_position="last")
    else:
        col = {"|z|": "|z|", "p-value": "p-value", "half-life": "half-life", "drift": "drift σ"}
        key = col[sort]
        values = frame[key].abs() if key == "drift σ" else frame[key]
        ascending = sort in ("p-value", "half-life")
        frame = frame.assign(_k=values).sort_values("_k", ascending=ascending, na_position="last")
        frame = frame.drop(columns="_k")
    return frame.drop(columns="_health").reset_index(drop=True)


__all__ = ["SORT_KEYS", "book_frame"]
