"""``statarb migrate SRC DST`` on real stores: report, progress, exit codes, re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statarb import sample
from statarb.cli.main import build_app
from statarb.ingest.files import import_files
from statarb.model import TickBatch
from statarb.store import open_store

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(build_app(), list(args))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('migrate') / 'src.db'}"
    st = open_store(url)
    import_files(sample.files(), st)
    st.save_alert_rule({"name": "btc", "condition": {"metric": "price", "target": "BTCUSDT",
                        "operator": ">", "threshold": 6e4}})  # fmt: skip
    st.add_alert_event({"rule_id": 1, "ts": 1_723_161_300_000_000})
    st.close()
    return url


def test_migrate_then_rerun(source: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'dst.db'}"
    res = cli("migrate", source, target, "--progress", "--chunk", "10000")
    assert res.exit_code == 0, res.output
    assert "59,408 rows read, 59,408 new" in res.stdout
    assert "verified 6 tables: all counts agree" in res.stdout
    assert "ticks BTCUSDT: source 21,313, target 21,313: ok" in res.stdout
    assert "migrate: ticks BTCUSDT: 10,000 of 21,313 rows" in res.stderr
    again = cli("migrate", source, target, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["ok"] and report["new"] == 0 and report["rows"] == 59_408
    info = cli("info", "--json", "--store", target)
    assert [s["ticks"] for s in json.loads(info.stdout)] == [21_313, 14_076]


def test_counts_that_differ_exit_1(source: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'dst.db'}"
    st = open_store(target)
    st.write_ticks(
        open_store(source, read_only=True).read_ticks("BTCUSDT", end=1_723_161_257_000_000)
    )
    st.write_ticks(TickBatch("ETHUSDT", [5], [1e3], [1.0], trade_id=[1]))  # held before
    st.close()
    res = cli("migrate", source, target, "--symbol", "ETHUSDT", "--symbol", "btcusdt")
    assert res.exit_code == 1, res.output
    assert "ticks ETHUSDT: source 14,076, target 14,077: target has 1 rows more" in res.stdout
    assert "ticks BTCUSDT: source 21,313, target 21,313: ok" in res.stdout
    assert "row counts of source and target differ" in res.stderr


def test_alerts_of_another_store_are_not_overwritten(source: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'dst.db'}"
    st = open_store(target)
    st.add_alert_event({"rule_id": 9, "ts": 5, "note": "mine"})  # id 1, as in the source
    st.close()
    res = cli("migrate", source, target)
    assert res.exit_code == 2, res.output
    assert "already holds a different alert event with id 1" in res.stderr
    st = open_store(target, read_only=True)
    assert st.list_alert_events() == [{"id": 1, "rule_id": 9, "ts": 5, "note": "mine"}]
    assert len(st.read_ticks("ETHUSDT")) == 14_076  # the market data was copied
    st.close()
    ok = cli("migrate", source, target, "--no-alerts")
    assert ok.exit_code == 0, ok.output


def test_bad_arguments_exit_2(source: str, tmp_path: Path) -> None:
    missing = cli("migrate", f"sqlite:///{tmp_path / 'none.db'}", f"sqlite:///{tmp_path / 'd.db'}")
    assert missing.exit_code == 2 and "source:" in missing.stderr
    assert "does not exist" in missing.stderr
    same = cli("migrate", source, source)
    assert same.exit_code == 2 and "same store" in same.stderr
    unknown = cli("migrate", source, "mysql://x/y")
    assert unknown.exit_code == 2 and "target: unknown store URL" in unknown.stderr
    typo = cli("migrate", source, f"sqlite:///{tmp_path / 'd.db'}", "--symbol", "BTCUSTD")
    assert typo.exit_code == 2 and "did you mean BTCUSDT" in typo.stderr


@pytest.mark.postgres
def test_sqlite_to_postgres_and_back(source: str, pg_url: str, tmp_path: Path) -> None:
    res = cli("migrate", source, pg_url)
    assert res.exit_code == 0, res.output
    assert "postgresql://postgres@127.0.0.1:5432/test" in res.stdout
    back = f"sqlite:///{tmp_path / 'back.db'}"
    res = cli("migrate", pg_url, back, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["new"] == 59_408
    a, b = open_store(source, read_only=True), open_store(back, read_only=True)
    assert [s.to_dict() for s in a.symbols()] == [s.to_dict() for s in b.symbols()]
    assert a.list_alert_rules() == b.list_alert_rules()
    a.close()
    b.close()
