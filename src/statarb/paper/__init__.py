"""Paper trading of the pairs book: pure core (no I/O, no clock).

:class:`PaperDesk` holds a :class:`PaperStrategy` per traded book pair and the tape of each
traded symbol. At each bar close a strategy runs the backtester's signal rule on the book's
z-score and sends market orders (:class:`Order`) for both legs; they fill on the quotes (or
trades) after the close (:class:`Fill`); the legs make one spread position
(:class:`PaperPosition`). See ``docs/paper.md``.
"""

from statarb.paper.desk import PaperDesk
from statarb.paper.orders import Fill, Order, Tape, client_order_id, round_lot
from statarb.paper.position import PaperPosition
from statarb.paper.report import pnl_report
from statarb.paper.settings import (
    PAPER_SETTINGS,
    PaperSettings,
    SymbolRules,
    paper_settings,
    symbol_rules,
)
from statarb.paper.strategy import BarInput, Changes, PaperEvent, PaperStrategy

__all__ = [
    "PAPER_SETTINGS",
    "BarInput",
    "Changes",
    "Fill",
    "Order",
    "PaperDesk",
    "PaperEvent",
    "PaperPosition",
    "PaperSettings",
    "PaperStrategy",
    "SymbolRules",
    "Tape",
    "client_order_id",
    "paper_settings",
    "pnl_report",
    "round_lot",
    "symbol_rules",
]
