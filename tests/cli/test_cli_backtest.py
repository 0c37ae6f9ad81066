import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from statarb.backtest import BacktestConfig, run_backtest
from statarb.cli.main import build_app
from statarb.store import open_store


@pytest.fixture(scope="module")
def store_url(kline_store):
    return kline_store(("AVAXUSDT", "LINKUSDT"), 5000)


def test_backtest_json_and_trade_log(store_url, tmp_path):
    out = tmp_path / "trades.csv"
    res = CliRunner().invoke(
        build_app(),
        [
            "backtest",
            "AVAXUSDT",
            "LINKUSDT",
            "--tf",
            "1m",
            "--method",
            "kalman",
            "--entry",
            "2",
            "--json",
            "--trades",
            str(out),
            "--store",
            store_url,
        ],
    )
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    st = open_store(store_url, read_only=True)
    y = st.read_bars("AVAXUSDT", "1m").close
    x = st.read_bars("LINKUSDT", "1m").close
    ref = run_backtest(y, x, config=BacktestConfig(method="kalman"))
    assert body["metrics"]["trades"] == ref.metrics["trades"] > 0
    assert body["metrics"]["sharpe"] == pytest.approx(ref.metrics["sharpe"])
    log = pd.read_csv(out)
    for col in (
        "entry_time",
        "exit_time",
        "side",
        "hedge_ratio",
        "entry_z",
        "exit_z",
        "pnl_gross",
        "costs",
        "pnl_net",
    ):
        assert col in log
    assert log.entry_time.iloc[0].endswith("Z") and len(log) == body["metrics"]["trades"]


def test_backtest_text_and_errors(store_url):
    app = build_app()
    ok = CliRunner().invoke(
        app, ["backtest", "AVAXUSDT", "LINKUSDT", "--tf", "5m", "--store", store_url]
    )
    assert ok.exit_code == 0 and "sharpe" in ok.stdout
    bad = CliRunner().invoke(
        app, ["backtest", "AVAXUSDT", "LINKUSDT", "--exit", "3", "--store", store_url]
    )
    assert bad.exit_code == 2 and "exit" in bad.output
    bad = CliRunner().invoke(
        app, ["backtest", "AVAXUSDT", "LINKUSDT", "--method", "x", "--store", store_url]
    )
    assert bad.exit_code == 2
