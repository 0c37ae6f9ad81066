"""Widgets and panels shared by the pages: pickers, guards with clear messages, live panels."""

from __future__ import annotations

import contextlib
import re
import threading
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
#: file names the importer reads (each optionally with .gz), besides Binance .zip archives
IMPORT_SUFFIXES = (".csv", ".ndjson", ".jsonl", ".json", ".txt")


def importable_name(name: str) -> bool:
    """Whether an uploaded file's name is one the importer reads (case-insensitive)."""
    low = name.lower()
    if low.endswith(".zip"):
        return True
    low = low.removesuffix(".gz")
    return low.endswith(IMPORT_SUFFIXES) or "." not in low.rsplit("/", 1)[-1]


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
    """Start (epoch µs) of the chosen lookback, counted back from the symbols' newest data.

    The newest data of a symbol is its last tick or its last stored bar, whichever is later, so
    a lookback also cuts symbols that hold bars only (imported or backfilled klines).
    """
    labels = list(LOOKBACKS)
    label = st.selectbox("Lookback", labels, index=labels.index(default), key=f"{key}_lb")
    seconds = LOOKBACKS[label]
    if seconds is None:
        return None
    url = data.settings().store_url
    spans = data.symbol_spans(url)
    lasts = [spans[s][1] for s in symbols if s in spans]
    if not lasts:
        return None
    start = max(lasts) - seconds * 1_000_000
    return _over_the_gap(url, symbols, start)


#: a pause between stored history and live ticks longer than this is skipped by a lookback
GAP_US = 3_600_000_000


