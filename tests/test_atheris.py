"""Coverage-guided fuzzing with atheris (libFuzzer) of the importer, rule parser and tick rows.

The harness (``atheris_harness.py``) runs in a child process, as libFuzzer exits the process when
it is done; it starts from seeds of every input kind, with a fixed seed so a run is repeatable.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris (a dev dependency) has wheels for Linux x86-64")

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures"
#: inputs tried (libFuzzer -runs)
ATHERIS_RUNS = 8000

_RULE = {
    "name": "wide",
    "condition": {"op": "and", "children": [
        {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m", "operator": ">=",
         "threshold": 2, "hysteresis": 0.5},
        {"metric": "price", "target": "BTCUSDT", "operator": "crosses_below", "threshold": 5e4}]},
    "cooldown_seconds": 60,
    "webhooks": [{"kind": "slack", "url": "https://hooks.example.com/x", "secret": "s"}],
}  # fmt: skip
_ROWS = [{"symbol": "BTCUSDT", "ts": "2024-08-08T12:00:00Z", "price": 61000.5, "size": 0.25,
          "is_buyer_maker": True, "trade_id": 5},
         {"symbol": "ethusdt", "ts": 1723118400000, "price": "2600.1", "size": 1}]  # fmt: skip


def _seeds(corpus: Path) -> int:
    """Write one seed per input kind: (target byte, file-name byte, content)."""
    agg = (FIX / "BTCUSDT-aggTrades-2024-01-01.csv").read_bytes()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BTCUSDT-aggTrades-2024-01-01.csv", agg)
    seeds = {
        "agg": b"\x00\x00" + agg,
        "agg.gz": b"\x00\x00" + gzip.compress(agg),
        "agg.zip": b"\x00\x00" + packed.getvalue(),
        "ws": b"\x00\x01" + (FIX / "hftbacktest_ws.txt").read_bytes()[:3000],
        "ndjson": b"\x00\x02" + (FIX / "seed_ticks.ndjson").read_bytes()[:3000],
        "klines": b"\x00\x03" + (FIX / "LINKUSDT-5m-2024-01.csv").read_bytes()[:3000],
        "csv": b"\x00\x02" + (FIX / "seed_ticks.csv").read_bytes()[:3000],
        "rule": b"\x01" + json.dumps(_RULE).encode(),
        "rows": b"\x02" + json.dumps(_ROWS).encode(),
    }
    for name, data in seeds.items():
        (corpus / name).write_bytes(data)
    return len(seeds)


def test_atheris_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    n_seeds = _seeds(corpus)
    cmd = [sys.executable, str(HERE / "atheris_harness.py"), f"-runs={ATHERIS_RUNS}", "-seed=7",
           "-max_len=4096", "-timeout=10", str(corpus)]  # fmt: skip
    res = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    log = res.stdout + res.stderr
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert res.returncode == 0 and not crashes, f"{crashes}\n{log[-4000:]}"
    done = re.search(r"Done (\d+) runs", log)
    assert done is not None and int(done.group(1)) == ATHERIS_RUNS, log[-2000:]
    assert len(list(corpus.iterdir())) > n_seeds  # coverage guidance found new inputs
