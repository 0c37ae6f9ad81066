"""Request and response models of the paper trader's API (``/api/v1/paper``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PaperSettingsIn(BaseModel):
    """How a book pair is paper-traded (:class:`~statarb.paper.PaperSettings`)."""

    model_config = ConfigDict(extra="forbid")

    entry: float = Field(2.0, gt=0, le=100, description="entry band on z")
    exit: float = Field(0.0, gt=-100, lt=100, description="exit band on z")
    stop: float | None = Field(None, gt=0, le=1000, description="stop band on |z|")
    time_stop: float | None = Field(None, gt=0, le=1000, description="half-lives")
    max_hold: int | None = Field(None, ge=1, le=10_000_000, description="bars")
    notional: float = Field(1000.0, gt=0, le=1e9, description="gross entry size, quote ccy")
    fee_bps: float = Field(4.0, ge=0, le=1000)
    slippage_bps: float = Field(1.0, ge=0, le=1000)
    lot_y: float = Field(0.0, ge=0, le=1e9, description="lot step of leg a (exchangeInfo)")
    lot_x: float = Field(0.0, ge=0, le=1e9, description="lot step of leg b (exchangeInfo)")
    min_notional: float = Field(0.0, ge=0, le=1e9, description="smallest leg notional")
    leg_timeout: float = Field(5.0, gt=0, le=3600, description="seconds")
    on_timeout: Literal["retry", "unwind"] = "retry"
    max_retries: int = Field(3, ge=0, le=100)
    half_spread_bps: float = Field(0.5, ge=0, le=1000, description="assumed without quotes")


class PaperStartIn(BaseModel):
    """Attach a strategy to a pair of the book (re-configures a running one)."""

    model_config = ConfigDict(extra="forbid")

    pair_id: int = Field(ge=1, le=2**62, description="book pair id (GET /api/v1/book)")
    settings: PaperSettingsIn = Field(default_factory=lambda: PaperSettingsIn.model_validate({}))


class PaperStopIn(BaseModel):
    """Stop a strategy; ``flatten`` closes its position first, else it is kept."""

    model_config = ConfigDict(extra="forbid")

    pair_id: int = Field(ge=1, le=2**62)
    flatten: bool = False


class PaperPositionOut(BaseModel):
    """A strategy's spread position and P&L (quote currency)."""

    pair_id: int
    a: str
    b: str
    timeframe: str | None
    status: Literal["flat", "entering", "open", "exiting", "unwinding"]
    side: int
    target: int
    qty_y: float
    qty_x: float
    avg_y: float
    avg_x: float
    mark_y: float | None
    mark_x: float | None
    signal_time: int | None
    signal_z: float | None
    exit_reason: str | None
    entry_ts: int | None
    held: int
    limit: int
    filled_legs: list[str]
    realised: float
    unrealised: float
    fees: float
    slippage: float
    funding: float
    pnl: float
    trades: int
    skipped: int
    last_bar: int
    last_funding_y: int
    last_funding_x: int
    updated_ts: int


class PaperOrderOut(BaseModel):
    """A paper market order of one leg (``side`` 1 buy, -1 sell)."""

    client_id: str
    pair_id: int
    symbol: str
    leg: Literal["y", "x"]
    side: int
    qty: float
    purpose: Literal["open", "close", "unwind"]
    signal_time: int
    sent: int
    attempt: int
    ref_price: float | None
    status: Literal["working", "filled", "cancelled"]
    done_ts: int | None


class PaperFillOut(BaseModel):
    """The fill of a paper order."""

    fill_id: str
    client_id: str
    pair_id: int
    symbol: str
    leg: Literal["y", "x"]
    side: int
    qty: float
    price: float
    base: float
    ref_price: float | None
    fee: float
    slippage: float
    ts: int
    source: Literal["quote", "trade"]
    assumed_spread: bool
    realised: float


class PaperEventOut(BaseModel):
    """A step of a strategy: signal, skipped, order, fill, opened, closed, retry, unwind,
    unwound, flatten or cancel, with its details."""

    pair_id: int
    ts: int
    kind: str
    detail: dict[str, Any]


class PaperPnlPairOut(BaseModel):
    """P&L of one strategy."""

    pair_id: int
    a: str | None
    b: str | None
    realised: float
    unrealised: float
    fees: float
    slippage: float
    funding: float
    pnl: float
    trades: int


class PaperPnlTotalOut(BaseModel):
    """P&L of every running strategy."""

    realised: float
    unrealised: float
    fees: float
    slippage: float
    funding: float
    pnl: float
    trades: int


class PaperCurvePointOut(BaseModel):
    """Realised P&L net of fees after a fill (running sum over the selected fills)."""

    ts: int
    pair_id: int
    equity: float


class PaperPnlOut(BaseModel):
    """P&L per strategy, totals, and the realised equity curve of the selected fills."""

    pairs: list[PaperPnlPairOut]
    total: PaperPnlTotalOut
    curve: list[PaperCurvePointOut]


class PaperStrategyOut(BaseModel):
    """A strategy: its pair, settings, position and working orders."""

    pair_id: int
    a: str
    b: str
    active: bool
    stopping: bool = False
    settings: PaperSettingsIn
    position: PaperPositionOut
    working: list[PaperOrderOut]


class PaperStatusOut(BaseModel):
    """The paper trader: running strategies, counters and the exchange time it has seen."""

    strategies: list[PaperStrategyOut]
    counts: dict[str, int]
    exchange_time: int | None
    queued: int


__all__ = [
    "PaperCurvePointOut",
    "PaperEventOut",
    "PaperFillOut",
    "PaperOrderOut",
    "PaperPnlOut",
    "PaperPnlPairOut",
    "PaperPnlTotalOut",
    "PaperPositionOut",
    "PaperSettingsIn",
    "PaperStartIn",
    "PaperStatusOut",
    "PaperStopIn",
    "PaperStrategyOut",
]
