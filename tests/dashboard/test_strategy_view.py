"""The strategy page (AppTest on a small real store) and its figure builders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter
from streamlit.testing.v1 import AppTest

from statarb.dashboard import strategy_figures
from statarb.dashboard.launch import APP
from statarb.model import BarBatch

VIEW = APP.parent / "views" / "strategy.py"
SYMS = ("AAAUSDT", "BBBUSDT", "CCCUSDT")
N = 1500
T0_US = 1_723_118_400_000_000


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from statarb.store import open_store

    url = f"sqlite:///{tmp_path_factory.mktemp('strategy') / 's.db'}"
    rng = np.random.default_rng(8)
    common = 100 + np.cumsum(rng.normal(0, 0.3, N))
    st_ = open_store(url)
    for i, sym in enumerate(SYMS):
        close = common * (1 + 0.1 * i) + lfilter([1.0], [1.0, -0.9], rng.normal(0, 0.3, N)) + 50
        t = T0_US + np.arange(N, dtype=np.int64) * 60_000_000
        one = np.ones(N)
        st_.write_bars(BarBatch(sym, "1m", t, close, close, close, close, one, close,
                                np.ones(N, dtype=np.int64), one))  # fmt: skip
    st_.close()
    return url


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_strategy_page(env: str) -> None:
    from statarb.backtest import BacktestConfig
    from statarb.backtest.ou_study import ou_study
    from statarb.history import load_aligned
    from statarb.store import open_store

    at = AppTest.from_file(str(VIEW), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="st_lb").set_value("all").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = _specs(at)[0]
    names = [t.get("name") for t in spec["data"]]
    assert "spread" in names and "z entry +2" in names
    store = open_store(env, read_only=True)
    frame = load_aligned(store, ["AAAUSDT", "BBBUSDT"], "1m").dropna()
    store.close()
    study = ou_study(frame.AAAUSDT, frame.BBBUSDT, config=BacktestConfig(exit=0.0))
    levels = sorted(s["y0"] for s in spec["layout"]["shapes"])
    np.testing.assert_allclose(levels, [study.bands.lower, study.fit.mu, study.bands.upper])
    # the guarded sweep: the best cell carries its deflated Sharpe
    at.button(key="st_sweep").click().run()
    assert not at.exception, [e.value for e in at.exception]
    heat = next(s for s in _specs(at) if s["data"][0]["type"] == "heatmap")
    assert "DSR" in heat["layout"]["annotations"][0]["text"]
    assert "PBO" in heat["layout"]["title"]["text"]
    # the book
    at.text_input(key="st_pairs").set_value("AAAUSDT/BBBUSDT, CCCUSDT/BBBUSDT")
    at.button(key="FormSubmitter:st_book-Run book").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("pairs" in str(t.value) and "trades" in str(t.value) for t in at.text)


def test_guarded_sweep_figure_marks_the_best_cell() -> None:
    table = pd.DataFrame(
        {
            "entry": [1.5, 1.5, 2.0, 2.0],
            "window": [30, 60, 30, 60],
            "sharpe": [0.1, 0.9, 0.3, 0.2],
            "dsr": [0.1, 0.6, 0.2, 0.15],
        }
    )
    best = table.iloc[1].to_dict()
    fig = strategy_figures.guarded_sweep_figure(table, x="window", y="entry", best=best, pbo=0.7)
    ann = fig.layout.annotations[0]
    assert (ann.x, ann.y) == ("60", "1.5") and "DSR 0.60" in ann.text
    assert "PBO 0.70" in fig.layout.title.text
