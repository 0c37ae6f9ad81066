"""``statarb import``, ``statarb info`` and ``statarb run`` on a real SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from statarb.cli.main import build_app

FIX = Path(__file__).resolve().parents[1] / "fixtures"
runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), list(args))


def test_import_ok_then_info(sqlite_url: str) -> None:
    res = cli("import", str(FIX / "BTCUSDT-aggTrades-2024-01-01.csv"), "--store", sqlite_url)
    assert res.exit_code == 0, res.output
    assert "4 ticks" in res.output
    again = cli("import", str(FIX / "BTCUSDT-aggTrades-2024-01-01.csv"), "--store", sqlite_url)
    assert again.exit_code == 0  # duplicates of stored rows are fine
    assert "4 duplicates" in again.output
    info = cli("info", "--json", "--store", sqlite_url)
    assert info.exit_code == 0
    assert json.loads(info.stdout) == [
        {
            "symbol": "BTCUSDT",
            "ticks": 4,
            "first": "2024-01-01T00:00:00.005Z",
            "last": "2024-01-01T00:00:00.102Z",
            "quotes": 0,
            # the closed bars of the live timeframes are kept beside imported ticks
            "timeframes": ["15m", "1h", "1m", "1s", "5m"],
            "bars": {"15m": 1, "1h": 1, "1m": 1, "1s": 1, "5m": 1},
        }
    ]
    table = cli("info", "--store", sqlite_url)
    assert "BTCUSDT" in table.output and "2024-01-01T00:00:00.102Z" in table.output


def test_rejected_rows_exit_1_with_file_and_line(sqlite_url: str) -> None:
    res = cli("import", str(FIX / "bad_rows.csv"), "--store", sqlite_url)
    assert res.exit_code == 1
    assert "3 rejected" in res.output
    assert "bad_rows.csv:3:" in res.output and "bad_rows.csv:6:" in res.output


def test_strict_exit_1_and_nothing_stored_from_that_file(sqlite_url: str) -> None:
    good, bad = FIX / "seed_ticks.ndjson", FIX / "bad_rows.csv"
    res = cli("import", str(good), str(bad), "--strict", "--store", sqlite_url)
    assert res.exit_code == 1
    assert "bad_rows.csv:3:" in res.output and "nothing stored from bad_rows.csv" in res.output
    info = json.loads(cli("info", "--json", "--store", sqlite_url).stdout)
    assert {d["symbol"]: d["ticks"] for d in info} == {"BTCUSDT": 2, "ETHUSDT": 1}


def test_unknown_format_and_missing_file_exit_2(sqlite_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"GIF89a\x00\x01binary")
    res = cli("import", str(junk), "--store", sqlite_url)
    assert res.exit_code == 2
    assert "junk.bin" in res.output and "expected" in res.output
    res = cli("import", str(tmp_path / "missing.csv"), "--store", sqlite_url)
    assert res.exit_code == 2
    assert "missing.csv" in res.output


def test_symbol_option(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("time,price,size\n2024-01-01T00:00:00Z,1.5,2\n")
    assert cli("import", str(path), "--store", sqlite_url).exit_code == 2
    res = cli("import", str(path), "--symbol", "solusdt", "--store", sqlite_url)
    assert res.exit_code == 0, res.output
    info = json.loads(cli("info", "--json", "--store", sqlite_url).stdout)
    assert [(d["symbol"], d["ticks"]) for d in info] == [("SOLUSDT", 1)]


def test_sample_imports_the_sample_once(sqlite_url: str) -> None:
    first = cli("sample", "--store", sqlite_url)
    assert first.exit_code == 0, first.output
    assert "importing the demo sample" in first.output
    assert "21,313" in first.output and "14,076" in first.output
    assert "stored 282,240 bars of demo history" in first.output
    second = cli("sample", "--store", sqlite_url)
    assert second.exit_code == 0
    assert "importing" not in second.output and "21,313" in second.output
    assert "demo history" not in second.output


def test_info_imports_nothing_heavy(sqlite_url: str, tmp_path: Path) -> None:
    cli("import", str(FIX / "seed_ticks.ndjson"), "--store", sqlite_url)
    code = (
        "import sys\n"
        "from statarb.cli.main import main\n"
        "try:\n"
        f"    main(['info', '--store', {sqlite_url!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pandas', 'numba', 'pyarrow', 'scipy', 'statsmodels')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ETHUSDT" in out.stdout
    assert "HEAVY []" in out.stdout


def test_import_subprocess_exit_code(sqlite_url: str) -> None:
    exe = Path(sys.executable).with_name("statarb")
    res = subprocess.run(
        [str(exe), "import", str(FIX / "cryptofeed_ws.txt"), "--store", sqlite_url],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "2 ticks" in res.stdout and "1 quotes" in res.stdout


def test_info_before_any_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    res = cli("info", "--store", url)
    assert res.exit_code == 0
    assert "empty" in res.output
    assert json.loads(cli("info", "--json", "--store", url).stdout) == []
    assert not (tmp_path / "none.db").exists()


def test_reimporting_klines_reports_duplicates(sqlite_url: str, tmp_path: Path) -> None:
    import zipfile

    header = ("open_time,open,high,low,close,volume,close_time,quote_volume,count,"
              "taker_buy_volume,taker_buy_quote_volume,ignore")  # fmt: skip
    rows = [f"{1769904000000 + i * 60000},10.1,10.2,10.0,10.1,5,{1769904059999 + i * 60000},"
            f"50.5,3,2,20.2,0" for i in range(6)]  # fmt: skip
    path = tmp_path / "AVAXUSDT-1m-2026-02.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("AVAXUSDT-1m-2026-02.csv", "\n".join([header, *rows]) + "\n")
    first = cli("import", str(path), "--store", sqlite_url)
    assert first.exit_code == 0, first.output
    assert "6 bars" in first.output and "0 duplicates" in first.output, first.output
    again = cli("import", str(path), "--store", sqlite_url)
    assert again.exit_code == 0, again.output
    assert "0 bars" in again.output and "6 duplicates" in again.output, again.output
