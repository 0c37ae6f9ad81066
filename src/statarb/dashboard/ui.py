"""Widgets and panels shared by the pages: pickers, guards with clear messages, live panels."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from statarb.dashboard import client, data
from statarb.errors import StatarbError
from statarb.masking import mask_url

SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,30}$")
#: (label, seconds back from the last stored data; None = everything)
LOOKBACKS: dict[str, int | None] = {
    "15 min": 900,
    "1 hour": 3_600,
    "6 hours": 21_600,
    "1 day": 86_400,
    "7 days": 604_800,
    "all": None,
}
STATUS_EVERY = 2.0


def parse_symbols(text: str) -> tuple[list[str], list[str]]:
    """Split user text into valid symbols (upper-cased) and rejected entries."""
    good: list[str] = []
    bad: list[str] = []
    for raw in re.split(r"[\s,;]+", text.strip()):
        if not raw:
            continue
        sym = raw.upper()
        (good if SYMBOL_RE.match(sym) else bad).append(sym if SYMBOL_RE.match(sym) else raw)
    return list(dict.fromkeys(good)), bad


def require_symbols(minimum: int = 1) -> list[str]:
    """Stored symbols, or a clear message and a stop when the store cannot give ``minimum``."""
    cfg = data.settings()
    try:
        names = data.symbol_names()
    except StatarbError as exc:
        st.error(f"Cannot open the store {mask_url(cfg.store_url)}: {exc}")
        st.info(
            "Start the engine (`statarb serve` or `statarb up --demo`) or import files with "
            "`statarb import`, then reload."
        )
        st.stop()
    if len(names) < minimum:
        st.warning(
            f"The store {mask_url(cfg.store_url)} holds {len(names)} symbol(s); this page needs at "
            f"least {minimum}. Stream or import data on the Data source page."
        )
        st.stop()
    return names


def timeframe_picker(key: str, default: str = "1m") -> str:
    """A timeframe from the standard list or typed (``custom``), validated."""
    from statarb.model import Timeframe

    options = [*data.TIMEFRAMES, "custom"]
    choice = st.selectbox("Timeframe", options, index=options.index(default), key=f"{key}_tf")
    if choice != "custom":
        return str(choice)
    text = st.text_input(
        "Custom timeframe", value="30s", key=f"{key}_tf_custom", help="e.g. 10s, 2m, 4h, 1d"
    )
    try:
        return Timeframe.parse(text.strip()).name
    except (StatarbError, ValueError) as exc:
        st.error(f"Bad timeframe {text!r}: {exc}")
        st.stop()


def lookback_start(symbols: list[str], key: str, default: str = "1 day") -> int | None:
    """Start (epoch µs) of the chosen lookback, counted back from the symbols' newest data."""
    labels = list(LOOKBACKS)
    label = st.selectbox("Lookback", labels, index=labels.index(default), key=f"{key}_lb")
    seconds = LOOKBACKS[label]
    if seconds is None:
        return None
    rows = {r["symbol"]: r for r in data.symbols_table(data.settings().store_url)}
    lasts = [t for s in symbols if s in rows and (t := _last_us(rows[s])) is not None]
    return None if not lasts else max(lasts) - seconds * 1_000_000


def _last_us(row: dict[str, Any]) -> int | None:
    from statarb.timeutil import parse_time

    return None if row.get("last") is None else parse_time(row["last"])


def engine_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an API call; show the failure as a message and return ``None`` instead of raising."""
    try:
        return fn(*args, **kwargs)
    except client.EngineUnavailableError as exc:
        st.warning(str(exc))
    except client.EngineError as exc:
        st.error(str(exc))
    return None


def fmt_lag(ms: float | None) -> str:
    """A latency for a narrow card: ``"85 ms"``, ``"2.4 s"``, ``"3.1 h"``, ``"838 d"``."""
    if ms is None:
        return "-"
    for unit, size in (("d", 86_400_000.0), ("h", 3_600_000.0), ("min", 60_000.0), ("s", 1000.0)):
        if abs(ms) >= size:
            return f"{ms / size:,.1f} {unit}"
    return f"{ms:,.0f} ms"


@st.fragment(run_every=STATUS_EVERY)
def feed_status_panel() -> None:
    """Sidebar: connected, msgs/s, lag and gaps of the engine's feeds (refreshes itself)."""
    import time

    st.markdown("**Live feed**")
    cfg = data.settings()
    try:
        status = client.feeds_status(cfg.api_url)
    except client.EngineUnavailableError:
        st.caption(f"engine not reachable at {cfg.api_url}")
        return
    except client.EngineError as exc:
        st.caption(str(exc))
        return
    s = client.feed_summary(status)
    now = time.monotonic()
    prev = st.session_state.get("_feed_prev")
    rate = None
    if prev is not None and now > prev[0] and s["messages"] >= prev[1]:
        rate = (s["messages"] - prev[1]) / (now - prev[0])
    st.session_state["_feed_prev"] = (now, s["messages"])
    state = "connected" if s["connected"] else ("no feed" if not s["feeds"] else "DISCONNECTED")
    st.caption(f"{state}: {', '.join(s['symbols']) or '-'}")
    c1, c2 = st.columns(2)
    c1.metric("msgs/s", "-" if rate is None else f"{rate:,.0f}")
    c2.metric("lag", fmt_lag(s["lag_ms"]))
    c1.metric("gaps", f"{s['gaps']:,}")
    c2.metric("backfilled", f"{s['backfilled']:,}")


@st.fragment(run_every=STATUS_EVERY)
def alert_toasts() -> None:
    """Toast each alert event recorded since the session started (polls the engine)."""
    try:
        events = client.api("GET", "/api/v1/alerts/history", params={"limit": 20})
    except StatarbError:
        return
    seen: set[int] | None = st.session_state.get("_alerts_seen")
    ids = {int(e["id"]) for e in events}
    if seen is None:
        st.session_state["_alerts_seen"] = ids
        return
    for ev in reversed(events):
        if int(ev["id"]) not in seen:
            st.toast(
                f"Alert {ev.get('rule_id')}: {ev.get('message') or ev.get('values')}",
                icon=":material/notifications:",
            )
    st.session_state["_alerts_seen"] = seen | ids


def download_buttons(frame: Any, name: str, key: str) -> None:
    """CSV and Parquet download buttons for ``frame``."""
    c1, c2 = st.columns(2)
    c1.download_button(
        f"{name}.csv",
        data.table_bytes(frame, "csv"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
    c2.download_button(
        f"{name}.parquet",
        data.table_bytes(frame, "parquet"),
        file_name=f"{name}.parquet",
        mime="application/octet-stream",
        key=f"{key}_pq",
    )
