"""Prometheus metrics of the engine, by Prometheus conventions (prometheus-client).

Running totals are counters (``_total``), times are in seconds, latencies are histograms
(``statarb_latency_seconds{stage=...}``), levels are gauges. Each app has its own registry, read
from the engine at scrape time; process metrics (memory, CPU, open files) come with it.

- ``statarb_engine_up`` (gauge): 1 while the engine runs;
- ``statarb_engine_events_total{kind}``: ticks, bars, analyses, alerts, errors, ...;
- ``statarb_engine_queue_batches``, ``statarb_engine_writer_queue_batches`` (gauges): batches
  waiting for the engine and for the store writer;
- ``statarb_writer_rows_total{outcome}``: rows received, written, dropped by the writer;
  ``statarb_writer_store_errors_total``: failed write attempts (each retried);
- ``statarb_store_commit_latency_seconds{statistic}`` (gauge): p50/p99 receipt-to-commit time of
  recent ticks (the writer keeps quantiles only);
- ``statarb_latency_seconds{stage}`` (histogram): receipt (exchange to receipt), processed and
  alert (from receipt);
- ``statarb_alert_rules`` (gauge); ``statarb_webhook_deliveries_total{outcome}`` (sent, failed,
  dropped), ``statarb_webhook_retries_total``, ``statarb_webhook_pending`` (gauge),
  ``statarb_alert_notifications_held`` (gauge: quiet hours, digest and dedup windows; webhook
  and Telegram deliveries count in the webhook families);
- ``statarb_ws_clients``, ``statarb_ws_topics`` (gauges), ``statarb_ws_<event>_total``;
- ``statarb_bus_connected`` (gauge), ``statarb_bus_<event>_total`` (Redis bus, when configured).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from statarb.engine._latency import STAGES

if TYPE_CHECKING:
    from statarb.engine import Engine

#: the exposition format served (Prometheus text 0.0.4, which every scraper reads)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: WebSocket hub figures that are levels, not running totals
_WS_GAUGES = frozenset({"clients", "topics", "connections", "queued_bytes"})
#: Redis bus figures that are levels, not running totals
_BUS_GAUGES = frozenset({"pending", "remote_topics"})


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, int | float) else None


class EngineCollector(Collector):
    """Reads the engine's status at each scrape and yields Prometheus metric families."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self._engine()
        if engine is None:
            return
        st = engine.status()
        yield GaugeMetricFamily("statarb_engine_up", "1 while the engine runs",
                                value=float(bool(st["running"])))  # fmt: skip
        events = CounterMetricFamily("statarb_engine_events", "events the engine processed",
                                     labels=["kind"])  # fmt: skip
        for kind, n in st["counts"].items():
            events.add_metric([kind], float(n))
        yield events
        yield GaugeMetricFamily("statarb_engine_queue_batches", "tick batches waiting for the "
                                "engine", value=float(st["queue"] or 0))  # fmt: skip
        yield GaugeMetricFamily("statarb_engine_writer_queue_batches", "batches waiting for the "
                                "store writer", value=float(st["writer_queue"] or 0))  # fmt: skip
        yield from _writer(st.get("writer"))
        store = st.get("store") or {}
        if store:
            yield CounterMetricFamily("statarb_store_errors", "store writes refused (ticks and "
                                      "alert events; each retried)",
                                      value=float(store.get("errors", 0)))  # fmt: skip
            yield GaugeMetricFamily("statarb_store_failing", "1 while the store refuses writes",
                                    value=float(bool(store.get("failing"))))  # fmt: skip
        yield _latency(engine)
        yield GaugeMetricFamily("statarb_alert_rules", "alert rules in force",
                                value=float(st["rules"]))  # fmt: skip
        yield from _webhooks(st["webhooks"])
        hub = engine.hub if engine.bus is None else engine.bus.local
        stats = getattr(hub, "stats", None)
        if callable(stats):
            yield from _flat("statarb_ws", "WebSocket hub", stats(), _WS_GAUGES)
        if st.get("bus"):
            yield from _flat("statarb_bus", "Redis bus", st["bus"], _BUS_GAUGES | {"connected"})


def _writer(w: dict[str, Any] | None) -> Iterator[Metric]:
    if not w:
        return
    rows = CounterMetricFamily("statarb_writer_rows", "rows taken by the store writer",
                               labels=["outcome"])  # fmt: skip
    for outcome in ("received", "written", "dropped"):
        rows.add_metric([outcome], float(w.get(outcome) or 0))
    yield rows
    yield CounterMetricFamily("statarb_writer_store_errors", "failed write attempts (retried)",
                              value=float(w.get("store_errors") or 0))  # fmt: skip
    lat = GaugeMetricFamily("statarb_store_commit_latency_seconds", "receipt-to-commit latency "
                            "of recent ticks", labels=["statistic"])  # fmt: skip
    for stat in ("p50", "p99"):
        v = w.get(f"store_latency_{stat}_ms")
        if v is not None:
            lat.add_metric([stat], float(v) / 1e3)
    yield lat


def _latency(engine: Engine) -> Metric:
    hist = HistogramMetricFamily("statarb_latency_seconds", "live path latency by stage "
                                 "(receipt: exchange to receipt; processed, alert: from receipt)",
                                 labels=["stage"])  # fmt: skip
    for stage in STAGES:
        buckets, total, _ = engine.latency.histogram(stage)
        hist.add_metric([stage], [(_le(b), float(c)) for b, c in buckets], total)
    return hist


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def _webhooks(counts: dict[str, Any]) -> Iterator[Metric]:
    deliveries = CounterMetricFamily("statarb_webhook_deliveries", "webhook deliveries by "
                                     "outcome", labels=["outcome"])  # fmt: skip
    for outcome in ("sent", "failed", "dropped"):
        if outcome in counts:
            deliveries.add_metric([outcome], float(counts[outcome]))
    yield deliveries
    if "retries" in counts:
        yield CounterMetricFamily("statarb_webhook_retries", "webhook delivery retries",
                                  value=float(counts["retries"]))  # fmt: skip
    yield GaugeMetricFamily("statarb_webhook_pending", "webhook deliveries waiting",
                            value=float(counts.get("pending") or 0))  # fmt: skip
    yield GaugeMetricFamily("statarb_alert_notifications_held", "alert notifications held "
                            "(quiet hours, digest, dedup window) per channel",
                            value=float(counts.get("held") or 0))  # fmt: skip


def _flat(prefix: str, what: str, stats: dict[str, Any], gauges: frozenset[str]
          ) -> Iterator[Metric]:  # fmt: skip
    for key, value in sorted(stats.items()):
        v = _number(value)
        if v is None:
            continue
        name = f"{prefix}_{key}"
        if key in gauges:
            yield GaugeMetricFamily(name, f"{what} {key}", value=v)
        else:
            yield CounterMetricFamily(name, f"{what} {key} since start", value=v)


def make_registry(engine: Callable[[], Engine | None]) -> CollectorRegistry:
    """A registry with the engine's metrics and this process's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus text format 0.0.4."""
    return generate_latest(registry)


__all__ = ["CONTENT_TYPE", "EngineCollector", "exposition", "make_registry"]
