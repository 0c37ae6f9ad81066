"""Live pair analytics of the engine (a part of :class:`~statarb.engine.Engine`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from statarb.alerts.rules import metric_key
from statarb.analytics.pair import PairMethod
from statarb.engine._live import PairFrame, RecentBars, aligned_closes, live_zscore, pair_metrics
from statarb.errors import InputError, StatarbError
from statarb.model import Timeframe
from statarb.timeutil import us_to_iso

if TYPE_CHECKING:
    from statarb.engine._events import Hub
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)


class PairsMixin:
    """Watch pairs, analyse them on closed bars, publish per-tick spread and z-score."""

    store: TickStore
    hub: Hub
    method: PairMethod
    z_window: int
    window_bars: int
    analytics_timeframes: list[str]
    values: dict[str, float]
    counts: dict[str, int]
    clock: Any
    _pairs: dict[tuple[str, str], dict[str, PairFrame]]
    _recent: dict[tuple[str, str], RecentBars]
    _last_price: dict[str, float]

    if TYPE_CHECKING:  # provided by AlertsMixin

        def _evaluate(self, changed: set[str], ts: int, recv_ts: int) -> None: ...

    def watch_pair(self, a: str, b: str) -> tuple[str, str]:
        """Analyse the pair ``a``/``b`` live (idempotent); return it normalised."""
        key = (a.strip().upper(), b.strip().upper())
        if key[0] == key[1] or not all(key):
            raise InputError(f"a pair needs two different symbols, got {a!r}/{b!r}")
        self._pairs.setdefault(key, {})
        return key

    def unwatch_pair(self, a: str, b: str) -> bool:
        """Stop analysing a pair; return whether it was watched."""
        return self._pairs.pop((a.upper(), b.upper()), None) is not None

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The pairs analysed live."""
        return list(self._pairs)

    def pair_state(self, a: str, b: str) -> dict[str, Any]:
        """Latest live analysis per timeframe of a watched pair."""
        frames = self._pairs.get((a.upper(), b.upper()))
        if frames is None:
            raise InputError(f"pair {a}/{b} is not watched; watched: {self.pairs}")
        return {tf: {"time": None if f.last_time is None else us_to_iso(f.last_time),
                     **(f.analysis or {})} for tf, f in frames.items()}  # fmt: skip

    def _preload_analytics(self) -> None:
        """Analyse a synthetic pair once, off the event loop (run in a thread at start).

        The first analysis imports statsmodels and loads the compiled kernels: about a second
        that would otherwise stall the live path when the first bars of a pair close.
        """
        import numpy as np

        from statarb.analytics.pair import analyze_pair

        rng = np.random.default_rng(0)
        x = 100.0 + np.cumsum(rng.normal(0.0, 1.0, 400))
        y = 2.0 * x + rng.normal(0.0, 1.0, 400)
        try:
            analyze_pair(y, x, method=self.method, bar_seconds=60, z_window=self.z_window)
        except (StatarbError, ValueError) as exc:  # only a warm-up: the live path reports errors
            log.debug("analytics preload failed: %s", exc)

    def _analyze(self, a: str, b: str, tf: str, recv_ts: int) -> None:
        ra, rb = self._recent.get((a, tf)), self._recent.get((b, tf))
        if ra is None or rb is None:
            return
        frame = self._pairs[(a, b)].setdefault(tf, PairFrame())
        times, ya, xb = aligned_closes(ra, rb)
        if len(times) < max(30, self.z_window // 2 + 2) or times[-1] == frame.last_time:
            return
        from statarb.analytics.pair import analyze_pair

        try:
            res = analyze_pair(ya, xb, method=self.method, bar_seconds=Timeframe.parse(tf).seconds,
                               z_window=self.z_window, a=a, b=b).to_dict()  # fmt: skip
        except (StatarbError, ValueError) as exc:
            log.debug("pair %s/%s %s not analysed: %s", a, b, tf, exc)
            return
        self.counts["analyses"] += 1
        frame.analysis, frame.last_time = res, int(times[-1])
        beta, alpha = float(res["hedge_ratio"]), float(res.get("intercept") or 0.0)
        frame.betas.append(beta)
        frame.spreads = ya[-self.z_window :] - beta * xb[-self.z_window :] - alpha
        target = f"{a}/{b}"
        vals = pair_metrics(target, tf, frame)
        self.values.update(vals)
        if self.hub.wants(f"pair:{a}:{b}"):
            data = {"timeframe": tf, "time": us_to_iso(int(times[-1])), **res}
            self.hub.publish(f"pair:{a}:{b}", "analytics", data)
        end = int(times[-1]) + Timeframe.parse(tf).us
        self._evaluate(set(vals), end, recv_ts)

    def _live_pairs(self, sym: str) -> set[str]:
        """Per-tick spread and z-score of the pairs with a leg in ``sym`` (primary timeframe)."""
        changed: set[str] = set()
        if not self.analytics_timeframes:
            return changed
        tf = self.analytics_timeframes[0]
        for a, b in self._pairs:
            if sym not in (a, b) or a not in self._last_price or b not in self._last_price:
                continue
            frame = self._pairs[(a, b)].get(tf)
            if frame is None or frame.analysis is None:
                continue
            beta = float(frame.analysis["hedge_ratio"])
            alpha = float(frame.analysis.get("intercept") or 0.0)
            spread = self._last_price[a] - beta * self._last_price[b] - alpha
            target = f"{a}/{b}"
            self.values[metric_key("spread", target)] = spread
            changed.add(metric_key("spread", target))
            z = live_zscore(frame.spreads, spread)
            if z is not None:
                self.values[metric_key("zscore", target)] = z
                changed.add(metric_key("zscore", target))
            if self.hub.wants(f"pair:{a}:{b}"):
                self.hub.publish(f"pair:{a}:{b}", "live", {"timeframe": tf, "spread": spread,
                                 "zscore": z, "hedge_ratio": beta})  # fmt: skip
        return changed
