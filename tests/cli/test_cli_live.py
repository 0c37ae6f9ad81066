"""``statarb replay`` and ``statarb stream`` as real processes talking to each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from statarb.errors import StoreError
from statarb.store import open_store

STATARB = [sys.executable, "-m", "statarb.cli.main"]


def _recording(path: Path, n: int = 300) -> Path:
    lines = []
    for i in range(n):
        for k, s in enumerate(("AAAUSDT", "BBBUSDT")):
            d = {"e": "aggTrade", "E": 1_700_000_000_000 + i * 20 + k, "a": 500 + i, "s": s,
                 "p": f"{10 + k + i % 5 * 0.5}", "q": "1.5", "f": i, "l": i,
                 "T": 1_700_000_000_000 + i * 20 + k, "m": i % 2 == 1}  # fmt: skip
            lines.append(orjson.dumps({"stream": f"{s.lower()}@aggTrade", "data": d}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _stored(db: Path, symbols: tuple[str, ...]) -> int:
    """Ticks stored for ``symbols`` so far (0 while the store does not exist yet)."""
    if not db.exists():
        return 0
    try:
        store = open_store(f"sqlite:///{db}", read_only=True)
    except StoreError:  # the stream has created the file but not migrated it yet
        return 0
    try:
        return sum(len(store.read_ticks(s)) for s in symbols)
    finally:
        store.close()


def _stream_until_stored(
    args: list[str], env: dict[str, str], db: Path, symbols: tuple[str, ...], want: int
) -> subprocess.CompletedProcess[str]:
    """Run ``statarb stream``, wait until ``want`` ticks are stored, stop it with Ctrl-C."""
    proc = subprocess.Popen([*STATARB, "stream", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 180  # a safety net only: the loop ends on the count
    while _stored(db, symbols) < want:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"only {_stored(db, symbols)} of {want} ticks stored"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_replay_then_stream_into_the_store(tmp_path: Path) -> None:
    rec = _recording(tmp_path / "rec.jsonl")
    server = subprocess.Popen(
        [*STATARB, "replay", str(rec), "--port", "0", "--speed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        urls = server.stdout.readline().split()
        assert banner.startswith("replaying 600 events of AAAUSDT, BBBUSDT on port ")
        env = dict(os.environ, **dict(u.split("=", 1) for u in urls))
        assert env["STATARB_BINANCE_WS_URL"].startswith("ws://127.0.0.1:")
        env["STATARB_STORE_URL"] = f"sqlite:///{tmp_path / 'live.db'}"
        out = _stream_until_stored(["aaausdt", "BBBUSDT"], env, tmp_path / "live.db",
                                   ("AAAUSDT", "BBBUSDT"), 600)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "msg/s" in out.stderr and "ticks=600" in out.stdout
    finally:
        server.terminate()
        server.wait(10)
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        for sym in ("AAAUSDT", "BBBUSDT"):
            assert store.read_ticks(sym).trade_id.tolist() == list(range(500, 800))
    finally:
        store.close()


def test_stream_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    rec = _recording(tmp_path / "rec.jsonl")
    server = subprocess.Popen(
        [*STATARB, "replay", str(rec), "--port", "0", "--speed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        server.stdout.readline()
        env = dict(os.environ, **dict(u.split("=", 1) for u in server.stdout.readline().split()))
        env["STATARB_STORE_URL"] = f"sqlite:///{tmp_path / 'live.db'}"
        out = _stream_until_stored(["AAAUSDT"], env, tmp_path / "live.db", ("AAAUSDT",), 300)
        assert out.returncode == 0, out.stderr
        assert "ticks=300" in out.stdout
    finally:
        server.terminate()
        server.wait(10)
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    try:
        assert store.read_ticks("AAAUSDT").trade_id.tolist() == list(range(500, 800))
    finally:
        store.close()


def test_stream_that_never_connects_exits_non_zero(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = dict(os.environ, STATARB_BINANCE_WS_URL=f"ws://127.0.0.1:{dead}",
               STATARB_BINANCE_REST_URL=f"http://127.0.0.1:{dead}",
               STATARB_STORE_URL=f"sqlite:///{tmp_path / 'dead.db'}")  # fmt: skip
    out = subprocess.run([*STATARB, "stream", "btcusdt", "--seconds", "2"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 3, (out.returncode, out.stderr)
    assert f"never connected to ws://127.0.0.1:{dead}" in out.stderr
