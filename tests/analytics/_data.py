"""Synthetic and real data shared by the analytics tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def ou(n: int, theta: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """AR(1) / OU noise with mean reversion speed ``theta`` per step."""
    eps = rng.normal(0.0, sigma, n)
    out = np.empty(n)
    out[0] = eps[0]
    for i in range(1, n):
        out[i] = (1.0 - theta) * out[i - 1] + eps[i]
    return out


def coint_pair(n=3000, beta=1.5, alpha=10.0, theta=0.05, seed=7, level=100.0, step=0.3):
    """Y = beta X + alpha + OU noise with X a random walk: known beta and half-life."""
    rng = np.random.default_rng(seed)
    x = level + np.cumsum(rng.normal(0.0, step, n))
    y = beta * x + alpha + ou(n, theta, 0.5, rng)
    return y, x


def kline_closes(shared_data: Path, symbols=("AVAXUSDT", "LINKUSDT"), month="2026-02"):
    """Close prices of monthly 1m kline zips, aligned (DataFrame, a column per symbol)."""
    cols = {}
    for sym in symbols:
        zpath = shared_data / "binance-usdm-klines-1m" / f"{sym}-1m-{month}.zip"
        with zipfile.ZipFile(zpath) as zf:
            raw = zf.read(zf.namelist()[0])
        df = pd.read_csv(io.BytesIO(raw))
        cols[sym] = pd.Series(df["close"].to_numpy(), index=df["open_time"].to_numpy())
    return pd.DataFrame(cols).dropna()
