"""``statarb paper start|stop|status`` on a real SQLite store (--api: tests/test_paper_kill9.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from statarb.cli.main import build_app

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), list(args))


def test_start_status_stop_in_the_store(sqlite_url: str) -> None:
    assert cli("book", "add", "BTCUSDT", "ETHUSDT", "--store", sqlite_url).exit_code == 0
    res = cli("paper", "start", "1", "--entry", "2.5", "--notional", "5000", "--on-timeout",
              "unwind", "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "paper strategy attached to book pair 1 BTCUSDT/ETHUSDT" in res.output
    (row,) = json.loads(cli("paper", "status", "--json", "--store", sqlite_url).stdout)
    assert row["active"] is True and row["position"]["status"] == "flat"
    assert row["settings"]["entry"] == 2.5 and row["settings"]["on_timeout"] == "unwind"
    assert row["settings"]["notional"] == 5000.0
    assert "BTCUSDT/ETHUSDT" in cli("paper", "status", "--store", sqlite_url).output
    assert cli("paper", "stop", "1", "--store", sqlite_url).exit_code == 0
    assert "(stopped)" in cli("paper", "status", "--store", sqlite_url).output
    res = cli("paper", "stop", "1", "--flatten", "--store", sqlite_url)
    assert res.exit_code == 2 and "--api" in res.output


def test_bad_input_is_refused_naming_it(sqlite_url: str) -> None:
    res = cli("paper", "start", "7", "--store", sqlite_url)
    assert res.exit_code == 1 and "book pair 7 does not exist" in res.output
    assert cli("book", "add", "BTCUSDT", "ETHUSDT", "--store", sqlite_url).exit_code == 0
    res = cli("paper", "start", "1", "--on-timeout", "pray", "--store", sqlite_url)
    assert res.exit_code == 2 and "on_timeout" in res.output
    res = cli("paper", "start", "1", "--entry", "1", "--exit", "1", "--store", sqlite_url)
    assert res.exit_code == 2 and "exit" in res.output
    assert cli("paper", "stop", "1", "--store", sqlite_url).exit_code == 1
