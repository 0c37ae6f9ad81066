"""Pydantic request and response schemas of the API (kept apart from the domain types)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from statarb.errors import InputError
from statarb.model import Tick
from statarb.timeutil import parse_tick_time

SYMBOL_PATTERN = r"^[A-Za-z0-9]{1,40}$"


class TickIn(BaseModel):
    """One trade posted to the API."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, examples=["BTCUSDT"])
    ts: int | float | str = Field(
        description="exchange time: epoch ms (or s/µs/ns, told apart by magnitude) or ISO-8601 "
        "with Z or an offset; 2000-01-01 .. 2100-01-01 (anything else is refused)",
        examples=[1723118400000, "2024-08-08T12:00:00Z"],
    )
    price: float = Field(gt=0, le=1e12, examples=[61234.5])
    size: float = Field(ge=0, le=1e12, examples=[0.01])
    is_buyer_maker: bool | None = None
    trade_id: int | None = Field(default=None, ge=0, le=2**62)

    @field_validator("ts", mode="before")
    @classmethod
    def _time(cls, v: object) -> int:
        try:
            return parse_tick_time(v, field="ts")
        except InputError as exc:
            raise ValueError(str(exc).removeprefix("ts: ")) from None

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
    feeds: list[FeedStatus]


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
    severity: Literal["info", "warning", "critical"] = "warning"
    dedup_seconds: float = Field(
        default=0.0, ge=0, le=3600,
        description="triggers of rules with the same dedup key within this many seconds go "
        "out as one message naming every pair (0: at once)",
    )  # fmt: skip
    dedup_key: str | None = Field(
        default=None, max_length=100,
        description="dedup group (default: the condition with its targets left out)",
    )  # fmt: skip
    quiet_hours: dict[str, Any] | None = Field(
        default=None,
        description='{"start": "22:00", "end": "07:00", "timezone": "Europe/London", '
        '"critical_bypass": true}: notifications held, then sent as one summary at the end',
    )
    digest_minutes: int = Field(
        default=0, ge=0, le=1440, description="one message per N minutes (0: no digest)"
    )
    telegram: list[dict[str, Any]] = Field(
        default_factory=list, max_length=20,
        description='[{"chat_id": "-1001234567890", "token": "123456:ABC..."}]',
    )  # fmt: skip


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
    severity: str = "warning"
    dedup_seconds: float = 0.0
    dedup_key: str | None = None
    quiet_hours: dict[str, Any] | None = None
    digest_minutes: int = 0
    telegram: list[dict[str, Any]] = Field(default_factory=list)


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
    severity: str | None = None


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


class StatsOut(BaseModel):
    """Summary statistics of a symbol's bar closes and their simple returns."""

    symbol: str
    timeframe: str
    bars: int
    n: int
    first: float | None
    last: float | None
    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    change: float | None
    change_pct: float | None
    return_mean: float | None
    return_std: float | None
    skew: float | None
    kurtosis: float | None = Field(description="excess kurtosis (pandas, bias-corrected)")
    volume: float | None = None


class PairRef(BaseModel):
    """A pair: ``a`` is regressed on ``b``."""

    a: str = Field(examples=["BTCUSDT"])
    b: str = Field(examples=["ETHUSDT"])


class WatchOut(PairRef):
    """A pair now analysed live, and the WebSocket topic of its events."""

    topic: str = Field(examples=["pair:BTCUSDT:ETHUSDT"])


class PairMetrics(BaseModel):
    """Scalar results of a pair analysis (:class:`statarb.analytics.pair.PairAnalysis`)."""

    model_config = ConfigDict(extra="allow")

    a: str
    b: str
    method: str
    transform: str
    window: int | None
    z_window: int
    hedge_ratio: float | None
    intercept: float | None
    in_sample: bool = Field(description="the hedge ratio was fitted on the whole sample")
    adf_stat: float | None
    adf_pvalue: float | None
    adf_verdict: str
    eg_pvalue: float | None = Field(description="Engle-Granger cointegration p-value")
    eg_verdict: str
    half_life: float | None = Field(description="bars")
    correlation: float | None
    vol_a: float | None
    vol_b: float | None
    last_spread: float | None
    last_zscore: float | None
    n: int


