"""The Book view against a real engine: add a pair, see it ranked, remove it; the table builder."""

from __future__ import annotations

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from statarb.dashboard.book import book_frame
from statarb.dashboard.launch import APP

VIEW = APP.parent / "views" / "book.py"


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _row(pid: int, z: float | None, p: float | None, hl: float | None, health: str) -> dict:
    analytics = None
    if z is not None:
        analytics = {"zscore": z, "coint_pvalue": p, "half_life": hl, "drift": -z,
                     "hedge_ratio": 1.5, "signal": "short" if z > 2 else "flat",
                     "health": health, "reasons": ["cusum"] if health == "broken" else [],
                     "signal_bars": 3, "break_even_z": 0.4}  # fmt: skip
    return {"id": pid, "a": f"A{pid}", "b": "BUSDT", "timeframe": "1m", "settings": {},
            "analytics": analytics, "zscores": [0.1, None, z]}  # fmt: skip


def test_book_frame_sorts_and_marks() -> None:
    rows = [_row(1, 0.5, 0.01, 30.0, "holding"), _row(2, -3.0, 0.2, 10.0, "broken"),
            _row(3, None, None, None, "warming")]  # fmt: skip
    assert book_frame(rows)["id"].tolist() == [2, 1, 3]
    assert book_frame(rows, "p-value")["id"].tolist() == [1, 2, 3]
    assert book_frame(rows, "half-life")["id"].tolist() == [2, 1, 3]
    assert book_frame(rows, "health")["id"].tolist() == [2, 1, 3]
    f = book_frame(rows)
    assert f.loc[0, "health"] == "🔴 broken" and f.loc[0, "why"] == "cusum"
    assert f.loc[2, "health"] == "⚪ warming up" and f.loc[0, "signal"] == "· flat"
    assert book_frame([]).empty


@pytest.mark.slow
def test_add_rank_and_remove_through_the_view(engine: str) -> None:
    at = _ok(AppTest.from_file(str(VIEW), default_timeout=60).run())
    assert any("The book is empty" in i.value for i in at.info)
    at.text_input(key="bk_a").set_value("btcusdt")
    at.text_input(key="bk_b").set_value("ETHUSDT")
    at.number_input(key="bk_window").set_value(240)
    _ok(at.button(key="bk_submit").click().run())
    assert any("BTCUSDT/ETHUSDT 1m is in the book" in s.value for s in at.success)
    (row,) = httpx.get(f"{engine}/api/v1/book").json()
    assert row["settings"]["window"] == 240
    table = at.dataframe(key="bk_table").value
    assert table["pair"].tolist() == ["BTCUSDT/ETHUSDT"] and table["health"][0] == "⚪ warming up"
    _ok(at.button(key="bk_rm_go").click().run())
    assert httpx.get(f"{engine}/api/v1/book").json() == []
