"""Simulated exchanges: ``statarb replay`` serves recordings as a Binance USD-M futures venue."""

from statarb.venue.server import ReplayServer

__all__ = ["ReplayServer"]
