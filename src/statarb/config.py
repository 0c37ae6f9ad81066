"""Settings: one typed object built by each entry point and passed down.

Values come from environment variables with the prefix ``STATARB_`` (e.g. ``STATARB_STORE_URL``),
then an optional TOML file named by ``STATARB_CONFIG``, then the defaults below. Nothing in statarb
reads the environment anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from statarb.errors import ConfigError

BINANCE_WS_URL = "wss://fstream.binance.com"
BINANCE_REST_URL = "https://fapi.binance.com"


class Settings(BaseSettings):
    """Every setting of statarb (environment prefix ``STATARB_``)."""

    model_config = SettingsConfigDict(env_prefix="STATARB_", extra="ignore", frozen=True)

    store_url: str = Field(
        default="sqlite:///data/statarb.db",
        description="sqlite:///path/to/file.db (embedded default) or postgresql://user@host/db",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 to fan out live events between processes"
    )
    redis_prefix: str = Field(
        default="statarb",
        description="Redis key/channel prefix: processes sharing it form one system",
    )
    binance_ws_url: str = Field(
        default=BINANCE_WS_URL, description="Binance USD-M futures WebSocket base (routed paths)"
    )
    binance_rest_url: str = Field(
        default=BINANCE_REST_URL, description="Binance USD-M futures REST base"
    )
    feed_quotes: bool = Field(
        default=False,
        description="the engine's feeds also stream bookTicker (stored; paper orders fill on "
        "quotes, else on trades with an assumed half-spread)",
    )
    feed_marks: bool = Field(
        default=False,
        description="the engine's feeds also stream markPrice (paper positions pay or receive "
        "funding at its funding times)",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token: str | None = Field(default=None, description="bearer token for write endpoints")
    api_url: str = Field(
        default="http://127.0.0.1:8000", description="where the dashboard finds the engine's API"
    )
    dashboard_port: int = 8501
    dashboard_host: str = Field(
        default="127.0.0.1",
        description="dashboard bind address; any non-loopback address needs dashboard_password",
    )
    dashboard_password: str | None = Field(
        default=None,
        description="login secret of the dashboard (required when it binds beyond loopback)",
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1", "[::1]"],
        description="Host header values the API answers (add the names it is reached by; '*' any)",
    )
    webhook_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="networks (CIDR) webhooks may reach although private/loopback, e.g. 10.0.0.0/8",
    )
    ws_max_frame: int = Field(default=64 * 1024, ge=1024, description="largest /ws frame, bytes")
    ws_max_connections: int = Field(default=1000, ge=1, description="/ws connections in total")
    ws_max_per_ip: int = Field(default=32, ge=1, description="/ws connections per client address")
    spill_path: str | None = Field(
        default=None,
        description="file keeping ticks and alert events that could not be stored at shutdown "
        "(default: next to the SQLite file, else ./data/statarb.spill)",
    )
    symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="symbols to stream at start"
    )
    timeframes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["1s", "1m", "5m", "15m", "1h"]
    )
    batch_size: int = Field(default=5_000, ge=1, description="ticks per store transaction")
    flush_interval: float = Field(default=0.25, gt=0, description="seconds between writer flushes")
    queue_size: int = Field(default=200_000, ge=1, description="bounded live tick queue")
    log_level: str = "INFO"

    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s.strip().upper() for s in v.replace(",", " ").split() if s.strip()]
        return [str(s).upper() for s in v]

    @field_validator("timeframes", mode="before")
    @classmethod
    def _split_tfs(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s.strip() for s in v.replace(",", " ").split() if s.strip()]
        return v

    @field_validator("trusted_hosts", "webhook_allow", mode="before")
    @classmethod
    def _split_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s.strip() for s in v.split(",") if s.strip()]
        return v

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite, else ``None``."""
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url.removeprefix("sqlite:///").split("?", 1)[0])
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment, ``$STATARB_CONFIG`` (TOML) and overrides.

    Overrides with value ``None`` are ignored, so CLI options can be passed straight through.
    """
    file_values: dict[str, Any] = {}
    path = os.environ.get("STATARB_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                file_values = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc}") from exc
    env_values = Settings().model_dump(exclude_unset=True)
    merged = {**file_values, **env_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**merged)
    except Exception as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc


__all__ = ["BINANCE_REST_URL", "BINANCE_WS_URL", "Settings", "load_settings"]
