"""``kill -9`` of a running ingest process during heavy ingest, then a restart: nothing lost.

A real ``statarb stream`` / ``statarb serve`` subprocess streams the packaged sample from a
local replay server into SQLite. It is killed with SIGKILL mid-stream; the store must then open
cleanly, pass ``PRAGMA integrity_check`` and hold, per symbol, a prefix of the source trades
without duplicates. A restarted process resumes from the last stored trade id, backfills what
was missed over REST and the final store equals the source (trades and closed 1m bars).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from _live_helpers import served_trades
from _ports import free_port
from statarb.bars import resample
from statarb.model import TickBatch
from statarb.sample import files as sample_files
from statarb.store import open_store
from statarb.venue.server import ReplayServer

pytestmark = pytest.mark.slow

SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: replay speed: the ~6 min sample in ~4 s, about 14k frames/s with book tickers
SPEED = 80.0


def _source() -> dict[str, TickBatch]:
    return served_trades(sample_files())  # the venue serves raw trades aggregated, like Binance


class _Child:
    """One ``statarb`` subprocess with its output in a file."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    async def stop(self, sig: int, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the exit (SIGKILL after ``timeout``); the exit code."""
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(
                f"no exit {timeout} s after signal {sig}:\n{self.tail()}"
            ) from None


async def _start(args: list[str], env: dict[str, str], log: Path) -> _Child:
    fh = log.open("ab")
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "statarb.cli.main", *args, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=fh, stderr=fh,
        )  # fmt: skip
    finally:
        fh.close()
    return _Child(proc, log)


def _counts(db: Path) -> dict[str, int]:
    """Stored ticks per symbol, read as another process would (0 before the schema exists)."""
    if not db.exists():
        return {}
    try:
        con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT s.name, count(*) FROM ticks t JOIN symbols s ON s.id = t.symbol_id "
                "GROUP BY s.name"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet
        return {}
    return {name: int(n) for name, n in rows}


async def _until(
    cond: Callable[[dict[str, int]], bool], db: Path, child: _Child, timeout: float
) -> dict[str, int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        counts = await asyncio.to_thread(_counts, db)
        if cond(counts):
            return counts
        if child.proc.returncode is not None:
            raise AssertionError(f"statarb exited ({child.proc.returncode}):\n{child.tail()}")
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out at {await asyncio.to_thread(_counts, db)}:\n{child.tail()}")


def _check_store(db: Path, source: dict[str, TickBatch], *, complete: bool) -> dict[str, int]:
    """Integrity, per-symbol id prefixes without duplicates; stored counts per symbol."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    store = open_store(f"sqlite:///{db}")  # opens and migrates cleanly after the crash
    try:
        stats = {i.symbol: i.ticks for i in store.symbols()}
        out = {}
        for sym, src in source.items():
            got = store.read_ticks(sym)
            ids = np.sort(got.trade_id)
            assert len(np.unique(ids)) == len(ids), f"{sym}: duplicate trade ids"
            np.testing.assert_array_equal(ids, src.trade_id[: len(ids)], err_msg=f"{sym} prefix")
            order = np.argsort(got.trade_id)
            np.testing.assert_array_equal(got.price[order], src.price[: len(ids)])
            np.testing.assert_array_equal(got.size[order], src.size[: len(ids)])
            np.testing.assert_array_equal(got.ts[order], src.ts[: len(ids)])
            assert stats.get(sym, 0) == len(ids), f"{sym}: symbol_stats disagrees with the table"
            if complete:
                assert len(ids) == len(src), f"{sym}: {len(ids)} of {len(src)} stored"
                closed = resample(src, "1m").take(slice(0, -1))  # the last bar never closes
                bars = store.read_bars(sym, "1m")
                np.testing.assert_array_equal(bars.open_time, closed.open_time)
                for col in ("open", "high", "low", "close", "volume", "trades"):
                    np.testing.assert_allclose(
                        getattr(bars, col), getattr(closed, col), err_msg=f"{sym} 1m {col}"
                    )
            out[sym] = len(ids)
        return out
    finally:
        store.close()


def _command(kind: str) -> list[str]:
    if kind == "stream":
        return ["stream", *SYMBOLS, "--book"]
    return ["serve", "--port", str(free_port()), "--symbols", ",".join(SYMBOLS)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["stream", "serve"])
async def test_kill_9_during_ingest_then_restart(tmp_path: Path, kind: str) -> None:
    source = _source()
    total = sum(len(b) for b in source.values())
    db = tmp_path / "kill.db"
    log = tmp_path / "statarb.log"
    async with ReplayServer(sample_files(), clock="original", speed=SPEED) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STATARB_")}
        env.update(STATARB_BINANCE_WS_URL=srv.ws_url, STATARB_BINANCE_REST_URL=srv.rest_url,
                   STATARB_STORE_URL=f"sqlite:///{db}", STATARB_TIMEFRAMES="1m",
                   STATARB_FLUSH_INTERVAL="0.05", STATARB_LOG_LEVEL="WARNING")  # fmt: skip
        first = await _start(_command(kind), env, log)
        try:
            await _until(lambda c: sum(c.values()) >= total // 4, db, first, 60)
        finally:
            code = await first.stop(signal.SIGKILL)
        assert code == -signal.SIGKILL
        after_kill = _check_store(db, source, complete=False)
        assert 0 < sum(after_kill.values()) < total, after_kill

        second = await _start(_command(kind), env, log)
        try:
            await _until(lambda c: sum(c.values()) >= total, db, second, 60)
        finally:
            code = await second.stop(signal.SIGINT)
        assert code == 0, second.tail()
        final = _check_store(db, source, complete=True)
        assert final == {s: len(b) for s, b in source.items()}
