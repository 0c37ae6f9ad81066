"""/metrics by Prometheus conventions: counters _total, seconds, histograms, HEAD, promtool."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from api_helpers import AUTH, ticks
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def _scrape(client: TestClient) -> str:
    client.post("/api/v1/ticks/batch?wait=true", json=ticks("BTCUSDT", [1.0, 2.0, 3.0]),
                headers=AUTH).raise_for_status()  # fmt: skip
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return r.text


def test_metrics_follow_prometheus_conventions(client: TestClient) -> None:
    families = {f.name: f for f in text_string_to_metric_families(_scrape(client))}
    ours = {n: f for n, f in families.items() if n.startswith("statarb_")}
    assert ours, families.keys()
    for name, fam in ours.items():
        assert "_ms" not in name and not name.endswith("_milliseconds"), name
        if fam.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in fam.samples), name
    events = {s.labels["kind"]: s.value for s in families["statarb_engine_events"].samples
              if s.name.endswith("_total")}  # fmt: skip
    assert events["ticks"] == 3.0
    hist = families["statarb_latency_seconds"]
    assert hist.type == "histogram"
    receipt = [s for s in hist.samples if s.labels.get("stage") == "receipt"]
    buckets = [s for s in receipt if s.name.endswith("_bucket")]
    count = next(s.value for s in receipt if s.name.endswith("_count"))
    assert count == 3.0 and buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == count
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)  # cumulative
    assert "process_resident_memory_bytes" in families
    held = families["statarb_alert_notifications_held"]
    assert held.type == "gauge" and held.samples[0].value == 0.0


def test_metrics_answer_head(client: TestClient) -> None:
    r = client.head("/metrics")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert int(r.headers["content-length"]) > 0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed "
                    "(Debian package prometheus)")  # fmt: skip
def test_promtool_check_metrics_passes(client: TestClient) -> None:
    text = _scrape(client)
    done = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        done.stdout + done.stderr
    )


def test_grafana_dashboard_reads_metrics_that_exist(client: TestClient) -> None:
    import json
    import re
    from pathlib import Path

    dash = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b((?:statarb|process)_[a-z0-9_]+)", e)}
    samples = {s.name for f in text_string_to_metric_families(_scrape(client)) for s in f.samples}
    assert used and not used - samples, used - samples
