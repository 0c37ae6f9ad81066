"""Pure Plotly figure builders of the strategy page (tests call them directly)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from statarb.dashboard.figures import sweep_heatmap_figure


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin={"l": 50, "r": 20, "t": 50, "b": 40}, hovermode="x"
    )
    return fig


def ou_bands_figure(
    index: Any,
    spread: Any,
    *,
    mu: float,
    lower: float,
    upper: float,
    z_window: int,
    entry_z: float,
    exit_z: float,
    title: str = "",
) -> go.Figure:
    """The spread with its OU-optimal bands (flat levels) beside the user's z bands.

    The z bands are spread levels ``rolling mean ± z * rolling std`` over ``z_window`` bars
    ending at each bar, the ones the backtest trades on.
    """
    s = pd.Series(np.asarray(spread, dtype=float), index=index)
    mean = s.rolling(z_window).mean()
    sd = s.rolling(z_window).std()
    fig = go.Figure()
    fig.add_scatter(x=s.index, y=s, name="spread", line={"width": 1, "color": "#555"})
    for k, dash, name in ((entry_z, "dot", "z entry"), (exit_z, "dash", "z exit")):
        for sign in (1, -1):
            fig.add_scatter(
                x=s.index,
                y=mean + sign * k * sd,
                name=f"{name} {'+' if sign > 0 else '-'}{k:g}",
                line={"width": 1, "dash": dash, "color": "#1f77b4"},
            )
    for level, name in ((upper, "OU short entry"), (mu, "OU mean"), (lower, "OU long entry")):
        fig.add_hline(
            y=level,
            line={"color": "#d62728" if name != "OU mean" else "#2ca02c", "width": 2},
            annotation_text=name,
            annotation_position="top left",
        )
    return _layout(fig, title or "Spread: OU-optimal bands (flat) beside the z bands (rolling)")


def book_figure(
    index: Any, equity: Any, gross: Any, open_pairs: Any, *, capital: float
) -> go.Figure:
    """Book equity, gross exposure (x equity) and pairs open, on one time axis."""
    eq = np.asarray(equity, dtype=float)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.55, 0.25, 0.2],
                        vertical_spacing=0.04)  # fmt: skip
    fig.add_scatter(x=index, y=eq, name="equity", row=1, col=1)
    fig.add_hline(y=capital, line={"dash": "dot", "color": "#999"}, row=1, col=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lev = np.asarray(gross, dtype=float) / eq
    fig.add_scatter(x=index, y=lev, name="gross / equity", row=2, col=1)
    fig.add_scatter(x=index, y=np.asarray(open_pairs), name="pairs open", row=3, col=1,
                    line={"shape": "hv"})  # fmt: skip
    return _layout(fig, "Book: equity, gross exposure and open pairs", height=560)


def pair_correlation_figure(corr: pd.DataFrame) -> go.Figure:
    """Correlation of the pairs' per-bar returns (the same heatmap as the symbols' correlation)."""
    from statarb.dashboard.figures import correlation_heatmap_figure

    return correlation_heatmap_figure(corr, title="Correlation of pair returns")


def guarded_sweep_figure(
    table: pd.DataFrame, *, x: str, y: str, best: dict[str, Any], pbo: float | None
) -> go.Figure:
    """Sharpe heatmap of a sweep whose best cell is labelled with its deflated Sharpe."""
    fig = sweep_heatmap_figure(table, x=x, y=y, value="sharpe")
    label = f"best: Sharpe {best['sharpe']:.2f}<br>DSR {best['dsr']:.2f}"
    fig.add_annotation(
        x=f"{best[x]:g}",
        y=f"{best[y]:g}",
        text=label,
        showarrow=True,
        arrowhead=2,
        bgcolor="white",
        bordercolor="#d62728",
    )
    sub = f" · PBO {pbo:.2f}" if pbo is not None else ""
    fig.update_layout(title=f"Sharpe by {x} and {y} ({len(table)} configurations{sub})")
    return fig


__all__ = ["book_figure", "guarded_sweep_figure", "ou_bands_figure", "pair_correlation_figure"]
