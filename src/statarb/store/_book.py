"""The watched pairs of the book, shared by both stores (plain, portable SQL)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any

from statarb.store import _common as c


class BookPersistence(ABC):
    """The book part of the :class:`~statarb.store.base.TickStore` contract.

    A pair is stored once per ``(a, b, timeframe)``; its settings are a JSON body that the engine
    owns (see :class:`statarb.engine.BookEntry`).
    """

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group the writes inside the ``with`` block into one atomic transaction."""

    @abstractmethod
    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        """Run one SQL statement; return the result rows and the row count."""

    def save_book_pair(self, a: str, b: str, timeframe: str, settings: dict[str, Any]) -> int:
        """Add a pair to the book, or replace the settings of the same pair and timeframe."""
        body = c.dump_json(settings, "book pair settings")
        with self.transaction():
            rows, _ = self._execute(
                "INSERT INTO book_pairs (a, b, timeframe, body, created_us) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (a, b, timeframe) DO UPDATE SET body = excluded.body RETURNING id",
                (a, b, timeframe, body, c.now_us()),
            )
            return int(rows[0][0])

    def list_book_pairs(self) -> list[dict[str, Any]]:
        """Every pair of the book by id (``id``, ``a``, ``b``, ``timeframe``, ``settings``)."""
        rows, _ = self._execute("SELECT id, a, b, timeframe, body FROM book_pairs ORDER BY id")
        return [
            {"id": int(i), "a": a, "b": b, "timeframe": tf, "settings": c.load_json(body)}
            for i, a, b, tf, body in rows
        ]

    def delete_book_pair(self, pair_id: int) -> bool:
        """Remove a pair from the book; return whether it was there."""
        with self.transaction():
            _, count = self._execute("DELETE FROM book_pairs WHERE id = ?", (int(pair_id),))
            return count > 0