class PairSeries(BaseModel):
    """Per-bar series of a pair analysis, oldest first (non-finite values as null)."""

    time: list[str] = Field(description="ISO-8601 UTC bar open times")
    ts: list[int] = Field(description="epoch µs UTC bar open times")
    a: list[float | None] = Field(description="leg A closes")
    b: list[float | None] = Field(description="leg B closes")
    hedge_ratio: list[float | None]
    intercept: list[float | None]
    spread: list[float | None]
    zscore: list[float | None]


class PairOut(PairMetrics):
    """A pair analysed on stored history; ``series`` when asked for."""

    timeframe: str
    start: str
    end: str
    series: PairSeries | None = None
    series_points: int = Field(default=0, description="points in series")
    series_truncated: bool = Field(default=False, description="series holds the last points only")


class PairLiveFrame(BaseModel):
    """The engine's latest analysis of a watched pair on one timeframe (empty until ready)."""

    model_config = ConfigDict(extra="allow")

    time: str | None = Field(description="close time of the last bar analysed")
    a: str | None = None
    b: str | None = None
    hedge_ratio: float | None = None
    last_spread: float | None = None
    last_zscore: float | None = None


class FeedStatus(BaseModel):
    """One running feed."""

    model_config = ConfigDict(extra="allow")

    symbols: list[str]
    running: bool
    error: str | None
    stats: dict[str, Any] = Field(description="feed counters (messages, ticks, gaps, ...)")


class LatencyOut(BaseModel):
    """Latency quantiles of one stage of the live path, in ms."""

    count: int | None
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class EngineStatus(BaseModel):
    """The engine's counters, queues and latencies."""

    model_config = ConfigDict(extra="allow")

    running: bool
    started_at: str | None
    counts: dict[str, int]
    queue: int | None
    writer_queue: int | None
    writer: dict[str, Any] | None
    latency: dict[str, LatencyOut]
    feeds: list[FeedStatus]
    pairs: list[str]
    timeframes: list[str]
    analytics_timeframes: list[str]
    rules: int
    webhooks: dict[str, int]
    bus: dict[str, Any] | None


class FeedsOut(BaseModel):
    """Running feeds and the engine's status."""

    feeds: list[FeedStatus]
    engine: EngineStatus


class FileReportOut(BaseModel):
    """What the import of one file did."""

    path: str
    format: str
    rows: int
    ticks: int
    quotes: int
    bars: int
    duplicates: int
    rejected: int
    errors: list[dict[str, Any]] = Field(description="first rejected rows with file and line")
    skipped: dict[str, int]
    symbols: list[str]


class ImportReportOut(BaseModel):
    """What an import did, per file and in total."""

    files: list[FileReportOut]
    rows: int
    ticks: int
    quotes: int
    bars: int
    duplicates: int
    rejected: int
    seconds: float | None


FeedChange.model_rebuild()

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
    "EngineStatus",
    "FeedChange",
    "FeedRequest",
    "FeedStatus",
    "FeedsOut",
    "FileReportOut",
    "Health",
    "ImportReportOut",
    "IngestResult",
    "LatencyOut",
    "PairLiveFrame",
    "PairMetrics",
    "PairOut",
    "PairRef",
    "PairSeries",
    "RowError",
    "StatsOut",
    "SymbolOut",
    "TickIn",
    "TickOut",
    "WatchOut",
    "parse_tick_rows",
]