def _over_the_gap(url: str, symbols: list[str], start: int) -> int:
    """``start``, moved back over a gap between stored history and the live ticks that follow it
    (the demo's kline tape goes on today from a history that ended in February): a lookback
    longer than the live stretch takes the rest from the history's end."""
    import pandas as pd

    from statarb.model import Timeframe

    rows = {r["symbol"]: r for r in data.symbols_table(url)}
    firsts = [rows[s]["first"] for s in symbols if s in rows]
    if len(firsts) != len(symbols) or not all(firsts):
        return start
    first_tick = min(int(pd.Timestamp(f).value // 1000) for f in firsts)
    if start >= first_tick:
        return start
    ends = []
    for s in symbols:
        tfs = rows[s]["timeframes"]
        if not tfs:
            return start
        finest = min(tfs, key=lambda t: Timeframe.parse(t).us)
        ends.append(data.bars_end_before(url, s, finest, first_tick))
    if any(e is None for e in ends):
        return start
    history_end = max(e for e in ends if e is not None)
    if first_tick - history_end < GAP_US:  # the history runs into the ticks: no gap
        return start
    return history_end - (first_tick - start)


def overlap_us(spans: dict[str, tuple[int, int]], a: str, b: str) -> int:
    """How long (µs) the data of ``a`` and ``b`` overlap in time (0 when they do not)."""
    if a not in spans or b not in spans:
        return 0
    return max(0, min(spans[a][1], spans[b][1]) - max(spans[a][0], spans[b][0]))


def default_pair(names: list[str], spans: dict[str, tuple[int, int]]) -> tuple[str, str]:
    """The two symbols whose data overlap longest (ties: the earlier in ``names``)."""
    best = (names[0], names[1])
    best_len = -1
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            n = overlap_us(spans, a, b)
            if n > best_len:
                best, best_len = (a, b), n
    return best


def pair_pickers(names: list[str], key: str, cols: Any) -> tuple[str, str]:
    """Two symbol pickers (Y, X) that start on the pair with the longest common history."""
    ordered = order_symbols(names)
    spans = data.symbol_spans(data.settings().store_url)
    a0, b0 = default_pair(ordered, spans)
    a = cols[0].selectbox("Leg Y", ordered, index=ordered.index(a0), key=f"{key}_a")
    b = cols[1].selectbox("Leg X (hedge)", ordered, index=ordered.index(b0), key=f"{key}_b")
    if a != b and not overlap_us(spans, a, b):
        st.warning(
            f"{a} and {b} have no data at the same time, so there is nothing to align. "
            f"{a0} and {b0} overlap longest."
        )
    return a, b


def overlapping_group(names: list[str], spans: dict[str, tuple[int, int]]) -> list[str]:
    """The largest set of symbols that all share data at one time (most common moment)."""
    if not names:
        return []
    best: list[str] = []
    for s in names:  # a moment where most symbols have data: some symbol's last time
        if s not in spans:
            continue
        t = spans[s][1]
        group = [n for n in names if n in spans and spans[n][0] <= t <= spans[n][1]]
        if len(group) > len(best):
            best = group
    return best or names[:1]


def symbols_picker(names: list[str], key: str, label: str = "Symbols") -> list[str]:
    """A multiselect of symbols that starts on the largest group with data at the same time."""
    ordered = order_symbols(names)
    spans = data.symbol_spans(data.settings().store_url)
    default = overlapping_group(ordered, spans)
    return list(st.multiselect(label, ordered, default=default, key=f"{key}_syms"))


def order_symbols(names: list[str]) -> list[str]:
    """``names`` with the packaged demo symbols first, in their own order (liquid pairs first)."""
    from statarb import sample

    rank = {s: i for i, s in enumerate((*sample.HISTORY_SYMBOLS, *sample.SYMBOLS))}
    return sorted(names, key=lambda s: (rank.get(s, len(rank)), s))


#: ticks a second (on average over their span) from which 1s bars are the default
DENSE_TICKS_PER_S = 1.0


def default_timeframe(symbols: list[str]) -> str:
    """``"1s"`` when every symbol has ticks (live or imported trades) at one a second or more on
    average (not the demo's kline tape, four a minute), else ``"1m"``."""
    import pandas as pd

    rows = {r["symbol"]: r for r in data.symbols_table(data.settings().store_url)}

    def dense(s: str) -> bool:
        r = rows.get(s, {})
        if not r.get("ticks") or not r.get("first") or not r.get("last"):
            return False
        span_s = (pd.Timestamp(r["last"]) - pd.Timestamp(r["first"])).total_seconds()
        return bool(r["ticks"] >= DENSE_TICKS_PER_S * max(span_s, 60.0))  # a minute at least

    return "1s" if all(dense(s) for s in symbols) else "1m"


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per process, in the background: import the analytics stack (statsmodels, SciPy) and
    load the numba kernels on a small synthetic pair, so the first pair page a visitor opens
    does not pay seconds for it."""

    def work() -> None:
        import numpy as np

        from statarb.analytics.pair import analyze_pair
        from statarb.analytics.regression import hedge_ratio

        rng = np.random.default_rng(0)
        x = 100.0 + np.cumsum(rng.normal(0.0, 0.1, 400))
        y = 0.5 * x + rng.normal(0.0, 0.1, 400)
        with contextlib.suppress(Exception):  # a warm-up failure only costs the saved seconds
            analyze_pair(y, x, method="ols", window=None, bar_seconds=60.0, z_window=60)
            for method in ("huber", "theil-sen"):
                hedge_ratio(y, x, method=method)

    thread = threading.Thread(target=work, name="statarb-warm-up", daemon=True)
    thread.start()
    return thread


def _local(url: str | None) -> bool:
    """Whether a feed URL is a venue on this machine (the demo replay), not Binance."""
    from urllib.parse import urlparse

    host = urlparse(url or "").hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def data_origins(symbols: list[str] | None = None) -> list[tuple[str, list[str]]]:
    """Where the data of ``symbols`` (default: every stored one) comes from, as
    ``(description, symbols)`` groups: streamed (live or replayed), packaged history, other
    bar-only history, imported ticks."""
    from statarb import sample

    url = data.settings().store_url
    rows = {r["symbol"]: r for r in data.symbols_table(url)}
    names = [s for s in (symbols or list(rows)) if s in rows]
    streamed: dict[str, str | None] = {}  # symbol -> the venue its feed dials
    with contextlib.suppress(StatarbError):
        status = client.last_feeds_status(data.settings().api_url) or {}
        for feed in status.get("feeds", []):
            if feed.get("running"):
                for sym in feed.get("symbols", []):
                    streamed[sym] = feed.get("venue") or data.settings().binance_ws_url
    spans = data.symbol_spans(url)
    hist_lo, hist_hi = 1_769_904_000_000_000, 1_772_323_200_000_000  # 2026-02-01 .. 03-01
    groups: dict[str, list[str]] = {}
    for s in order_symbols(names):
        if s in streamed:
            if _local(streamed[s]) and s in sample.HISTORY_SYMBOLS:
                kind = f"replayed from a local venue: {sample.TAPE_LABEL}"
            elif _local(streamed[s]):
                kind = f"replayed from a local venue: {sample.REPLAY_LABEL}"
            else:
                kind = f"streamed live from {streamed[s]}"
            if rows[s]["bars"] and s not in sample.SYMBOLS and s not in sample.HISTORY_SYMBOLS:
                kind += " (+ REST kline history)"
        elif not rows[s]["ticks"]:
            span = spans.get(s)
            packaged = (
                s in sample.HISTORY_SYMBOLS
                and span is not None
                and hist_lo <= span[0]
                and span[1] < hist_hi
            )
            kind = f"history: {sample.HISTORY_LABEL}" if packaged else "history: stored bars"
        else:
            kind = "stored trades (imported or an earlier stream)"
        groups.setdefault(kind, []).append(s)
    return [(k, v) for k, v in groups.items()]


def data_origin_caption(symbols: list[str]) -> None:
    """One caption line saying which of ``symbols`` are replayed/live and which are history."""
    parts = [f"{', '.join(syms)}: {kind}" for kind, syms in data_origins(symbols)]
    if parts:
        st.caption(" · ".join(parts))


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
    venues = {f.get("venue") for f in status.get("feeds", [])}
    where = ""
    if venues and all(_local(v) for v in venues):
        where = " (replayed from a local venue)"
    st.caption(f"{state}: {', '.join(s['symbols']) or '-'}{where}")
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
