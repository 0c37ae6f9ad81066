"""The dashboard's calls to a real engine: file upload report, feed status, the Data source view."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from statarb.dashboard import client
from statarb.dashboard.launch import APP

CSV = (
    "timestamp,symbol,price,size\n"
    "1723161256322,BTCUSDT,61800.3,0.006\n"
    "1723161256330,BTCUSDT,not-a-price,0.1\n"
    "1723161256344,BTCUSDT,61800.4,0.199\n"
    "1723161256350,BTCUSDT,-5,0.1\n"
    "1723161256360,BTCUSDT,61800.5,0.2\n"
)


def test_upload_reports_rows_stored_and_rejected_with_reasons(engine: str) -> None:
    report = client.upload_file("ticks.csv", CSV.encode(), None)
    assert (report["ticks"], report["rejected"]) == (3, 2)
    errors = report["files"][0]["errors"]
    assert [e["line"] for e in errors] == [3, 5]
    assert "not-a-price" in errors[0]["text"] and errors[0]["reason"]
    assert "-5" in errors[1]["text"] and errors[1]["reason"]
    again = client.upload_file("ticks.csv", CSV.encode(), None)
    assert (again["ticks"], again["duplicates"]) == (0, 3)


def test_feed_status_of_an_idle_engine(engine: str) -> None:
    status = client.feeds_status(engine)
    assert status["feeds"] == [] and status["engine"]["running"] is True
    assert client.feed_summary(status)["connected"] is False


def test_data_source_view_with_the_engine(engine: str) -> None:
    at = AppTest.from_file(str(APP.parent / "views" / "data_source.py"), default_timeout=60).run()
    assert not at.exception and not at.warning and not at.error
    assert "No feed is running." in [i.value for i in at.info]
