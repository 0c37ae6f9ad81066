"""Fixtures of the CLI tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from statarb.model import BarBatch
from statarb.store import open_store


@pytest.fixture(scope="module")
def kline_store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Callable[..., str]:
    """A SQLite store holding the first ``rows`` Feb-2026 1m klines of some real symbols."""

    def make(symbols: tuple[str, ...], rows: int) -> str:
        url = f"sqlite:///{tmp_path_factory.mktemp('klines') / 's.db'}"
        st = open_store(url)
        for sym in symbols:
            zpath = shared_data / "binance-usdm-klines-1m" / f"{sym}-1m-2026-02.zip"
            with zipfile.ZipFile(zpath) as z:
                df = pd.read_csv(io.BytesIO(z.read(z.namelist()[0]))).iloc[:rows]
            st.write_bars(
                BarBatch(
                    sym,
                    "1m",
                    df.open_time.to_numpy() * 1000,
                    df.open,
                    df.high,
                    df.low,
                    df.close,
                    df.volume,
                    df.quote_volume,
                    df["count"],
                    df.taker_buy_volume,
                )
            )
        st.close()
        return url

    return make
