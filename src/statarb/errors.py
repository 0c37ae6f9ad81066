"""The one exception tree of statarb.

Every error the library raises on purpose derives from :class:`StatarbError`, so callers can catch
the whole family at once and tell our clear errors from bugs.

StatarbError
 +-- InputError      (also a ValueError) a value given by the caller is invalid
 +-- FormatError     a file or message cannot be parsed; names the source and line
 +-- StoreError      the store cannot be opened, read or written
 +-- FeedError       a market-data feed failed beyond recovery
 +-- ConfigError     settings are inconsistent or incomplete
 +-- AlertRuleError  (also an InputError) an alert rule is malformed
"""

from __future__ import annotations


class StatarbError(Exception):
    """Base class of every error raised by statarb on purpose."""


class InputError(StatarbError, ValueError):
    """A caller-supplied value is invalid (wrong length, NaN, too short for the window, ...)."""


class FormatError(StatarbError):
    """Input data cannot be parsed.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    source
        The file name (or stream name) the bad data came from, if known.
    line
        The 1-based line number in ``source``, if known.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")


class StoreError(StatarbError):
    """The tick store cannot be opened, read or written."""


class FeedError(StatarbError):
    """A market-data feed failed beyond what reconnects and backfills can recover."""


class ConfigError(StatarbError):
    """Settings are inconsistent or incomplete."""


class AlertRuleError(InputError):
    """An alert rule is malformed (unknown metric, bad operator, empty group, ...)."""


class StatarbWarning(UserWarning):
    """A survivable numerical or data issue (e.g. a near-singular fit)."""


__all__ = [
    "AlertRuleError",
    "ConfigError",
    "FeedError",
    "FormatError",
    "InputError",
    "StatarbError",
    "StatarbWarning",
    "StoreError",
]
