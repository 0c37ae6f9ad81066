"""Pydantic request and response schemas of the API (kept apart from the domain types)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from statarb.errors import InputError
from statarb.model import Tick
from statarb.timeutil import parse_time

SYMBOL_PATTERN = r"^[A-Za-z0-9]{1,40}$"


class TickIn(BaseModel):
    """One trade posted to the API."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, examples=["BTCUSDT"])
    ts: int | float | str = Field(
        description="exchange time: epoch ms (or s/µs/ns, told apart by magnitude) or ISO-8601 "
        "with Z or an offset",
        examples=[1723118400000, "2024-08-08T12:00:00Z"],
    )
    price: float = Field(gt=0, le=1e12, examples=[61234.5])
    size: float = Field(ge=0, le=1e12, examples=[0.01])
    is_buyer_maker: bool | None = None
    trade_id: int | None = Field(default=None, ge=0, le=2**62)

    @field_validator("ts")
    @classmethod
    def _time(cls, v: int | float | str) -> int:
        try:
            us = parse_time(v)
        except (InputError, OverflowError, ValueError) as exc:
            raise ValueError(str(exc)) from None
        if not 0 <= us < 4_102_444_800_000_000:  # 2100-01-01
            raise ValueError(f"timestamp {v!r} is outside 1970..2100")
        return us

    @field_validator("price", "size")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    def to_tick(self, recv_ts: int | None = None) -> Tick:
        """The domain :class:`~statarb.model.Tick` (``ts`` in epoch µs)."""
        assert isinstance(self.ts, int)
        return Tick(self.symbol.upper(), self.ts, self.price, self.size, self.is_buyer_maker,
                    self.trade_id, "api", recv_ts)  # fmt: skip


class RowError(BaseModel):
    """A rejected input row."""

    index: int
    field: str
    message: str


class IngestResult(BaseModel):
    """What an ingest call did."""

    accepted: int = Field(description="rows queued into the engine (stored within the flush "
                          "interval, or before the answer with wait=true)")  # fmt: skip
    rejected: int = 0
    errors: list[RowError] = Field(default_factory=list)


class TickOut(BaseModel):
    """One stored trade."""

    symbol: str
    ts: int = Field(description="epoch µs UTC")
    time: str = Field(description="ISO-8601 UTC")
    price: float
    size: float
    is_buyer_maker: bool | None
    trade_id: int | None


class BarOut(BaseModel):
    """One bar; ``time`` is the ISO-8601 UTC open time."""

    time: str
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    notional: float
    trades: int
    taker_buy_volume: float
    vwap: float | None


class SymbolOut(BaseModel):
    """What is stored for one symbol."""

    symbol: str
    ticks: int
    first: str | None
    last: str | None
    quotes: int
    timeframes: list[str]
    bars: dict[str, int]


class FeedRequest(BaseModel):
    """Symbols to start or stop streaming."""

    model_config = ConfigDict(extra="forbid")

    symbols: list[str] = Field(min_length=1, max_length=200, examples=[["BTCUSDT", "ETHUSDT"]])

    @field_validator("symbols")
    @classmethod
    def _syms(cls, v: list[str]) -> list[str]:
        import re

        bad = [s for s in v if not re.match(SYMBOL_PATTERN, s)]
        if bad:
            raise ValueError(f"symbols {bad} are not valid; use letters and digits, e.g. BTCUSDT")
        return [s.upper() for s in v]


class FeedChange(BaseModel):
    """Symbols a feed call started or stopped."""

    symbols: list[str]
    feeds: list[dict[str, Any]]


class AlertRuleIn(BaseModel):
    """An alert rule (see ``statarb.alerts.rules`` for the condition tree)."""

    name: str = Field(min_length=1, max_length=200, examples=["wide spread"])
    condition: dict[str, Any] = Field(
        description='a condition {"metric", "target", "timeframe", "operator", "threshold", '
        '"hysteresis"} or a group {"op": "and"|"or", "children": [...]}',
        examples=[{"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
                   "operator": ">=", "threshold": 2.0, "hysteresis": 0.5}],
    )  # fmt: skip
    cooldown_seconds: float = Field(default=0.0, ge=0, le=86_400 * 365)
    enabled: bool = True
    webhooks: list[dict[str, Any]] = Field(
        default_factory=list,
        description='[{"kind": "slack"|"discord"|"custom", "url": "https://...", "secret": ...}]',
        max_length=20,
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class AlertRuleOut(BaseModel):
    """A stored rule (webhook secrets masked)."""

    id: int
    name: str
    condition: dict[str, Any]
    cooldown_seconds: float
    enabled: bool
    webhooks: list[dict[str, Any]]
    metadata: dict[str, Any]
    summary: str


class AlertEventOut(BaseModel):
    """A recorded trigger and its delivery status."""

    model_config = ConfigDict(extra="allow")

    id: int
    rule_id: int | None
    ts: int
    time: str | None = None
    message: str | None = None
    values: dict[str, float] = Field(default_factory=dict)
    delivery: str | None = None


class Health(BaseModel):
    """Liveness of the service."""

    status: Literal["ok", "degraded"]
    engine: bool
    store: str
    version: str
    bus: Literal["redis", "off", "disconnected"] = "off"
    store_ok: bool = Field(
        default=True, description="false while the store refuses writes (they are retried)"
    )


_TICK_LIST: TypeAdapter[list[TickIn]] = TypeAdapter(list[TickIn])


def parse_tick_rows(
    rows: list[Any], *, recv_ts: int | None = None
) -> tuple[list[Tick], list[dict[str, Any]]]:
    """Validate rows; return the good ticks and, per bad row, ``{index, field, message}``.

    ``recv_ts`` (epoch µs) is stamped on every tick as its receipt time.
    """
    try:  # one pass in pydantic-core when every row is good (the common case)
        return [m.to_tick(recv_ts) for m in _TICK_LIST.validate_python(rows)], []
    except ValidationError:
        pass
    ticks: list[Tick] = []
    errors: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        try:
            ticks.append(TickIn.model_validate(row).to_tick(recv_ts))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            errors.append({"index": i, "field": field, "message": err["msg"]})
    return ticks, errors


__all__ = [
    "AlertEventOut",
    "AlertRuleIn",
    "AlertRuleOut",
    "BarOut",
    "FeedChange",
    "FeedRequest",
    "Health",
    "IngestResult",
    "RowError",
    "SymbolOut",
    "TickIn",
    "TickOut",
    "parse_tick_rows",
]
