"""The paper trader's ledger, shared by both stores (plain, portable SQL).

A component of the store (``store.paper``), not a mixin: it runs its statements through the
store's ``execute`` and ``transaction``. One strategy per book pair (``paper_strategies``, with
its position as a JSON body), orders unique on their client id, fills unique on their fill id
and on their order, and the strategy's event log. A change set (orders, fills, events,
positions) is written in one transaction; writing it again changes nothing, so a replay after a
crash cannot duplicate a fill.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from statarb.store import _common as c

Execute = Callable[[str, tuple[Any, ...]], tuple[list[tuple[Any, ...]], int]]

ORDER_COLUMNS: tuple[str, ...] = (
    "client_id", "pair_id", "symbol", "leg", "side", "qty", "purpose", "signal_time", "sent",
    "attempt", "ref_price", "status", "done_ts",
)  # fmt: skip
FILL_COLUMNS: tuple[str, ...] = (
    "fill_id", "client_id", "pair_id", "symbol", "leg", "side", "qty", "price", "base",
    "ref_price", "fee", "slippage", "ts", "source", "assumed_spread", "realised",
)  # fmt: skip
#: the most rows one read returns
MAX_ROWS = 10_000


def _num(v: Any) -> Any:
    """NaN is stored as NULL (SQLite has no NaN) and read back as NaN for float columns."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


