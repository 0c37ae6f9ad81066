"""What an import did, per file and in total."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statarb.ingest._chunk import RowError

#: how many rejected rows a report keeps in full
MAX_ERRORS = 10


@dataclass(frozen=True)
class FileReport:
    """The import of one file.

    Attributes
    ----------
    path
        The file as given.
    format
        The detected format name.
    rows
        Data rows read (ticks, quotes and bars parsed plus rows rejected; skipped kinds apart).
    ticks, quotes, bars
        New rows stored of each kind.
    duplicates
        Parsed rows already in the store (or repeated in the input), not stored again.
    rejected
        Rows that could not be parsed or failed validation.
    errors
        The first :data:`MAX_ERRORS` rejected rows, with file and line.
    skipped
        Rows of other kinds counted and not imported (e.g. ``{"depthUpdate": 6551}``).
    symbols
        Symbols seen in the file.
    """

    path: str
    format: str
    rows: int = 0
    ticks: int = 0
    quotes: int = 0
    bars: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """New rows stored (ticks + quotes + bars)."""
        return self.ticks + self.quotes + self.bars

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "ticks": self.ticks,
            "quotes": self.quotes,
            "bars": self.bars,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [e.to_dict() for e in self.errors],
            "skipped": dict(self.skipped),
            "symbols": list(self.symbols),
        }

    def summary(self) -> str:
        """One line: counts of this file."""
        skipped = sum(self.skipped.values())
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(self.skipped.items()))
        return (
            f"{self.path} [{self.format}]: {self.rows:,} rows, {self.ticks:,} ticks, "
            f"{self.quotes:,} quotes, {self.bars:,} bars stored, {self.duplicates:,} duplicates, "
            f"{self.rejected:,} rejected, {skipped:,} skipped" + (f" ({kinds})" if kinds else "")
        )


@dataclass(frozen=True)
class ImportReport:
    """The import of several files."""

    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    def _sum(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def rows(self) -> int:
        """Data rows read in all files."""
        return self._sum("rows")

    @property
    def ticks(self) -> int:
        """New ticks stored."""
        return self._sum("ticks")

    @property
    def quotes(self) -> int:
        """New quotes stored."""
        return self._sum("quotes")

    @property
    def bars(self) -> int:
        """Bars written."""
        return self._sum("bars")

    @property
    def duplicates(self) -> int:
        """Rows already stored."""
        return self._sum("duplicates")

    @property
    def rejected(self) -> int:
        """Rows rejected in all files."""
        return self._sum("rejected")

    @property
    def ok(self) -> bool:
        """Whether every row was stored or already there."""
        return self.rejected == 0

    @property
    def errors(self) -> list[RowError]:
        """The first rejected rows of every file."""
        return [e for f in self.files for e in f.errors]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "files": [f.to_dict() for f in self.files],
            "rows": self.rows,
            "ticks": self.ticks,
            "quotes": self.quotes,
            "bars": self.bars,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "seconds": self.seconds,
        }

    def summary(self) -> str:
        """Per-file lines, a total line and the first errors as ``file:line: reason``."""
        lines = [f.summary() for f in self.files]
        rate = f" in {self.seconds:.2f} s" if self.seconds else ""
        lines.append(
            f"total: {self.rows:,} rows, {self.ticks:,} ticks, {self.quotes:,} quotes, "
            f"{self.bars:,} bars stored, {self.duplicates:,} duplicates, "
            f"{self.rejected:,} rejected{rate}"
        )
        lines.extend(str(e) for e in self.errors)
        return "\n".join(lines)
