"""Parity of the paper trader (replay venue -> engine) and the backtester, trade by trade."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from statarb.engine._book import tracker_settings
from statarb.engine.parity import paper_replay, parity_report, run_parity
from statarb.errors import InputError
from statarb.paper import paper_settings
from statarb.paper.parity import compare, pair_bars, paper_trades, trade_table
from statarb.venue._data import load_recording

T0_MS = 1_723_161_600_000
TRACKER = {"window": 30, "z_window": 20, "coint_window": 60, "drift_bars": 5}
PAPER = {"entry": 1.5, "exit": 0.0}


def write_synthetic(path: Path, *, seconds: int = 240, seed: int = 7) -> Path:
    """A cointegrated pair AAAUSDT = 1.5 BBBUSDT + 20 + OU as recorded Binance frames.

    Three quote-then-trade events a second per symbol; a trade hits the bid or the ask of the
    quote just before it (spread two ticks of 0.01).
    """
    rng = np.random.default_rng(seed)
    n = seconds * 3
    x = 1000.0 + np.cumsum(rng.normal(0, 0.3, n))
    s = np.zeros(n)
    for i in range(1, n):
        s[i] = 0.85 * s[i - 1] + rng.normal(0, 0.6)
    y = 1.5 * x + 20 + s
    lines: list[tuple[int, str]] = []
    tid = {"AAAUSDT": 100, "BBBUSDT": 500}
    uid = 1
    for i in range(n):
        for sym, mids, lag in (("AAAUSDT", y, 0), ("BBBUSDT", x, 40)):
            t = T0_MS + (i // 3) * 1000 + (i % 3) * 300 + 50 + lag
            mid = round(float(mids[i]), 2)
            bid, ask = mid - 0.01, mid + 0.01
            low = sym.lower()
            q = {
                "e": "bookTicker",
                "u": uid,
                "s": sym,
                "b": f"{bid:.2f}",
                "B": "1.000",
                "a": f"{ask:.2f}",
                "A": "1.000",
                "T": t,
                "E": t,
            }
            buy = bool(rng.random() < 0.5)
            tr = {
                "e": "trade",
                "E": t + 1,
                "T": t + 1,
                "s": sym,
                "t": tid[sym],
                "p": f"{ask if buy else bid:.2f}",
                "q": "0.500",
                "X": "MARKET",
                "m": not buy,
            }
            uid += 1
            tid[sym] += 1
            lines.append((t, json.dumps({"stream": f"{low}@bookTicker", "data": q})))
            lines.append((t + 1, json.dumps({"stream": f"{low}@trade", "data": tr})))
    lines.sort(key=lambda r: r[0])
    with gzip.open(path, "wt") as fh:
        for t, line in lines:
            fh.write(f"{t * 1_000_000} {line}\n")
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One paper run over the synthetic recording (the engine, the venue, a real store)."""
    tmp = tmp_path_factory.mktemp("parity")
    rec_path = write_synthetic(tmp / "pair.gz")
    ps = paper_settings(PAPER).to_dict()
    run = asyncio.run(
        paper_replay(
            [rec_path], "AAAUSDT", "BBBUSDT", "1s", TRACKER, ps, f"sqlite:///{tmp / 'paper.db'}"
        )
    )
    ts = tracker_settings(TRACKER).to_dict()
    ts.pop("thresholds")
    return {
        "rec": load_recording([rec_path]),
        "run": run,
        "tracker": ts,
        "paper": ps,
        "path": rec_path,
    }


def _report(syn: dict[str, Any], fills: list[dict[str, Any]]) -> Any:
    last = int(syn["run"]["strategy"]["position"]["last_bar"])
    return parity_report(
        syn["rec"],
        fills,
        last,
        a="AAAUSDT",
        b="BBBUSDT",
        timeframe="1s",
        tracker=syn["tracker"],
        paper=syn["paper"],
    )


def test_a_synthetic_cointegrated_pair_trades_identically(synthetic: dict[str, Any]) -> None:
    report = _report(synthetic, synthetic["run"]["fills"])
    assert report.passed, "\n".join(trade_table(report))
    assert len(report.trades) >= 8 and report.signals_identical_pct == 100.0
    assert report.fills and all(c.source == "quote" and c.within for c in report.fills)
    # the fill rule explains every difference: a buy pays the ask, a sell gets the bid (the
    # spread term is the quote's half-spread), the slippage is the configured 1 bps
    for c in report.fills:
        assert c.spread_bps == pytest.approx(c.half_spread_bps, rel=1e-6)
        assert c.slippage_bps == pytest.approx(1.0, rel=1e-9)
        # the next trade sits at the bid or the ask of the same quote: 0 or the full spread
        assert min(abs(c.diff_bps), abs(c.diff_bps - 2 * c.half_spread_bps)) < 1e-4
    out = report.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["passed"] is True and len(out["fills"]) == len(report.fills)


def test_a_moved_signal_or_price_fails_parity(synthetic: dict[str, Any]) -> None:
    fills = synthetic["run"]["fills"]
    first = paper_trades(fills)[1].fills[("entry", "y")]
    worse = [dict(f, price=f["price"] * (1 + f["side"] * 5e-4)) if f is first else f for f in fills]
    bad = _report(synthetic, worse)
    assert not bad.passed and bad.signals_identical_pct == 100.0
    assert [c.trade for c in bad.fills if not c.within] == [1]
    late = str(first["client_id"]).split("-")
    shifted = str(int(late[1]) + 1_000_000)
    moved = [
        dict(f, client_id="-".join([late[0], shifted, f["client_id"].split("-")[2]]))
        if f["client_id"].split("-")[1] == late[1]
        else f
        for f in fills
    ]
    off = _report(synthetic, moved)
    assert not off.passed and off.trades[1].status == "mismatch"
    assert off.signals_identical_pct < 100.0


