"""Fuzzing the alert-rule parser: only AlertRuleError comes out, and what it accepts is sound.

Inputs are arbitrary JSON-like values, near-valid rules whose fields are drawn from good and bad
values (huge integers, NaN and infinities, lone surrogates, wrong types), and AND/OR trees nested
past the depth limit. An accepted rule must hold only finite numbers, known metrics and valid
targets, round-trip through ``to_dict`` and through a real store unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from statarb.alerts.rules import (
    OPERATORS,
    PAIR_METRICS,
    SYMBOL_METRICS,
    Condition,
    Group,
    Node,
    Rule,
    parse_rule,
)
from statarb.errors import AlertRuleError
from statarb.model import Timeframe
from statarb.store.sqlite import SQLiteStore

#: inputs tried per test (hypothesis max_examples)
ARBITRARY_EXAMPLES = 400
VALID_EXAMPLES = 200
MUTATION_EXAMPLES = 300
NESTING_EXAMPLES = 14 * 9  # depths x thresholds, exhaustive

_STORE_SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# numbers past the float range, past 64 bits, past the 4300-digit str limit (built on use: the
# strategy's repr must not print them)
_HUGE = st.one_of(
    st.sampled_from([400, -400, 5000]).map(lambda k: 10 ** abs(k) * (1 if k > 0 else -1)),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 1e308, -1e308, 5e-324]),
)
_NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
_ODD_TEXT = ["", " ", "\x00", "\ud800", "tick", "1m", "AND", "and ", "ß", "ǅ", "x" * 300]
_SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{0,39}")

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    _HUGE,
    _NONFINITE,
    st.text(max_size=8),
    st.sampled_from(_ODD_TEXT),
)
_json = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


_finite = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**80), 2**80),
    st.sampled_from([2**63, 1e308, -0.0, 5e-324]),
)
_symbol = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}", fullmatch=True)
_json_ok = st.recursive(  # JSON the stores keep as it is
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _valid_leaf(draw: st.DrawFn) -> dict[str, Any]:
    pair = draw(st.booleans())
    a = draw(_symbol)
    target = f"{a}/{draw(_symbol.filter(lambda b: b.upper() != a.upper()))}" if pair else a
    metric = draw(st.sampled_from(sorted(PAIR_METRICS if pair else SYMBOL_METRICS)))
    frames = ["1m", "5m", "15m", "1h", "250ms", "4h", "1d", "2w"]
    per_tick = metric in {"price", "spread", "zscore"}
    leaf = {"metric": metric, "target": draw(st.sampled_from([target, target.lower()])),
            "operator": draw(st.sampled_from(OPERATORS)), "threshold": draw(_finite)}  # fmt: skip
    tf = draw(st.sampled_from([*frames, None, "tick"] if per_tick else frames))
    if tf is not None or draw(st.booleans()):
        leaf["timeframe"] = tf
    if draw(st.booleans()):
        leaf["hysteresis"] = draw(st.floats(0, 1e6) | st.integers(0, 10**6))
    return leaf


def _valid_tree(depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 8:
        return _valid_leaf()
    group = st.fixed_dictionaries(
        {
            "op": st.sampled_from(["and", "or"]),
            "children": st.lists(
                st.deferred(lambda: _valid_tree(depth + 1)), min_size=1, max_size=3
            ),
        }
    )
    return st.one_of(_valid_leaf(), group)


def _leaf_count(node: dict[str, Any]) -> int:
    return sum(_leaf_count(c) for c in node["children"]) if "children" in node else 1


_valid_webhook = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["slack", "discord", "custom"]),
        "url": st.sampled_from(["https://hooks.example.com/x/y?z=1", "http://127.0.0.1:9/h"]),
    },
    optional={"secret": st.text(min_size=1, max_size=8)},
)
_valid_rule = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=200).filter(str.strip),
        "condition": _valid_tree().filter(lambda t: _leaf_count(t) <= 64),
    },
    optional={
        "cooldown_seconds": st.floats(0, 1e9) | st.integers(0, 10**9),
        "enabled": st.booleans(),
        "webhooks": st.lists(_valid_webhook, max_size=3),
        "id": st.integers(1, 2**53 - 1),
        "metadata": st.dictionaries(st.text(max_size=4), _json_ok, max_size=3),
    },
)


def _paths(obj: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every (path as the parser names it, container, key) inside a rule dict."""
    out: list[tuple[str, Any, Any]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for key, value in items:
        sub = f"{path}[{key}]" if isinstance(obj, list) else (f"{path}.{key}" if path else key)
        out.append((sub, obj, key))
        if isinstance(value, dict | list):
            out += _paths(value, sub)
    return out


def _parse(data: Any) -> Rule | None:
    """The parsed rule, or None after a clear AlertRuleError (any other exception fails)."""
    try:
        rule = parse_rule(data)
    except AlertRuleError as exc:
        if currently_in_test_context():
            event("rejected")
        message = str(exc)
        assert 0 < len(message) < 2000, message[:200]
        # it starts with the path of the field at fault (metadata paths hold any key text)
        assert re.match(r"^[\w.\[\]]+: ", message) or message.startswith("metadata"), message[:200]
        return None
    if currently_in_test_context():
        event("accepted")
    return rule


def _depth(node: Node) -> int:
    return 0 if isinstance(node, Condition) else 1 + max(_depth(c) for c in node.children)


def _check_sound(rule: Rule) -> None:
    """What an accepted rule must be, checked without the parser's own helpers."""
    assert rule.name == rule.name.strip() and 0 < len(rule.name) <= 200
    assert math.isfinite(rule.cooldown_seconds) and rule.cooldown_seconds >= 0
    assert rule.id is None or 1 <= rule.id < 2**53
    assert _depth(rule.condition) <= 8
    leaves = list(rule.conditions())
    assert 1 <= len(leaves) <= 64
    for c in leaves:
        assert math.isfinite(c.threshold) and math.isfinite(c.hysteresis) and c.hysteresis >= 0
        assert c.operator in OPERATORS
        parts = c.target.split("/")
        assert len(parts) in (1, 2) and all(_SYMBOL_RE.fullmatch(p) for p in parts)
        assert c.metric in (PAIR_METRICS if len(parts) == 2 else SYMBOL_METRICS)
        if c.timeframe is None:
            assert c.metric in {"price", "spread", "zscore"}
        else:
            assert Timeframe.parse(c.timeframe).name == c.timeframe
    for w in rule.webhooks:
        assert w.url.startswith(("http://", "https://")) and " " not in w.url
    orjson.dumps(rule.to_dict())  # storable: finite, 64-bit, valid Unicode


@pytest.fixture
def rule_store() -> Iterator[SQLiteStore]:
    with SQLiteStore("sqlite:///:memory:") as store:
        yield store


@settings(max_examples=ARBITRARY_EXAMPLES, deadline=None)
@given(
    st.one_of(
        _json, st.dictionaries(st.sampled_from(["name", "condition", "id", "webhooks"]), _json)
    )
)
def test_arbitrary_json_gives_a_rule_or_a_rule_error(data: Any) -> None:
    rule = _parse(data)
    if rule is not None:
        _check_sound(rule)


@settings(_STORE_SETTINGS, max_examples=VALID_EXAMPLES)
@given(data=_valid_rule)
def test_valid_rules_are_accepted_and_round_trip(
    data: dict[str, Any], rule_store: SQLiteStore
) -> None:
    rule = _parse(data)
    assert rule is not None
    _check_sound(rule)
    assert parse_rule(rule.to_dict()) == rule
    rid = rule_store.save_alert_rule(rule.to_dict())
    stored = {r["id"]: r for r in rule_store.list_alert_rules()}[rid]
    assert parse_rule(stored) == replace(rule, id=rid)


@settings(max_examples=MUTATION_EXAMPLES, deadline=None)
@given(_valid_rule, st.data())
def test_one_bad_field_is_named_or_the_rule_stays_sound(
    rule: dict[str, Any], data: st.DataObject
) -> None:
    path, container, key = data.draw(st.sampled_from(_paths(rule)), label="mutated")
    if isinstance(container, dict) and data.draw(st.booleans(), label="delete"):
        del container[key]
    else:
        container[key] = data.draw(_json, label="value")
    parsed = _parse(rule)
    if parsed is not None:
        _check_sound(parsed)
        return
    with pytest.raises(AlertRuleError) as err:
        parse_rule(rule)
    at = str(err.value).split(": ", 1)[0]
    parent = path.rsplit(".", 1)[0] if "." in path.rsplit("]", 1)[-1] else path.rsplit("[", 1)[0]
    assert at.startswith(parent), (path, str(err.value)[:200])


def _chain(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for i in range(depth):
        node = {"op": "and" if i % 2 else "or", "children": [node]}
    return node


_LEAF = {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "operator": ">=", "threshold": 2}


def test_nesting_limit_and_threshold_edges() -> None:
    thresholds = [2.0, 1e308, -0.0, 2**63, 10**400, -(10**400), math.nan, math.inf, -math.inf]
    for depth in [*range(12), 30, 60]:
        for threshold in thresholds:
            rule = _parse(
                {"name": "deep", "condition": _chain(depth, {**_LEAF, "threshold": threshold})}
            )
            finite = abs(threshold) < 10**309 and math.isfinite(threshold)
            assert (rule is not None) == (depth <= 8 and finite), (depth, threshold)
            if rule is not None:
                assert _depth(rule.condition) == depth
                assert next(rule.conditions()).threshold == float(threshold)


def test_nesting_past_the_recursion_limit_is_a_rule_error() -> None:
    with pytest.raises(AlertRuleError, match="deeper than 8"):
        parse_rule({"name": "x", "condition": _chain(5000, _LEAF)})
    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested]
    for data in (
        {"name": nested, "condition": _LEAF},
        {"name": "x", "condition": {**_LEAF, "operator": nested}},
        {"name": "x", "condition": _LEAF, "metadata": {"m": nested}},
        {"name": 10**5000, "condition": _LEAF},
    ):
        with pytest.raises(AlertRuleError):
            parse_rule(data)


def test_wide_trees_are_capped() -> None:
    wide = {"op": "or", "children": [_LEAF] * 65}
    with pytest.raises(AlertRuleError, match="65 conditions, at most 64"):
        parse_rule({"name": "wide", "condition": wide})
    rule = parse_rule({"name": "ok", "condition": {"op": "or", "children": [_LEAF] * 64}})
    assert isinstance(rule.condition, Group) and len(rule.condition.children) == 64
