"""The Paper view against a real engine (start and stop a strategy) and its pure tables."""

from __future__ import annotations

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from statarb.dashboard.launch import APP
from statarb.dashboard.paper import (
    equity_curve_figure,
    fills_frame,
    orders_frame,
    positions_frame,
)

TOKEN = "dashboard-test-token"


def _view() -> AppTest:
    """The Paper page through the app's navigation (its page links need it)."""
    at = _ok(AppTest.from_file(str(APP), default_timeout=60).run())
    return _ok(at.switch_page("views/paper.py").run())


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _fill(i: int, ts: int, realised: float, fee: float) -> dict:
    return {"fill_id": f"f{i}", "client_id": f"c{i}", "pair_id": 1, "symbol": "AUSDT",
            "leg": "y", "side": 1 if i % 2 else -1, "qty": 0.5, "price": 100.0 + i,
            "base": 100.0 + i, "fee": fee, "realised": realised, "ts": ts, "source": "quote",
            "assumed_spread": False}  # fmt: skip


def test_tables_and_equity_curve() -> None:
    legs = {1: "AUSDT/BUSDT 1m"}
    fills = fills_frame([_fill(1, 1_000_000, 0.0, 0.1), _fill(2, 2_000_000, 5.0, 0.1)], legs)
    assert fills["fill id"].tolist() == ["f2", "f1"]  # newest first
    assert fills.loc[0, "pair"] == "AUSDT/BUSDT 1m" and fills.loc[0, "side"] == "sell"
    assert str(fills.loc[0, "time"]) == "1970-01-01 00:00:02+00:00"
    order = {"client_id": "pa1-0-oy0", "pair_id": 9, "symbol": "AUSDT", "leg": "y", "side": 1,
             "qty": 1.0, "purpose": "open", "attempt": 0, "status": "working", "sent": 0,
             "ref_price": 99.0}  # fmt: skip
    assert orders_frame([order], legs).loc[0, "pair"] == "9"  # a pair no longer in the book
    pos = [{"a": "AUSDT", "b": "BUSDT", "timeframe": "1m", "status": s, "side": side,
            "qty_y": 1.0, "qty_x": -1.0, "pnl": 2.0, "entry_ts": None}
           for s, side in (("flat", 0), ("open", -1))]  # fmt: skip
    frame = positions_frame(pos)
    assert (
        frame["status"].tolist() == ["open", "flat"] and frame.iloc[0]["side"] == "▼ short spread"
    )
    assert positions_frame([]).empty and fills_frame([], legs).empty
    fig = equity_curve_figure([{"ts": 1_000_000, "pair_id": 1, "equity": -0.1},
                               {"ts": 2_000_000, "pair_id": 1, "equity": 4.8}], 1.2)  # fmt: skip
    assert list(fig.data[0].y) == [-0.1, 4.8]
    assert list(fig.data[1].y) == pytest.approx([6.0])  # with what is still open, at the end


@pytest.mark.slow
def test_start_and_stop_through_the_view(engine: str) -> None:
    at = _view()
    assert any("The book is empty" in i.value for i in at.info)
    body = {"a": "BTCUSDT", "b": "ETHUSDT", "timeframe": "1m", "settings": {}}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    pid = httpx.post(f"{engine}/api/v1/book", json=body, headers=auth).json()["id"]
    at = _view()
    at.number_input(key="pp_entry").set_value(2.5)
    at.number_input(key="pp_notional").set_value(5000.0)
    _ok(at.button(key="pp_go").click().run())
    assert any("paper trading BTCUSDT/ETHUSDT 1m" in s.value for s in at.success)
    (row,) = httpx.get(f"{engine}/api/v1/paper/status").json()["strategies"]
    assert row["pair_id"] == pid and row["settings"]["entry"] == 2.5
    assert row["settings"]["notional"] == 5000.0 and row["settings"]["stop"] is None
    at = _view()
    positions = at.dataframe[0].value  # positions, orders, fills
    assert positions["pair"].tolist() == ["BTCUSDT/ETHUSDT"]
    assert positions["status"].tolist() == ["flat"]
    assert any("No fill yet" in c.value for c in at.caption)
    _ok(at.button(key="pp_stop_go").click().run())
    assert any("stopped" in s.value for s in at.success)
    after = httpx.get(f"{engine}/api/v1/paper/status").json()["strategies"]
    assert all(not s.get("active", True) for s in after) or after == []
