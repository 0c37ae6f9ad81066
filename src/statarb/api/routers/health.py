"""Health, symbols and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from statarb.api.deps import EngineDep, StoreDep
from statarb.api.routers._common import json_response
from statarb.api.schemas import Health, SymbolOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(engine: EngineDep, store: StoreDep) -> Response:
    """``ok`` while the engine runs and the store takes its writes; else ``degraded`` (503)."""
    from statarb import __version__

    running = engine.running
    store_ok = not engine.store_failing
    ok = running and store_ok
    bus = "off" if engine.bus is None else "redis" if engine.bus.connected else "disconnected"
    return json_response({"status": "ok" if ok else "degraded", "engine": running,
                          "store": store.url.split("://")[0], "version": __version__,
                          "bus": bus, "store_ok": store_ok}, 200 if ok else 503)  # fmt: skip


@router.get("/api/v1/symbols", response_model=list[SymbolOut], tags=["ticks"])
async def symbols(store: StoreDep) -> Response:
    """Every stored symbol with counts and time range."""
    infos = await asyncio.to_thread(store.symbols)
    return json_response([i.to_dict() for i in infos])


def _prom(name: str, value: Any, help_: str, kind: str = "counter", **labels: str) -> list[str]:
    lab = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return [f"# HELP {name} {help_}", f"# TYPE {name} {kind}",
            f"{name}{{{lab}}} {value}" if lab else f"{name} {value}"]  # fmt: skip


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(engine: EngineDep) -> PlainTextResponse:
    """Prometheus text exposition of the engine's counters and stage latencies."""
    st = engine.status()
    lines: list[str] = []
    for key, value in st["counts"].items():
        lines += _prom(f"statarb_engine_{key}_total", value, f"engine {key} processed")
    lines += _prom("statarb_engine_queue", st["queue"] or 0, "ticks batches waiting", "gauge")
    lines += _prom("statarb_store_errors_total", st["store"]["errors"],
                   "store writes refused (ticks and alert events; each retried)")  # fmt: skip
    lines += _prom("statarb_store_failing", int(st["store"]["failing"]),
                   "1 while the store refuses writes", "gauge")  # fmt: skip
    lines += _prom("statarb_alert_rules", st["rules"], "alert rules in force", "gauge")
    for key, value in st["webhooks"].items():
        lines += _prom(f"statarb_webhooks_{key}", value, f"webhook deliveries {key}", "gauge")
    lines += ["# HELP statarb_latency_ms live path latency quantiles by stage",
              "# TYPE statarb_latency_ms summary"]  # fmt: skip
    for stage, q in st["latency"].items():
        for qn, field in (("0.5", "p50_ms"), ("0.99", "p99_ms")):
            if q[field] is not None:
                lines.append(f'statarb_latency_ms{{stage="{stage}",quantile="{qn}"}} {q[field]}')
        lines.append(f'statarb_latency_ms_count{{stage="{stage}"}} {q["count"]}')
    ws_hub = engine.hub if engine.bus is None else engine.bus.local
    hub = getattr(ws_hub, "stats", None)
    if callable(hub):
        for key, value in hub().items():
            lines += _prom(f"statarb_ws_{key}", value, f"websocket {key}", "gauge")
    for key, value in (st.get("bus") or {}).items():
        if isinstance(value, int | float):  # bools count as 0/1
            lines += _prom(f"statarb_bus_{key}", int(value) if isinstance(value, bool) else value,
                           f"redis bus {key}", "gauge")  # fmt: skip
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
