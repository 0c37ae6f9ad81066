"""Dashboard tables: units (percent, bps) and rows for symbols with too few bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from statarb.analytics.rolling import price_summary
from statarb.dashboard.tables import pair_stats_table, price_stats_row, price_stats_table


def test_price_stats_in_percent_and_bps() -> None:
    close = np.array([100.0, 101.0, 99.0, 102.0, 103.5])
    row = price_stats_row("AAAUSDT", close)
    ref = price_summary(close)
    assert row["change (%)"] == pytest.approx(ref.change_pct)  # already in percent
    assert row["mean return per bar (bps)"] == pytest.approx(ref.return_mean * 1e4)
    assert row["return std per bar (bps)"] == pytest.approx(ref.return_std * 1e4)
    assert row["bars"] == 5 and row["note"] == ""


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_bars_give_a_note_not_an_error(n: int) -> None:
    table = price_stats_table({"AAAUSDT": pd.DataFrame({"close": np.full(n, 5.0)})})
    assert table.loc[0, "bars"] == n and "need at least 2" in table.loc[0, "note"]
    assert np.isnan(table.loc[0, "change (%)"])


def test_pair_stats_volatility_in_percent() -> None:
    rows = pair_stats_table({"vol_a": 0.45, "eg_pvalue": 0.0266, "adf_verdict": "stationary",
                             "half_life": float("nan")}, a="A", b="B")  # fmt: skip
    got = dict(zip(rows["statistic"], rows["value"], strict=True))
    assert got["volatility A (annualized, %)"] == "45"
    assert got["Engle-Granger p-value (y on x)"] == "0.0266"
    assert got["adf verdict"] == "stationary" and got["half-life (bars)"] == "-"