class PaperLedger:
    """Strategies, orders, fills and events of the paper trader in one store.

    Parameters
    ----------
    execute
        Runs one SQL statement (``?`` placeholders); returns the rows and the row count.
    transaction
        Opens one atomic transaction.
    """

    def __init__(
        self, execute: Execute, transaction: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._execute, self._transaction = execute, transaction

    # -- strategies ---------------------------------------------------------------------------
    def save_strategy(
        self, pair_id: int, settings: dict[str, Any], position: dict[str, Any], *, active: bool
    ) -> None:
        """Attach (or re-configure) the strategy of a book pair, with its position."""
        body = c.dump_json(settings, "paper settings")
        pos = c.dump_json(position, "paper position")
        now = c.now_us()
        with self._transaction():
            self._execute(
                "INSERT INTO paper_strategies (pair_id, body, active, position, created_us, "
                "updated_us) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pair_id) DO UPDATE SET "
                "body = excluded.body, active = excluded.active, position = excluded.position, "
                "updated_us = excluded.updated_us",
                (int(pair_id), body, int(active), pos, now, now),
            )

    def set_active(self, pair_id: int, active: bool) -> bool:
        """Mark a strategy active or stopped; return whether it exists."""
        with self._transaction():
            _, n = self._execute(
                "UPDATE paper_strategies SET active = ?, updated_us = ? WHERE pair_id = ?",
                (int(active), c.now_us(), int(pair_id)),
            )
            return n > 0

    def strategies(self) -> list[dict[str, Any]]:
        """Every strategy by pair id (``pair_id``, ``settings``, ``active``, ``position``,
        ``created_us``, ``updated_us``)."""
        rows, _ = self._execute(
            "SELECT pair_id, body, active, position, created_us, updated_us "
            "FROM paper_strategies ORDER BY pair_id",
            (),
        )
        return [
            {"pair_id": int(p), "settings": c.load_json(b), "active": bool(a),
             "position": c.load_json(pos), "created_us": int(cu), "updated_us": int(uu)}
            for p, b, a, pos, cu, uu in rows
        ]  # fmt: skip

    # -- one change set -----------------------------------------------------------------------
    def save_changes(
        self,
        orders: Iterable[dict[str, Any]] = (),
        fills: Iterable[dict[str, Any]] = (),
        events: Iterable[dict[str, Any]] = (),
        positions: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """Write orders (new or with a new status), fills (once), events and positions together."""
        ocols, fcols = ", ".join(ORDER_COLUMNS), ", ".join(FILL_COLUMNS)
        oq, fq = ", ".join("?" * len(ORDER_COLUMNS)), ", ".join("?" * len(FILL_COLUMNS))
        with self._transaction():
            for o in orders:
                self._execute(
                    f"INSERT INTO paper_orders ({ocols}) VALUES ({oq}) ON CONFLICT (client_id) "
                    "DO UPDATE SET status = excluded.status, done_ts = excluded.done_ts",
                    tuple(_num(o[k]) for k in ORDER_COLUMNS),
                )
            for f in fills:
                row = {**f, "assumed_spread": int(bool(f["assumed_spread"]))}
                self._execute(
                    f"INSERT INTO paper_fills ({fcols}) VALUES ({fq}) ON CONFLICT DO NOTHING",
                    tuple(_num(row[k]) for k in FILL_COLUMNS),
                )
            for e in events:
                self._execute(
                    "INSERT INTO paper_events (pair_id, ts, kind, body) VALUES (?, ?, ?, ?)",
                    (int(e["pair_id"]), int(e["ts"]), str(e["kind"]),
                     c.dump_json(e.get("detail") or {}, "paper event")),
                )  # fmt: skip
            now = c.now_us()
            for pid, pos in (positions or {}).items():
                self._execute(
                    "UPDATE paper_strategies SET position = ?, updated_us = ? WHERE pair_id = ?",
                    (c.dump_json(pos, "paper position"), now, int(pid)),
                )

    # -- reads --------------------------------------------------------------------------------
    def orders(
        self,
        *,
        pair_id: int | None = None,
        status: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Orders sent in ``[start, end)``, newest first (``status``: only those)."""
        where, params = self._where("sent", pair_id, start, end)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        rows = self._select("paper_orders", ORDER_COLUMNS, where, params, "sent", limit)
        for r in rows:
            r["ref_price"] = math.nan if r["ref_price"] is None else r["ref_price"]
        return rows

    def fills(
        self,
        *,
        pair_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Fills in ``[start, end)``, newest first."""
        where, params = self._where("ts", pair_id, start, end)
        rows = self._select("paper_fills", FILL_COLUMNS, where, params, "ts", limit)
        for r in rows:
            r["assumed_spread"] = bool(r["assumed_spread"])
            r["ref_price"] = math.nan if r["ref_price"] is None else r["ref_price"]
        return rows

    def events(
        self,
        *,
        pair_id: int | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Strategy events in ``[start, end)``, newest first."""
        where, params = self._where("ts", pair_id, start, end)
        sql = "SELECT pair_id, ts, kind, body FROM paper_events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts DESC, id DESC LIMIT ?"
        rows, _ = self._execute(sql, (*params, _limit(limit)))
        return [{"pair_id": int(p), "ts": int(t), "kind": k, "detail": c.load_json(b)}
                for p, t, k, b in rows]  # fmt: skip

    def _where(
        self, col: str, pair_id: int | None, start: int | None, end: int | None
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for cond, v in (("pair_id = ?", pair_id), (f"{col} >= ?", start), (f"{col} < ?", end)):
            if v is not None:
                where.append(cond)
                params.append(int(v))
        return where, params

    def _select(self, table: str, cols: tuple[str, ...], where: list[str], params: list[Any],
                order: str, limit: int) -> list[dict[str, Any]]:  # fmt: skip
        sql = f"SELECT {', '.join(cols)} FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} DESC, {cols[0]} DESC LIMIT ?"
        rows, _ = self._execute(sql, (*params, _limit(limit)))
        return [dict(zip(cols, r, strict=True)) for r in rows]


def _limit(limit: int) -> int:
    if not 1 <= int(limit) <= MAX_ROWS:
        raise ValueError(f"limit must be in [1, {MAX_ROWS}], got {limit!r}")
    return int(limit)


__all__ = ["FILL_COLUMNS", "MAX_ROWS", "ORDER_COLUMNS", "PaperLedger"]
