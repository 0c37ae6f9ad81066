"""statarb: real-time statistical-arbitrage analytics for crypto futures.

The package root stays light: heavy libraries are imported by the modules that use them.
"""

from statarb.errors import (
    FeedError,
    FormatError,
    InputError,
    StatarbError,
    StatarbWarning,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "FeedError",
    "FormatError",
    "InputError",
    "StatarbError",
    "StatarbWarning",
    "StoreError",
    "__version__",
]
