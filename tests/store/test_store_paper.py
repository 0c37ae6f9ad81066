"""The paper trader's ledger: the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

import math

from statarb.paper import BarInput, PaperDesk, PaperPosition, PaperSettings, PaperStrategy
from statarb.store import open_store
from statarb.store.base import TickStore

S = 1_000_000


def _changes():  # type: ignore[no-untyped-def]
    desk = PaperDesk()
    desk.attach(PaperStrategy(3, "AUSDT", "BUSDT", PaperSettings()))
    out = desk.on_bar(3, BarInput(0, 60 * S, z=2.5, hedge_ratio=1.0, half_life=9.0, y=100.0,
                                  x=100.0))  # fmt: skip
    fill = desk.on_quote("AUSDT", 60 * S + 1, bid=99.9, ask=100.1)
    return desk, out, fill


def _save(store: TickStore, desk: PaperDesk, *outs) -> None:  # type: ignore[no-untyped-def]
    for out in outs:
        store.paper.save_changes(
            [o.to_dict() for o in out.orders], [f.to_dict() for f in out.fills],
            [e.to_dict() for e in out.events],
            {p: desk.strategies[p].position.to_dict() for p in out.positions},
        )  # fmt: skip


def test_ledger_round_trips_and_a_replay_duplicates_nothing(
    store: TickStore, store_url: str
) -> None:
    desk, opened, filled = _changes()
    st = desk.strategies[3]
    store.paper.save_strategy(3, st.settings.to_dict(), PaperPosition().to_dict(), active=True)
    _save(store, desk, opened, filled)
    _save(store, desk, opened, filled)  # a replay after a crash
    store.close()
    s2 = open_store(store_url)
    try:
        (row,) = s2.paper.strategies()
        assert row["pair_id"] == 3 and row["active"] is True
        assert PaperPosition.from_dict(row["position"]) == st.position
        assert PaperSettings(**row["settings"]) == st.settings
        orders = s2.paper.orders()
        assert sorted((o["client_id"], o["status"]) for o in orders) == [
            ("pa3-0-ox0", "working"), ("pa3-0-oy0", "filled"),
        ]  # fmt: skip
        fills = s2.paper.fills()
        assert len(fills) == 1 and fills[0] == {**filled.fills[0].to_dict()}
        assert s2.paper.orders(status="working")[0]["ref_price"] == 100.0
        assert s2.paper.fills(start=60 * S + 2) == [] and len(s2.paper.fills(end=60 * S + 2)) == 1
        kinds = [e["kind"] for e in s2.paper.events(pair_id=3)]
        assert kinds.count("fill") == 2 and "signal" in kinds  # events are a log: both writes
        assert s2.paper.events(pair_id=4) == []
        assert s2.paper.set_active(3, False) is True and s2.paper.set_active(9, False) is False
        assert s2.paper.strategies()[0]["active"] is False
    finally:
        s2.close()


def test_an_order_without_a_reference_price_reads_back_nan(store: TickStore) -> None:
    _, opened, _ = _changes()
    o = {**opened.orders[0].to_dict(), "ref_price": math.nan}
    store.paper.save_changes([o])
    (back,) = [r for r in store.paper.orders() if r["client_id"] == o["client_id"]]
    assert math.isnan(back["ref_price"])
