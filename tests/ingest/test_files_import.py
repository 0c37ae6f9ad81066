"""import_files into a real SQLite store: counts, idempotence, bad rows, strict mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from statarb.errors import FormatError
from statarb.ingest import _csv
from statarb.ingest.files import import_files, read_file
from statarb.store import open_store

FIX = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def store(sqlite_url: str):  # type: ignore[no-untyped-def]
    st = open_store(sqlite_url)
    yield st
    st.close()


def test_import_counts_and_reimport_adds_nothing(store) -> None:  # type: ignore[no-untyped-def]
    files = [FIX / "hftbacktest_ws.txt", FIX / "BTCUSDT-aggTrades-2024-01-01.csv"]
    rep = import_files(files, store)
    assert rep.ok and rep.rejected == 0
    first, second = rep.files
    assert (first.ticks, first.quotes, first.rows) == (2, 1, 3)
    assert first.skipped == {"depthSnapshot": 1, "depthUpdate": 1}
    assert (second.ticks, second.duplicates) == (4, 0)
    again = import_files(files, store)
    assert (again.ticks, again.quotes, again.duplicates) == (0, 0, 7)
    info = {s.symbol: s for s in store.symbols()}
    assert info["BTCUSDT"].ticks == 6
    assert info["BTCUSDT"].quotes == 1


def test_bars_are_stored(store) -> None:  # type: ignore[no-untyped-def]
    rep = import_files([FIX / "LINKUSDT-5m-2024-01.csv"], store)
    assert rep.bars == 3
    bars = store.read_bars("LINKUSDT", "5m")
    assert bars.close.tolist() == [14.890, 14.872, 14.812]


def test_bad_rows_reported_with_file_and_line(store) -> None:  # type: ignore[no-untyped-def]
    rep = import_files([FIX / "bad_rows.csv"], store)
    assert not rep.ok
    f = rep.files[0]
    assert (f.rows, f.ticks, f.rejected) == (6, 3, 3)
    assert [(e.source, e.line) for e in f.errors] == [
        ("bad_rows.csv", 3),
        ("bad_rows.csv", 5),
        ("bad_rows.csv", 6),
    ]
    assert "not-a-price" in f.errors[0].reason
    assert "expected 4 columns, got 3" in f.errors[2].reason
    assert "bad_rows.csv:3:" in rep.summary()
    assert store.read_ticks("BTCUSDT").price.tolist() == [61800.3, 61800.3, 61800.5]


def test_strict_stores_nothing_from_the_bad_file(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = FIX / "BTCUSDT-aggTrades-2024-01-01.csv"
    bad = tmp_path / "bad_rows.csv"
    shutil.copy(FIX / "bad_rows.csv", bad)
    with pytest.raises(FormatError) as exc:
        import_files([good, bad], store, strict=True)
    assert (exc.value.source, exc.value.line) == ("bad_rows.csv", 3)
    ticks = store.read_ticks("BTCUSDT")
    # the earlier file stays, nothing of the bad file (its good first row included)
    assert ticks.trade_id.tolist() == [1989156011, 1989156012, 1989156013, 1989156014]


def test_unknown_file_fails_before_anything_is_stored(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(FormatError, match=r"junk\.txt"):
        import_files([FIX / "seed_ticks.csv", junk], store)
    assert store.symbols() == []


def test_malformed_row_after_the_first_block(tmp_path: Path, monkeypatch, store) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_csv, "BLOCK_SIZE", 4096)  # many blocks from a small file
    rows = [
        f"{1989156011 + i},42314.{i % 10},0.010,1,1,{1704067200005 + i},true" for i in range(2000)
    ]
    rows[1500] = "1989157511,oops,0.010,1,1,1704067201505,true"
    path = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    path.write_text("\n".join(rows) + "\n")  # no header
    chunks = list(read_file(path))
    errors = [e for c in chunks for e in c.errors]
    assert [(e.line, e.text) for e in errors] == [(1501, rows[1500])]
    got = [t for c in chunks for b in c.ticks.values() for t in b.trade_id.tolist()]
    assert got == [1989156011 + i for i in range(2000) if i != 1500]
    rep = import_files([path], store)
    assert (rep.ticks, rep.rejected) == (1999, 1)


def test_progress_reaches_total(store) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    files = [FIX / "seed_ticks.ndjson", FIX / "ETHUSDT-trades-2024-01-01.csv"]
    import_files(files, store, progress=lambda d, t: seen.append((d, t)))
    total = sum(p.stat().st_size for p in files)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_interrupt_mid_file_keeps_store_consistent(store, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_csv, "BLOCK_SIZE", 4096)  # several chunks in one file
    first = FIX / "seed_ticks.ndjson"
    rows = [f"{10 + i},42314.{i % 10},0.010,1,1,{1704067200005 + i},true" for i in range(2000)]
    big = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    big.write_text("\n".join(rows) + "\n")
    calls = 0

    def interrupt(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # first file done, second one part way
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_files([first, big], store, progress=interrupt)
    info = {s.symbol: s.ticks for s in store.symbols()}
    assert info == {"BTCUSDT": 2, "ETHUSDT": 1}  # the first file whole, nothing of the second
    assert import_files([big], store).ticks == 2000


def test_file_without_symbol_fails_before_anything_is_stored(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    anon = tmp_path / "klines.csv"
    anon.write_text("1704067200000,1,1.2,0.9,1.1,10,1704067259999,11,5,4,4.4,0\n")
    with pytest.raises(FormatError, match="--symbol"):
        import_files([FIX / "seed_ticks.csv", anon], store)
    assert store.symbols() == []
    assert import_files([anon], store, symbol="ALGOUSDT").bars == 1
