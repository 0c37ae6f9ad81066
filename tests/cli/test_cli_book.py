"""``statarb book ls|add|rm`` on a real SQLite store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from statarb.cli.main import build_app

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), list(args))


def test_add_ls_rm(sqlite_url: str) -> None:
    res = cli("book", "add", "linkusdt", "AVAXUSDT", "--tf", "1m", "--method", "kalman",
              "--window", "240", "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "added LINKUSDT/AVAXUSDT 1m as book pair 1" in res.output
    assert cli("book", "add", "BTCUSDT", "ETHUSDT", "--store", sqlite_url).exit_code == 0
    rows = json.loads(cli("book", "ls", "--json", "--store", sqlite_url).stdout)
    assert [(r["id"], r["a"], r["b"]) for r in rows] == [
        (1, "LINKUSDT", "AVAXUSDT"),
        (2, "BTCUSDT", "ETHUSDT"),
    ]
    assert rows[0]["settings"]["method"] == "kalman" and rows[0]["settings"]["window"] == 240
    listed = cli("book", "ls", "--store", sqlite_url).output
    assert "LINKUSDT/AVAXUSDT" in listed and "not analysed yet" in listed
    assert cli("book", "rm", "1", "--store", sqlite_url).exit_code == 0
    assert cli("book", "rm", "1", "--store", sqlite_url).exit_code == 1
    assert cli("book", "rm", "2", "--store", sqlite_url).exit_code == 0
    assert "the book is empty" in cli("book", "ls", "--store", sqlite_url).output


def test_bad_pairs_are_refused_naming_the_setting(sqlite_url: str) -> None:
    res = cli("book", "add", "A", "A", "--store", sqlite_url)
    assert res.exit_code == 2 and "two different symbols" in res.output
    res = cli("book", "add", "A", "B", "--entry", "1", "--exit", "1", "--store", sqlite_url)
    assert res.exit_code == 2 and "exit" in res.output
    res = cli("book", "add", "A", "B", "--method", "huber", "--store", sqlite_url)
    assert res.exit_code == 2 and "method" in res.output
