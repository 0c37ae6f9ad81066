"""Data source: start/stop live streams, upload tick files, or work on stored data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from statarb.dashboard import client, data, ui
from statarb.masking import mask_url

st.title("Data source")
cfg = data.settings()
live, upload, stored = st.tabs(["Live streams", "Upload files", "Stored data"])

with live:
    try:
        known = client.last_feeds_status(cfg.api_url) or {}
    except client.EngineError:
        known = {}
    venues = sorted({str(f["venue"]) for f in known.get("feeds", []) if f.get("venue")})
    st.caption(
        f"Streams run in the engine at {cfg.api_url} (venue {', '.join(venues) or 'its default'});"
        " the dashboard only asks for them."
    )
    ui.data_origin_caption([])
    text = st.text_input("Symbols", placeholder="BTCUSDT, ETHUSDT", key="ds_symbols")
    syms, bad = ui.parse_symbols(text)
    if bad:
        st.error(f"Not valid symbols (A-Z and 0-9, e.g. BTCUSDT): {', '.join(bad)}")
    c1, c2 = st.columns(2)
    if c1.button("Start streams", disabled=not syms or bool(bad), key="ds_start"):
        res = ui.engine_call(client.api, "POST", "/api/v1/feeds", json={"symbols": syms})
        if res is not None:
            st.success(f"streaming {', '.join(res['symbols']) or 'nothing new'}")
    if c2.button("Stop streams", disabled=not syms or bool(bad), key="ds_stop"):
        res = ui.engine_call(client.api, "DELETE", "/api/v1/feeds", json={"symbols": syms})
        if res is not None:
            st.success(f"stopped {', '.join(res['symbols']) or 'nothing'}")
    status = ui.engine_call(client.api, "GET", "/api/v1/feeds")
    if status is not None:
        rows = [
            {
                "symbols": ", ".join(f["symbols"]),
                "running": f["running"],
                "error": f["error"] or "",
                **{k: v for k, v in (f.get("stats") or {}).items() if k != "last_ids"},
            }
            for f in status["feeds"]
        ]
        for f in status["feeds"]:
            stats = f.get("stats") or {}
            if f["running"] and not stats.get("connected"):
                st.warning(
                    f"{', '.join(f['symbols'])}: not connected to {f.get('venue')}; "
                    f"retrying ({stats.get('reconnects', 0)} reconnects so far). Offline, "
                    "`statarb up --demo` replays a recording instead."
                )
            elif f["error"]:
                st.error(f"{', '.join(f['symbols'])}: the feed stopped: {f['error']}")
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True)
        else:
            st.info("No feed is running.")

with upload:
    st.caption(
        "NDJSON, CSV or Binance dumps (trades, aggTrades, klines; optionally .gz or .zip); "
        "the engine imports them into the store and reports what it stored and rejected."
    )
    # no type= filter: Streamlit compares only the last suffix, so a filter either refuses
    # "x.csv.gz" or lets anything through; the names are checked here instead
    files = st.file_uploader("Tick or kline files", accept_multiple_files=True, key="ds_files")
    refused = [f.name for f in files or [] if not ui.importable_name(f.name)]
    if refused:
        st.error(
            f"Not an importable file: {', '.join(refused)} (expected "
            f"{', '.join(ui.IMPORT_SUFFIXES)}, optionally .gz; or a Binance .zip)"
        )
        files = [f for f in files or [] if ui.importable_name(f.name)]
    sym = st.text_input("Symbol (when the files do not name it)", key="ds_file_symbol")
    if st.button("Import", disabled=not files, key="ds_import"):
        bar = st.progress(0.0, text="uploading")
        reports = []
        for i, f in enumerate(files or []):
            bar.progress(i / len(files), text=f"importing {f.name}")
            rep = ui.engine_call(
                client.upload_file, f.name, f.getvalue(), sym.strip().upper() or None
            )
            if rep is not None:
                reports.append(rep)
        bar.progress(1.0, text="done")
        for rep in reports:
            st.success(
                f"{rep['ticks']:,} ticks, {rep['quotes']:,} quotes, {rep['bars']:,} bars "
                f"stored; {rep['duplicates']:,} duplicates; {rep['rejected']:,} rejected "
                f"({rep['rows']:,} rows in {rep['seconds']:.2f} s)"
            )
            errors = [e for f in rep["files"] for e in f["errors"]]
            if errors:
                st.dataframe(pd.DataFrame(errors), hide_index=True)
        data.symbols_table.clear()

with stored:
    try:
        table = data.symbols_table(cfg.store_url)
    except Exception as exc:
        st.error(f"Cannot open the store {mask_url(cfg.store_url)}: {exc}")
    else:
        if table:
            st.dataframe(pd.DataFrame(table), hide_index=True)
        else:
            st.info("The store is empty.")
