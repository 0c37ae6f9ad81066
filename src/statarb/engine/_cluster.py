"""The engine's part in a multi-process system (a part of :class:`~statarb.engine.Engine`).

With a :class:`~statarb.engine._bus.RedisBus` attached, the engine publishes through it, follows
the closed bars of pair legs that other engines ingest, applies rule changes made elsewhere and
claims each alert trigger before recording it, so a trigger fires once in the whole system.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from statarb.alerts.rules import parse_rule
from statarb.errors import AlertRuleError, StatarbError
from statarb.model import BarBatch

if TYPE_CHECKING:
    from statarb.alerts.evaluator import AlertEvaluator, Trigger
    from statarb.bars import BarBuilder
    from statarb.engine._bus import RedisBus
    from statarb.engine._events import Hub
    from statarb.store.base import TickStore

log = logging.getLogger(__name__)

_FLOATS = ("open", "high", "low", "close", "volume", "notional", "taker_buy_volume")


class ClusterMixin:
    """Bus wiring: remote bars, rule sync, once-only alert claims."""

    store: TickStore
    hub: Hub
    bus: RedisBus | None
    evaluator: AlertEvaluator
    analytics_timeframes: list[str]
    _builders: dict[str, dict[str, BarBuilder]]
    _last_price: dict[str, float]
    _pending_fires: set[asyncio.Task[None]]

    if TYPE_CHECKING:

        @property
        def pairs(self) -> list[tuple[str, str]]: ...

        def _on_bars(self, sym: str, tf: str, closed: BarBatch, recv_ts: int,
                     *, publish: bool = True) -> None: ...  # fmt: skip

        def _install_rule(self, rule: Any) -> None: ...

        def _record_fire(self, trig: Trigger, recv_ts: int) -> None: ...

    def attach_bus(self, bus: RedisBus) -> None:
        """Publish through ``bus`` and take part in the system it connects."""
        self.bus = bus
        self.hub = bus
        bus.on_control = self._on_control
        for a, b in self.pairs:
            self._follow_legs(a, b)

    def _follow_legs(self, a: str, b: str) -> None:
        if self.bus is None:
            return
        for sym in (a, b):
            for tf in self.analytics_timeframes:
                self.bus.follow(f"bars:{sym}:{tf}", self._remote_bar)

    def _remote_bar(self, topic: str, type_: str, data: Any) -> None:
        """A bar closed by another engine: analyse it here unless this engine ingests the symbol."""
        if type_ != "bar" or not isinstance(data, dict):
            return
        _, sym, tf = topic.split(":", 2)
        if sym in self._builders:  # ticks of this symbol arrive here: our own bars count
            return
        try:
            f = {k: np.array([float(data[k])]) for k in _FLOATS}
            bar = BarBatch(
                sym, tf, np.array([int(data["open_time"])], np.int64), f["open"], f["high"],
                f["low"], f["close"], f["volume"], f["notional"],
                np.array([int(data["trades"])], np.int64), f["taker_buy_volume"],
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, StatarbError) as exc:
            log.warning("ignored a malformed remote bar on %s: %s", topic, exc)
            return
        self._last_price[sym] = float(bar.close[0])
        self._on_bars(sym, tf, bar, 0, publish=False)

    def _on_control(self, msg: dict[str, Any]) -> None:
        """Apply a change announced by another process (rules saved or deleted there)."""
        if msg.get("kind") != "rule" or not isinstance(msg.get("id"), int):
            return
        rule_id = msg["id"]
        if msg.get("op") == "deleted":
            self.evaluator.remove(rule_id)
            return
        data = next((r for r in self.store.list_alert_rules() if r.get("id") == rule_id), None)
        if data is None:
            return
        try:
            self._install_rule(parse_rule(data))
        except AlertRuleError as exc:
            log.error("rule %s saved elsewhere cannot run here: %s", rule_id, exc)

    def _announce_rule(self, op: str, rule_id: int | None) -> None:
        if self.bus is not None and rule_id is not None:
            self.bus.announce("rule", op=op, id=rule_id)

    def _claim_and_fire(self, trig: Trigger, recv_ts: int) -> None:
        """Record and publish ``trig`` here only if no other engine claimed it first."""
        assert self.bus is not None
        bus = self.bus

        async def run() -> None:
            if await bus.claim(f"{trig.rule_id}:{trig.ts}"):
                self._record_fire(trig, recv_ts)

        task = asyncio.get_running_loop().create_task(run())
        self._pending_fires.add(task)
        task.add_done_callback(self._pending_fires.discard)
