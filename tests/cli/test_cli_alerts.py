"""``statarb alerts list|add|rm`` on a real SQLite store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from statarb.cli.main import build_app

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), list(args))


def test_add_list_rm(sqlite_url: str) -> None:
    rule = {"name": "wide", "condition": {"metric": "zscore", "target": "btcusdt/ethusdt",
            "timeframe": "1m", "operator": ">=", "threshold": 2.5}}  # fmt: skip
    res = cli("alerts", "add", json.dumps(rule), "--store", sqlite_url)
    assert res.exit_code == 0, res.output
    assert "added rule 1: wide: zscore(BTCUSDT/ETHUSDT, 1m) >= 2.5" in res.output
    res = cli("alerts", "add", "--metric", "price", "--target", "BTCUSDT", "--op", "<",
              "--threshold", "50000", "--webhook", "slack=https://hooks.example/x",
              "--cooldown", "60", "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    listed = cli("alerts", "list", "--store", sqlite_url)
    assert "   1 on  wide:" in listed.output and "cooldown=60s webhooks=1" in listed.output
    rows = json.loads(cli("alerts", "list", "--json", "--store", sqlite_url).stdout)
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[1]["webhooks"][0]["url"] == "https://hooks.example/x"
    assert cli("alerts", "rm", "1", "--store", sqlite_url).exit_code == 0
    assert cli("alerts", "rm", "1", "--store", sqlite_url).exit_code == 1
    assert [r["id"] for r in json.loads(cli("alerts", "list", "--json", "--store",
                                            sqlite_url).stdout)] == [2]  # fmt: skip


def test_add_rejects_bad_rules_naming_the_field(sqlite_url: str) -> None:
    bad = {"name": "x", "condition": {"metric": "price", "target": "BTCUSDT", "operator": "~",
                                      "threshold": 1}}  # fmt: skip
    res = cli("alerts", "add", json.dumps(bad), "--store", sqlite_url)
    assert res.exit_code == 2 and "condition.operator" in res.output
    res = cli("alerts", "add", "--metric", "price", "--store", sqlite_url)
    assert res.exit_code == 2 and "--target" in res.output


def test_add_names_the_demo_store_when_it_exists(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from statarb.cli.main import build_app
    from statarb.store import open_store

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    open_store("sqlite:///data/demo.db").close()  # the offline demo ran here before
    res = CliRunner().invoke(build_app(), ["alerts", "add", "--metric", "price", "--target",
                                           "BTCUSDT", "--op", ">", "--threshold", "1",
                                           "--store", "sqlite:///data/statarb.db"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "the offline demo" in res.output and "--store sqlite:///data/demo.db" in res.output


def test_add_with_severity_quiet_hours_digest_and_telegram(sqlite_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    token = "7000000001:AAHcliSECRETtokenSECRETtoken_-7"
    monkeypatch.setenv("STATARB_TELEGRAM_TOKEN", token)
    res = cli("alerts", "add", "--metric", "zscore", "--target", "BTCUSDT/ETHUSDT",
              "--timeframe", "1m", "--op", ">=", "--threshold", "2", "--severity", "critical",
              "--dedup", "30", "--quiet-hours", "22:00-07:00", "--tz", "Europe/London",
              "--no-critical-bypass", "--digest", "15", "--telegram-chat", "-100123",
              "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert token not in res.output
    listed = cli("alerts", "list", "--store", sqlite_url).output
    assert "critical" in listed and "telegram=1" in listed and "digest=15m" in listed
    assert "quiet=22:00-07:00/Europe/London" in listed and "dedup=30s" in listed
    (row,) = json.loads(cli("alerts", "list", "--json", "--store", sqlite_url).stdout)
    assert row["quiet_hours"]["critical_bypass"] is False and row["dedup_seconds"] == 30
    assert row["telegram"] == [{"chat_id": "-100123", "token": "***"}]  # never printed
    monkeypatch.delenv("STATARB_TELEGRAM_TOKEN")
    res = cli("alerts", "add", "--metric", "price", "--target", "BTCUSDT", "--op", ">",
              "--threshold", "1", "--telegram-chat", "-100123", "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 2 and "STATARB_TELEGRAM_TOKEN" in res.output
    res = cli("alerts", "add", "--metric", "price", "--target", "BTCUSDT", "--op", ">",
              "--threshold", "1", "--quiet-hours", "22:00-07:00", "--tz", "Nowhere/City",
              "--store", sqlite_url)  # fmt: skip
    assert res.exit_code == 2 and "quiet_hours.timezone" in res.output
