"""The evaluator state machine: operators, edges, nesting, crosses, hysteresis, cooldown."""

from __future__ import annotations

import operator

import pytest

from statarb.alerts.evaluator import AlertEvaluator
from statarb.alerts.rules import parse_rule

K = "zscore:BTCUSDT/ETHUSDT:1m"
C = "correlation:BTCUSDT/ETHUSDT:1m"
S = 1_000_000


def _rule(rid: int = 1, cooldown: float = 0.0, **leaf: object) -> object:
    cond: dict[str, object] = {"metric": "zscore", "target": "BTCUSDT/ETHUSDT",
                               "timeframe": "1m", "operator": ">", "threshold": 2.0}  # fmt: skip
    cond.update(leaf)
    return parse_rule({"id": rid, "name": f"r{rid}", "condition": cond,
                       "cooldown_seconds": cooldown})  # fmt: skip


def _run(ev: AlertEvaluator, series: list[float], key: str = K) -> list[int]:
    """Indices of the updates at which a trigger fired."""
    return [i for i, v in enumerate(series) if ev.evaluate({key: v}, ts=i * S)]


SERIES = [0.0, 1.0, 2.0, 3.0, 2.5, 2.0, 1.0, 2.0, 4.0, 1.0]


@pytest.mark.parametrize(
    ("op", "fn"),
    [(">", operator.gt), (">=", operator.ge), ("<", operator.lt), ("<=", operator.le)],
)
def test_threshold_operators_fire_on_each_rising_edge_only(op: str, fn: object) -> None:
    ev = AlertEvaluator([_rule(operator=op)])  # type: ignore[list-item]
    truth = [fn(v, 2.0) for v in SERIES]  # type: ignore[operator]
    expected = [i for i, t in enumerate(truth) if t and (i == 0 or not truth[i - 1])]
    assert _run(ev, SERIES) == expected
    assert ev.stats()[1]["fired"] == len(expected)


def test_no_refire_while_true() -> None:
    ev = AlertEvaluator([_rule()])  # type: ignore[list-item]
    assert _run(ev, [3.0] * 50) == [0]


def test_crosses_fire_on_the_exact_update() -> None:
    up = AlertEvaluator([_rule(operator="crosses_above")])  # type: ignore[list-item]
    # starts above: not a cross; 1.0 -> 2.0 crosses (prev < thr <= cur); 2.0 -> 4.0 does not
    assert _run(up, [3.0, 1.0, 2.0, 4.0, 1.9, 2.1, 2.1, 2.2]) == [2, 5]
    down = AlertEvaluator([_rule(operator="crosses_below")])  # type: ignore[list-item]
    assert _run(down, [1.0, 3.0, 2.0, 1.0, 2.5, 1.5]) == [2, 5]


def test_cross_is_not_seen_twice_when_another_metric_updates() -> None:
    rule = parse_rule({"id": 1, "name": "x", "condition": {"op": "or", "children": [
        {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
         "operator": "crosses_above", "threshold": 2.0},
        {"metric": "correlation", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
         "operator": "<", "threshold": -5.0}]}})  # fmt: skip
    ev = AlertEvaluator([rule])
    assert not ev.evaluate({K: 1.0, C: 0.9}, ts=0)
    assert ev.evaluate({K: 2.5, C: 0.9}, ts=1)
    assert not ev.evaluate({K: 2.5, C: 0.8}, ts=2, changed=[C])


def test_hysteresis_stops_a_hovering_value_from_storming() -> None:
    hover = [2.1, 1.99, 2.05, 1.95, 2.2, 1.9, 2.01, 1.4, 2.3]
    plain = AlertEvaluator([_rule()])  # type: ignore[list-item]
    assert _run(plain, hover) == [0, 2, 4, 6, 8]
    band = AlertEvaluator([_rule(hysteresis=0.5)])  # type: ignore[list-item]
    # re-armed only once the value fell to <= 1.5 (index 7)
    assert _run(band, hover) == [0, 8]
    below = AlertEvaluator([_rule(operator="<", threshold=-2.0, hysteresis=0.5)])  # type: ignore[list-item]
    assert _run(below, [-2.1, -1.9, -2.2, -1.5, -2.5]) == [0, 4]


def test_cross_with_hysteresis_rearms_past_the_band() -> None:
    ev = AlertEvaluator([_rule(operator="crosses_above", hysteresis=1.0)])  # type: ignore[list-item]
    assert _run(ev, [1.5, 2.1, 1.9, 2.1, 0.9, 2.0]) == [1, 5]


def test_and_or_nesting() -> None:
    rule = parse_rule({"id": 7, "name": "n", "condition": {"op": "and", "children": [
        {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
         "operator": ">", "threshold": 2.0},
        {"op": "or", "children": [
            {"metric": "correlation", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
             "operator": ">", "threshold": 0.8},
            {"metric": "price", "target": "BTCUSDT", "operator": "<", "threshold": 100}]}]}})  # fmt: skip  # noqa: E501
    ev = AlertEvaluator([rule])
    P = "price:BTCUSDT:tick"
    steps = [
        ({K: 3.0, C: 0.5, P: 200.0}, False),  # and: or-branch false
        ({K: 3.0, C: 0.9, P: 200.0}, True),  # correlation makes the or true
        ({K: 3.0, C: 0.5, P: 50.0}, False),  # still true via price: no re-fire
        ({K: 1.0, C: 0.5, P: 50.0}, False),  # false: re-armed
        ({K: 3.0, C: 0.5, P: 50.0}, True),
    ]
    for i, (vals, fires) in enumerate(steps):
        trig = ev.evaluate(vals, ts=i)
        assert bool(trig) is fires, i
    assert trig[0].values == {K: 3.0, C: 0.5, P: 50.0}
    assert "n:" in trig[0].message