# -- the book of pairs ---------------------------------------------------------------------------
class BookSettingsIn(BaseModel):
    """How a pair of the book is analysed (:class:`~statarb.analytics.tracker.TrackerSettings`)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["rolling-ols", "kalman"] = "rolling-ols"
    window: int = Field(120, ge=10, le=100_000, description="hedge-ratio window (bars)")
    z_window: int = Field(60, ge=10, le=100_000, description="z-score window (bars)")
    entry: float = Field(2.0, gt=0, le=100)
    exit: float = Field(0.0, gt=-100, lt=100)
    stop: float | None = Field(None, gt=0, le=1000)
    time_stop: float | None = Field(None, gt=0, le=1000, description="half-lives")
    fee_bps: float = Field(4.0, ge=0, le=1000)
    slippage_bps: float = Field(1.0, ge=0, le=1000)
    drift_bars: int = Field(20, ge=1, le=100_000)
    coint_window: int = Field(480, ge=10, le=100_000)
    coint_every: int = Field(30, ge=1, le=100_000)
    memory: int | None = Field(None, ge=2, le=1_000_000)


class BookPairIn(BaseModel):
    """A pair to watch: ``a`` is the dependent leg (y), ``b`` the regressor (x)."""

    model_config = ConfigDict(extra="forbid")

    a: str = Field(pattern=r"^[A-Za-z0-9]{1,40}$", examples=["BTCUSDT"])
    b: str = Field(pattern=r"^[A-Za-z0-9]{1,40}$", examples=["ETHUSDT"])
    timeframe: str = Field("1m", max_length=16, examples=["1m"])
    settings: BookSettingsIn = Field(default_factory=lambda: BookSettingsIn.model_validate({}))


class BookAnalyticsOut(BaseModel):
    """A pair's analytics after its last closed bar (null where not yet defined)."""

    time: int
    bars: int
    hedge_ratio: float | None
    intercept: float | None
    drift: float | None
    spread: float | None
    zscore: float | None
    half_life: float | None
    half_life_ratio: float | None
    correlation: float | None
    cusum: float | None
    reversion: float | None
    excursion: float | None
    coint_pvalue: float | None
    coint_time: int | None
    rt_cost_z: float | None
    break_even_z: float | None
    signal: Literal["flat", "long", "short"]
    signal_since: int | None
    signal_bars: int
    time_stop_bars: int | None
    health: Literal["warming", "holding", "weakening", "broken"]
    reasons: list[str]


class BookRowOut(BaseModel):
    """One pair of the book with its latest analytics and recent z-scores."""

    id: int
    a: str
    b: str
    timeframe: str
    settings: BookSettingsIn
    analytics: BookAnalyticsOut | None
    zscores: list[float | None]


# -- strategy studies (OU bands, guarded sweeps, portfolio backtests) ---------------------------
class StrategyOUOut(BaseModel):
    """OU fit of a pair's spread and Bertram's optimal bands."""

    a: str
    b: str
    timeframe: str
    bars: int
    fit: dict[str, Any] = Field(description="theta, mu, sigma, half-life and standard errors")
    bands: dict[str, Any] = Field(description="return-optimal entry/exit bands with costs")
    sharpe_bands: dict[str, Any] | None = Field(description="Sharpe-optimal bands")
    cost: float | None
    spread_last: float | None
    time_stop_bars: int | None


class StrategySweepOut(BaseModel):
    """A parameter sweep with its overfitting guards (deflated Sharpe, PBO)."""

    a: str
    b: str
    timeframe: str
    bars: int
    rows: list[dict[str, Any]] = Field(description="one row per configuration, with its dsr")
    best: dict[str, Any]
    overfit: dict[str, Any] = Field(description="n_configs, the best row's DSR, PBO by CSCV")


class StrategyBookCorrelation(BaseModel):
    """Correlation of the pairs' returns."""

    pairs: list[str]
    matrix: list[list[float | None]]


class StrategyBookOut(BaseModel):
    """A portfolio backtest of a book of pairs with shared capital."""

    timeframe: str
    start: str
    end: str
    config: dict[str, Any]
    pairs: list[str]
    bars: int
    metrics: dict[str, Any]
    skipped: dict[str, int]
    funding: dict[str, Any] | None
    pair_metrics: list[dict[str, Any]]
    contribution: list[dict[str, Any]]
    correlation: StrategyBookCorrelation