def test_pair_bars_fill_each_leg_at_its_next_own_bar() -> None:
    from statarb.model import TickBatch

    s = 1_000_000
    ya = TickBatch(
        "Y", np.array([0, s, 2 * s + 5, 3 * s]), np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4)
    )
    xb = TickBatch("X", np.array([10, s + 10, 3 * s + 10]), np.array([5.0, 6.0, 7.0]), np.ones(3))
    bars = pair_bars(ya, xb, "1s")
    assert bars.time.tolist() == [0, s, 3 * s]  # Y's bar at 2 s has no X bar: the book skips it
    assert bars.fill_y.tolist() == [1.0, 2.0, 3.0]  # Y's first bar after the 1 s close is 2 s
    assert bars.fill_x.tolist() == [5.0, 6.0, 7.0]
    assert len(bars.until(s)) == 2


def test_the_cli_reports_parity_on_a_recording(synthetic: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from statarb.cli.main import build_app

    res = CliRunner().invoke(build_app(), ["paper", "parity", str(synthetic["path"]), "--json"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.output)
    assert body["passed"] and body["signals_identical_pct"] == 100.0
    assert body["meta"]["a"] == "AAAUSDT" and body["meta"]["paper_counts"]["fills"] > 0
    res = CliRunner().invoke(build_app(), ["paper", "parity", "/nonexistent.gz"])
    assert res.exit_code == 2 and "no such recording" in res.output
    res = CliRunner().invoke(build_app(), ["paper", "parity", str(synthetic["path"]), "--a", "X"])
    assert res.exit_code == 2 and "no trades of ['X']" in res.output


@pytest.mark.slow
def test_the_real_btc_eth_recording_trades_identically(shared_data: Path) -> None:
    real = shared_data / "binance-usdm-recorded"
    files = [real / "btcusdt_20240718.gz", real / "ethusdt_20240718.gz"]
    report = run_parity(files, timeframe="1s", tracker=TRACKER, paper=PAPER)
    assert report.passed, "\n".join(trade_table(report))
    assert report.trades and report.signals_identical_pct == 100.0
    assert all(c.source == "quote" for c in report.fills)
    assert report.diff_max_bps <= max(c.bound_bps for c in report.fills)


def test_compare_counts_a_trade_the_paper_trader_missed(synthetic: dict[str, Any]) -> None:
    fills = [
        f
        for f in synthetic["run"]["fills"]
        if not str(f["client_id"]).startswith(_cid_prefix(synthetic, -1))
    ]
    report = _report(synthetic, fills)
    assert report.trades[-1].status == "backtest only" and not report.passed
    assert dataclasses.asdict(report.trades[-1])["entry_paper"] is None
    assert callable(compare)


def _cid_prefix(syn: dict[str, Any], k: int) -> str:
    trade = paper_trades(syn["run"]["fills"])[k]
    return f"pa{syn['run']['pair_id']}-{trade.entry}-"


@pytest.mark.slow
def test_the_shipped_sample_trades_identically(tmp_path: Path) -> None:
    """The packaged BTCUSDT/ETHUSDT recording, its first two minutes (real frames, unchanged)."""
    from statarb import sample

    cut = []
    for src in sample.files():
        with gzip.open(src, "rt") as fh:
            lines = fh.readlines()
        start = int(lines[0].split(" ", 1)[0])
        keep = [ln for ln in lines if int(ln.split(" ", 1)[0]) < start + 120 * 10**9]
        dst = tmp_path / src.name
        with gzip.open(dst, "wt") as out:
            out.writelines(keep)
        cut.append(dst)
    report = run_parity(cut, timeframe="1s", tracker=TRACKER, paper=PAPER)
    assert report.passed, "\n".join(trade_table(report))
    assert len(report.trades) >= 3 and report.signals_identical_pct == 100.0
    assert all(c.source == "quote" and c.within for c in report.fills)


def test_backtest_config_mirrors_the_book_and_the_strategy() -> None:
    from statarb.paper.parity import backtest_config

    ts = tracker_settings({"window": 40, "z_window": 25}).to_dict()
    ps = paper_settings(
        {
            "entry": 1.2,
            "exit": 0.1,
            "stop": 3.0,
            "time_stop": 1.5,
            "max_hold": 9,
            "notional": 500.0,
            "slippage_bps": 2.0,
        }
    ).to_dict()
    cfg = backtest_config(ts, ps, 1.0)
    assert (cfg.hedge_window, cfg.window, cfg.half_life_window) == (40, 25, 40)
    assert (cfg.entry, cfg.exit, cfg.stop, cfg.max_hold, cfg.time_stop) == (1.2, 0.1, 3.0, 9, 1.5)
    assert (cfg.capital, cfg.slippage_bps, cfg.sizing, cfg.method) == (
        500.0,
        2.0,
        "fixed",
        "rolling-ols",
    )
    with pytest.raises(InputError, match="rolling-ols"):
        backtest_config({**ts, "method": "kalman"}, ps, 1.0)