def test_cooldown_holds_back_then_delivers_if_still_true() -> None:
    ev = AlertEvaluator([_rule(cooldown=10.0)])  # type: ignore[list-item]
    fired = []
    for t, v in [(0, 3.0), (1, 1.0), (2, 3.0), (5, 3.0), (10, 3.0), (11, 3.0), (12, 1.0),
                 (13, 3.0), (30, 1.0), (31, 3.0)]:  # fmt: skip
        if ev.evaluate({K: v}, ts=t * S):
            fired.append(t)
    # edge at 2 is inside the cooldown; it fires at 10 (cooldown over, still true), not at 11;
    # the edge at 13 is inside the next cooldown and gone false by 30; 31 is a new edge
    assert fired == [0, 10, 31]
    assert ev.stats()[1]["suppressed"] == 2


def test_pending_rule_is_evaluated_without_a_changed_key() -> None:
    ev = AlertEvaluator([_rule(cooldown=5.0)])  # type: ignore[list-item]
    assert ev.evaluate({K: 3.0}, ts=0)
    assert not ev.evaluate({K: 1.0}, ts=1 * S, changed=[K])
    assert not ev.evaluate({K: 3.0}, ts=2 * S, changed=[K])
    assert ev.evaluate({K: 3.0}, ts=6 * S, changed=["other"])


def test_a_held_trigger_survives_restore_and_ends_with_its_rule() -> None:
    others = [_rule(10 + i, target=f"S{i}USDT/ETHUSDT") for i in range(50)]  # read other keys
    ev = AlertEvaluator([_rule(cooldown=5.0), *others])  # type: ignore[list-item]
    assert ev.evaluate({K: 3.0}, ts=0, changed=[K])
    assert not ev.evaluate({K: 1.0}, ts=1 * S, changed=[K])
    assert not ev.evaluate({K: 3.0}, ts=2 * S, changed=[K])  # held by the cooldown
    fresh = AlertEvaluator([_rule(cooldown=5.0), *others])  # type: ignore[list-item]
    fresh.restore(ev.snapshot())
    assert [t.rule_id for t in fresh.evaluate({K: 3.0}, ts=6 * S, changed=["x"])] == [1]
    assert not ev.evaluate({K: 3.0}, ts=3 * S, changed=[K])
    ev.add(_rule(cooldown=5.0, threshold=2.5))  # type: ignore[arg-type]  # new condition
    assert not ev.evaluate({K: 3.0}, ts=6 * S, changed=["x"])  # nothing held any more
    assert ev.rule(1) is not None and ev.rule(1).condition.threshold == 2.5  # type: ignore[union-attr]
    ev.remove(1)
    assert ev.rule(1) is None and ev.evaluate({K: 3.0}, ts=20 * S, changed=["x"]) == []


def test_snapshot_restore_keeps_the_edge_state() -> None:
    ev = AlertEvaluator([_rule(), _rule(2, operator="crosses_above")])  # type: ignore[list-item]
    ev.evaluate({K: 3.0}, ts=0)
    snap = ev.snapshot()
    fresh = AlertEvaluator([_rule(), _rule(2, operator="crosses_above")])  # type: ignore[list-item]
    fresh.restore(snap)
    assert fresh.evaluate({K: 3.5}, ts=1) == []  # was already true: no re-fire after a restart
    assert [t.rule_id for t in fresh.evaluate({K: 1.0}, ts=2)] == []
    assert [t.rule_id for t in fresh.evaluate({K: 2.5}, ts=3)] == [1, 2]
    assert fresh.snapshot()["1"]["fired"] == 2


def test_disabled_and_removed_rules_never_fire() -> None:
    off = parse_rule({**_rule().to_dict(), "enabled": False})  # type: ignore[attr-defined]
    ev = AlertEvaluator([off])
    assert not ev.reads(K) and ev.metric_keys() == set()
    assert ev.evaluate({K: 3.0}, ts=0) == []
    ev.add(_rule())  # type: ignore[arg-type]
    assert ev.reads(K) and ev.metric_keys() == {K}
    assert ev.evaluate({K: 3.0}, ts=1)
    assert ev.remove(1) and not ev.remove(1)
    assert ev.evaluate({K: 1.0}, ts=2) == [] and ev.evaluate({K: 3.0}, ts=3) == []


def test_missing_and_nan_values_do_not_fire() -> None:
    ev = AlertEvaluator([_rule()])  # type: ignore[list-item]
    assert ev.evaluate({}, ts=0) == []
    assert ev.evaluate({K: float("nan")}, ts=1) == []
    assert ev.evaluate({K: 3.0}, ts=2)


def test_prime_restores_a_running_cooldown() -> None:
    ev = AlertEvaluator([_rule(cooldown=60.0)])  # type: ignore[list-item]
    ev.prime(1, last_fired=100 * S)
    assert ev.evaluate({K: 3.0}, ts=130 * S) == []  # inside the cooldown: held back
    assert ev.evaluate({K: 3.0}, ts=161 * S)
    with pytest.raises(ValueError, match="no rule with id 9"):
        ev.prime(9, last_fired=0)
