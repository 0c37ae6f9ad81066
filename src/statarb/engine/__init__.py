"""The live engine: feeds -> store -> bars -> pair analytics -> alerts -> broadcast."""

from statarb.engine._bus import RedisBus
from statarb.engine._core import Engine, Hub, NullHub, bar_dict, tick_dict
from statarb.engine._latency import STAGES, LatencyStats

__all__ = [
    "STAGES",
    "Engine",
    "Hub",
    "LatencyStats",
    "NullHub",
    "RedisBus",
    "bar_dict",
    "tick_dict",
]
