"""Coverage-guided fuzzing (atheris, libFuzzer) of the three input parsers; run by test_atheris.py.

Usage: ``python atheris_harness.py -runs=N -seed=S CORPUS_DIR`` (any libFuzzer option works).
The first byte of an input picks the target: the file importer (the rest is a file's bytes), the
alert-rule parser or the REST tick rows (the rest is JSON text). Only :class:`StatarbError` may
leave a target; any other exception, or a bad tick accepted, is a crash that libFuzzer reports
with a non-zero exit and the input that caused it.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["statarb"]):
    from statarb.alerts.rules import parse_rule
    from statarb.api.schemas import parse_tick_rows
    from statarb.errors import StatarbError
    from statarb.ingest.files import read_file

_DIR = Path(tempfile.mkdtemp(prefix="statarb-atheris-"))
#: file names the importer may take a symbol or timeframe from
NAMES = (
    "BTCUSDT-aggTrades-2024-01-01.csv",
    "btcusdt_20240808.txt",
    "rows.ndjson",
    "LINKUSDT-5m-2024-01.csv",
)
TARGETS = ("file", "rule", "rows")


def _file(data: bytes) -> None:
    path = _DIR / NAMES[data[0] % len(NAMES)] if data else _DIR / NAMES[0]
    path.write_bytes(data[1:])
    try:
        for chunk in read_file(path, chunk_rows=64):
            for batch in chunk.ticks.values():
                assert (batch.price > 0).all() and (batch.size >= 0).all()
    except StatarbError:
        pass


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError):
        return None


def _rule(data: bytes) -> None:
    try:
        rule = parse_rule(_json(data))
    except StatarbError:
        return
    assert all(math.isfinite(c.threshold) for c in rule.conditions())


def _rows(data: bytes) -> None:
    obj = _json(data)
    rows = obj if isinstance(obj, list) else [obj]
    ticks, errors = parse_tick_rows(rows)
    assert len(ticks) + len(errors) == len(rows)
    for t in ticks:
        assert 0 < t.price <= 1e12 and 0 <= t.size <= 1e12 and 0 <= t.ts < 4_102_444_800_000_000


def one_input(data: bytes) -> None:
    """libFuzzer's entry point: one input, routed by its first byte."""
    if data:
        (_file, _rule, _rows)[data[0] % len(TARGETS)](data[1:])


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
