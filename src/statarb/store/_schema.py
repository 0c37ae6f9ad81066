"""Versioned schemas of the stores: migrations applied in order, each in its own transaction.

A migration is a tuple of SQL statements; its version is its 1-based position in the list. A store
records the version it is at (SQLite: ``PRAGMA user_version``; PostgreSQL: table
``schema_version``) and applies only the migrations after it. Never edit a released migration:
append a new one.

Layout shared by both backends: ``symbols`` maps names to small integer ids so the big tables do
not repeat text; ``symbol_stats`` and ``bar_stats`` keep per-symbol counts and first/last times up
to date in the same transaction as the writes, so listing symbols never counts millions of rows.
Ticks are unique on (symbol, trade_id) when the trade id is known and on (symbol, ts, price, size)
otherwise (``trade_id = -1``). SQLite: the primary key (symbol_id, ts, trade_id, price, size) is
also the read order and the only B-tree of the table (version 2 dropped the partial unique index
on (symbol_id, trade_id), which doubled the cost of every insert); the writer enforces the
trade-id rule, looking stored ids up only where a batch's ids overlap the symbol's stored id range
(kept in ``symbol_stats``). PostgreSQL: see the comment on its ticks table.
"""

from __future__ import annotations

SQLITE_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE symbols (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE symbol_stats (
            symbol_id INTEGER PRIMARY KEY REFERENCES symbols(id),
            ticks INTEGER NOT NULL DEFAULT 0,
            first_ts INTEGER,
            last_ts INTEGER,
            quotes INTEGER NOT NULL DEFAULT 0,
            has_recv_ts INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE bar_stats (
            symbol_id INTEGER NOT NULL,
            timeframe TEXT NOT NULL,
            bars INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (symbol_id, timeframe)
        ) WITHOUT ROWID""",
        """CREATE TABLE ticks (
            symbol_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            trade_id INTEGER NOT NULL,
            price REAL NOT NULL,
            size REAL NOT NULL,
            side INTEGER NOT NULL,
            recv_ts INTEGER NOT NULL,
            PRIMARY KEY (symbol_id, ts, trade_id, price, size)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX ticks_trade_id ON ticks (symbol_id, trade_id) WHERE trade_id >= 0",
        """CREATE TABLE quotes (
            symbol_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            update_id INTEGER NOT NULL,
            bid REAL NOT NULL,
            bid_size REAL NOT NULL,
            ask REAL NOT NULL,
            ask_size REAL NOT NULL,
            PRIMARY KEY (symbol_id, ts, update_id, bid, bid_size, ask, ask_size)
        ) WITHOUT ROWID""",
        """CREATE UNIQUE INDEX quotes_update_id ON quotes (symbol_id, ts, update_id)
            WHERE update_id >= 0""",
        """CREATE TABLE bars (
            symbol_id INTEGER NOT NULL,
            timeframe TEXT NOT NULL,
            open_time INTEGER NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL NOT NULL,
            notional REAL NOT NULL,
            trades INTEGER NOT NULL,
            taker_buy_volume REAL NOT NULL,
            PRIMARY KEY (symbol_id, timeframe, open_time)
        ) WITHOUT ROWID""",
        """CREATE TABLE alert_rules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            body TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL
        )""",
        """CREATE TABLE alert_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rule_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX alert_events_ts ON alert_events (ts, id)",
        "CREATE INDEX alert_events_rule ON alert_events (rule_id, ts, id)",
    ),
    # 2: one B-tree per tick: the stored trade-id range moves into symbol_stats (read through the
    # old index, before it is dropped) and the writer enforces the trade-id rule
    (
        "ALTER TABLE symbol_stats ADD COLUMN min_trade_id INTEGER",
        "ALTER TABLE symbol_stats ADD COLUMN max_trade_id INTEGER",
        """UPDATE symbol_stats SET
            min_trade_id = (SELECT min(trade_id) FROM ticks
                            WHERE ticks.symbol_id = symbol_stats.symbol_id AND trade_id >= 0),
            max_trade_id = (SELECT max(trade_id) FROM ticks
                            WHERE ticks.symbol_id = symbol_stats.symbol_id AND trade_id >= 0)""",
        "DROP INDEX ticks_trade_id",
    ),
    # 3: the watched pairs of the book
    (
        """CREATE TABLE book_pairs (
            id INTEGER PRIMARY KEY,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            timeframe TEXT NOT NULL,
            body TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            UNIQUE (a, b, timeframe)
        )""",
    ),
    # 4: the paper trader (strategies per book pair, orders, fills, events)
    (
        """CREATE TABLE paper_strategies (
            pair_id INTEGER PRIMARY KEY,
            body TEXT NOT NULL,
            active INTEGER NOT NULL,
            position TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL
        )""",
        """CREATE TABLE paper_orders (
            client_id TEXT PRIMARY KEY,
            pair_id INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            leg TEXT NOT NULL,
            side INTEGER NOT NULL,
            qty REAL NOT NULL,
            purpose TEXT NOT NULL,
            signal_time INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            ref_price REAL,
            status TEXT NOT NULL,
            done_ts INTEGER
        )""",
        "CREATE INDEX paper_orders_sent ON paper_orders (sent)",
        "CREATE INDEX paper_orders_pair ON paper_orders (pair_id, sent)",
        """CREATE TABLE paper_fills (
            fill_id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL UNIQUE,
            pair_id INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            leg TEXT NOT NULL,
            side INTEGER NOT NULL,
            qty REAL NOT NULL,
            price REAL NOT NULL,
            base REAL NOT NULL,
            ref_price REAL,
            fee REAL NOT NULL,
            slippage REAL NOT NULL,
            ts INTEGER NOT NULL,
            source TEXT NOT NULL,
            assumed_spread INTEGER NOT NULL,
            realised REAL NOT NULL
        )""",
        "CREATE INDEX paper_fills_ts ON paper_fills (ts)",
        "CREATE INDEX paper_fills_pair ON paper_fills (pair_id, ts)",
        """CREATE TABLE paper_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            pair_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX paper_events_ts ON paper_events (ts, id)",
    ),
)

#: created before any migration runs, so the version can be read from an empty schema
POSTGRES_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_us BIGINT NOT NULL
)"""

POSTGRES_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE symbols (
            id SERIAL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE symbol_stats (
            symbol_id INTEGER PRIMARY KEY REFERENCES symbols(id),
            ticks BIGINT NOT NULL DEFAULT 0,
            first_ts BIGINT,
            last_ts BIGINT,
            quotes BIGINT NOT NULL DEFAULT 0,
            has_recv_ts BOOLEAN NOT NULL DEFAULT FALSE,
            min_trade_id BIGINT,
            max_trade_id BIGINT
        )""",
        """CREATE TABLE bar_stats (
            symbol_id INTEGER NOT NULL,
            timeframe TEXT NOT NULL,
            bars BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (symbol_id, timeframe)
        )""",
        # one partition per symbol (created on its first write), clustered by arrival: BRIN
        # indexes stay tiny and cheap to maintain, so bulk COPY runs at full speed.
        # Uniqueness (symbol, trade_id) / (symbol, ts, price, size) is enforced by the writer
        # under a per-symbol advisory lock, see PostgresStore.write_ticks.
        """CREATE TABLE ticks (
            symbol_id INTEGER NOT NULL,
            ts BIGINT NOT NULL,
            trade_id BIGINT NOT NULL,
            price DOUBLE PRECISION NOT NULL,
            size DOUBLE PRECISION NOT NULL,
            side SMALLINT NOT NULL,
            recv_ts BIGINT NOT NULL
        ) PARTITION BY LIST (symbol_id)""",
        "CREATE INDEX ticks_brin ON ticks USING brin (ts, trade_id) WITH (autosummarize = on)",
        """CREATE TABLE quotes (
            symbol_id INTEGER NOT NULL,
            ts BIGINT NOT NULL,
            update_id BIGINT NOT NULL,
            bid DOUBLE PRECISION NOT NULL,
            bid_size DOUBLE PRECISION NOT NULL,
            ask DOUBLE PRECISION NOT NULL,
            ask_size DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX quotes_symbol_ts ON quotes (symbol_id, ts, update_id)",
        """CREATE UNIQUE INDEX quotes_key ON quotes (
            symbol_id, ts, update_id,
            (CASE WHEN update_id >= 0 THEN 0 ELSE bid END),
            (CASE WHEN update_id >= 0 THEN 0 ELSE bid_size END),
            (CASE WHEN update_id >= 0 THEN 0 ELSE ask END),
            (CASE WHEN update_id >= 0 THEN 0 ELSE ask_size END)
        )""",
        """CREATE TABLE bars (
            symbol_id INTEGER NOT NULL,
            timeframe TEXT NOT NULL,
            open_time BIGINT NOT NULL,
            open DOUBLE PRECISION NOT NULL,
            high DOUBLE PRECISION NOT NULL,
            low DOUBLE PRECISION NOT NULL,
            close DOUBLE PRECISION NOT NULL,
            volume DOUBLE PRECISION NOT NULL,
            notional DOUBLE PRECISION NOT NULL,
            trades BIGINT NOT NULL,
            taker_buy_volume DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (symbol_id, timeframe, open_time)
        )""",
        """CREATE TABLE alert_rules (
            id BIGSERIAL PRIMARY KEY,
            body TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            updated_us BIGINT NOT NULL
        )""",
        """CREATE TABLE alert_events (
            id BIGSERIAL PRIMARY KEY,
            rule_id BIGINT NOT NULL,
            ts BIGINT NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX alert_events_ts ON alert_events (ts, id)",
        "CREATE INDEX alert_events_rule ON alert_events (rule_id, ts, id)",
    ),
    (
        """CREATE TABLE book_pairs (
            id BIGSERIAL PRIMARY KEY,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            timeframe TEXT NOT NULL,
            body TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            UNIQUE (a, b, timeframe)
        )""",
    ),
    # 3: the paper trader (strategies per book pair, orders, fills, events)
    (
        """CREATE TABLE paper_strategies (
            pair_id BIGINT PRIMARY KEY,
            body TEXT NOT NULL,
            active SMALLINT NOT NULL,
            position TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            updated_us BIGINT NOT NULL
        )""",
        """CREATE TABLE paper_orders (
            client_id TEXT PRIMARY KEY,
            pair_id BIGINT NOT NULL,
            symbol TEXT NOT NULL,
            leg TEXT NOT NULL,
            side SMALLINT NOT NULL,
            qty DOUBLE PRECISION NOT NULL,
            purpose TEXT NOT NULL,
            signal_time BIGINT NOT NULL,
            sent BIGINT NOT NULL,
            attempt INTEGER NOT NULL,
            ref_price DOUBLE PRECISION,
            status TEXT NOT NULL,
            done_ts BIGINT
        )""",
        "CREATE INDEX paper_orders_sent ON paper_orders (sent)",
        "CREATE INDEX paper_orders_pair ON paper_orders (pair_id, sent)",
        """CREATE TABLE paper_fills (
            fill_id TEXT PRIMARY KEY,
            client_id TEXT NOT NULL UNIQUE,
            pair_id BIGINT NOT NULL,
            symbol TEXT NOT NULL,
            leg TEXT NOT NULL,
            side SMALLINT NOT NULL,
            qty DOUBLE PRECISION NOT NULL,
            price DOUBLE PRECISION NOT NULL,
            base DOUBLE PRECISION NOT NULL,
            ref_price DOUBLE PRECISION,
            fee DOUBLE PRECISION NOT NULL,
            slippage DOUBLE PRECISION NOT NULL,
            ts BIGINT NOT NULL,
            source TEXT NOT NULL,
            assumed_spread SMALLINT NOT NULL,
            realised DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX paper_fills_ts ON paper_fills (ts)",
        "CREATE INDEX paper_fills_pair ON paper_fills (pair_id, ts)",
        """CREATE TABLE paper_events (
            id BIGSERIAL PRIMARY KEY,
            pair_id BIGINT NOT NULL,
            ts BIGINT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX paper_events_ts ON paper_events (ts, id)",
    ),
)

__all__ = ["POSTGRES_MIGRATIONS", "POSTGRES_VERSION_TABLE", "SQLITE_MIGRATIONS"]
