"""``statarb backtest-book`` and the OU / overfitting output of ``statarb backtest``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statarb.cli.main import build_app

SYMS = ("AVAXUSDT", "LINKUSDT", "NEARUSDT")


@pytest.fixture(scope="module")
def store_url(kline_store):
    return kline_store(SYMS, 3000)


def _run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_backtest_book_json(store_url, tmp_path):
    out = tmp_path / "book.csv"
    res = _run("backtest-book", "AVAXUSDT/LINKUSDT", "NEARUSDT/LINKUSDT", "--entry", "1.5",
               "--time-stop", "3", "--max-open", "1", "--json", "--trades", str(out),
               "--store", store_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["pairs"] == ["AVAXUSDT/LINKUSDT", "NEARUSDT/LINKUSDT"]
    assert body["metrics"]["max_open_pairs"] <= 1
    assert body["funding"] == {"charged": False}
    pnl = sum(r["pnl"] for r in body["pair_metrics"])
    assert pnl == pytest.approx(body["metrics"]["net_pnl"], abs=1e-6)
    assert out.exists()


def test_backtest_book_funding_reconciled(store_url, tmp_path):
    from statarb.backtest.funding import funding_times
    from statarb.store import open_store

    st = open_store(store_url, read_only=True)
    bars = st.read_bars("AVAXUSDT", "1m")
    st.close()
    lo, hi = int(bars.open_time[0]), int(bars.open_time[-1]) + 60_000_000
    due = funding_times(lo, hi) // 1000  # ms
    rows = ["symbol,fundingTime,fundingRate"]
    for sym in ("AVAXUSDT", "LINKUSDT"):
        for i, t in enumerate(due):
            if sym == "LINKUSDT" and i == 0:
                continue  # one LINK event missing
            rows.append(f"{sym},{t},0.0001")
    path = tmp_path / "funding.csv"
    path.write_text("\n".join(rows) + "\n")
    res = _run("backtest-book", "AVAXUSDT/LINKUSDT", "--funding", str(path), "--store", store_url)
    assert res.exit_code == 0, res.output
    assert "missing" in res.stdout and "FLAGGED" in res.stdout
    path.write_text("symbol,fundingTime,fundingRate\nAVAXUSDT,notatime,0.1\n")
    res = _run("backtest-book", "AVAXUSDT/LINKUSDT", "--funding", str(path), "--store", store_url)
    assert res.exit_code == 2 and "funding.csv:2" in res.output


def test_backtest_book_bad_options(store_url):
    res = _run("backtest-book", "AVAXUSDT/AVAXUSDT", "--store", store_url)
    assert res.exit_code == 2 and "two different symbols" in res.output
    res = _run("backtest-book", "AVAXUSDT/LINKUSDT", "--sizing", "kelly", "--store", store_url)
    assert res.exit_code == 2 and "--sizing" in res.output


def test_backtest_shows_ou_and_sweep_guards(store_url):
    res = _run("backtest", "AVAXUSDT", "LINKUSDT", "--sweep-entry", "1.5,2,2.5",
               "--sweep-window", "30,60", "--json", "--store", store_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["sweep"]["overfit"]["n_configs"] == 6
    assert 0 <= body["sweep"]["overfit"]["dsr"]["dsr"] <= 1
    assert body["sweep"]["overfit"]["pbo"] is not None
    assert body["funding"] == {"charged": False}
    ou = body["ou"]
    assert ou["fit"]["half_life"] > 0 and ou["bands"]["lower"] < ou["bands"]["upper"]
    text = _run("backtest", "AVAXUSDT", "LINKUSDT", "--sweep-entry", "1.5,2", "--store", store_url)
    assert text.exit_code == 0, text.output
    for word in ("OU theta", "optimal bands", "deflated Sharpe", "PBO", "2 configurations"):
        assert word in text.stdout
    assert np.isfinite(ou["bands"]["entry_z"])


def test_backtest_charges_funding_and_reconciles_it(store_url, tmp_path):
    from statarb.backtest.funding import funding_times
    from statarb.store import open_store

    st = open_store(store_url, read_only=True)
    bars = st.read_bars("AVAXUSDT", "1m")
    st.close()
    due = funding_times(int(bars.open_time[0]), int(bars.open_time[-1]) + 60_000_000) // 1000
    rows = ["symbol,fundingTime,fundingRate"]
    rows += [f"{s},{t},0.0005" for s in ("AVAXUSDT", "LINKUSDT") for t in due]
    path = tmp_path / "funding.csv"
    path.write_text("\n".join(rows) + "\n")
    res = _run("backtest", "AVAXUSDT", "LINKUSDT", "--entry", "1.5", "--funding", str(path),
               "--json", "--store", store_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["funding"]["missing"] == 0 and not body["funding"]["flagged"]
    assert body["funding"]["found"] == 2 * len(due)
    assert body["metrics"]["funding"] != 0.0
