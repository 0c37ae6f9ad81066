"""Rule parsing: the JSON shape, round trips and errors naming the field at fault."""

from __future__ import annotations

import pytest

from statarb.alerts.rules import Condition, Group, Webhook, metric_key, parse_rule
from statarb.errors import AlertRuleError

PAIR = "BTCUSDT/ETHUSDT"


def _leaf(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "metric": "zscore", "target": PAIR, "timeframe": "1m", "operator": ">=", "threshold": 2,
    }  # fmt: skip
    base.update(kw)
    return base


def test_nested_rule_round_trips() -> None:
    data = {
        "name": "breakdown",
        "condition": {
            "op": "or",
            "children": [
                _leaf(hysteresis=0.5),
                {"op": "and", "children": [
                    _leaf(metric="adf_pvalue", operator=">", threshold=0.1),
                    _leaf(metric="correlation", operator="crosses_below", threshold=0.5),
                ]},
            ],
        },
        "cooldown_seconds": 60,
        "webhooks": [{"kind": "custom", "url": "http://127.0.0.1:9/x", "secret": "s3"}],
    }  # fmt: skip
    rule = parse_rule(data)
    assert isinstance(rule.condition, Group) and rule.condition.op == "or"
    inner = rule.condition.children[1]
    assert isinstance(inner, Group) and inner.op == "and" and len(inner.children) == 2
    assert rule.webhooks == (Webhook("custom", "http://127.0.0.1:9/x", "s3"),)
    assert parse_rule(rule.to_dict()) == rule
    assert rule.to_dict(public=True)["webhooks"][0]["secret"] == "***"
    assert rule.metric_keys() == {
        "zscore:BTCUSDT/ETHUSDT:1m", "adf_pvalue:BTCUSDT/ETHUSDT:1m",
        "correlation:BTCUSDT/ETHUSDT:1m",
    }  # fmt: skip


def test_target_and_timeframe_are_normalised() -> None:
    rule = parse_rule({"name": "p", "condition": {"metric": "price", "target": "btcusdt",
                       "operator": "<", "threshold": 5}})  # fmt: skip
    assert rule.condition == Condition("price", "BTCUSDT", "<", 5.0, None, 0.0)
    assert rule.condition.key == metric_key("price", "BTCUSDT") == "price:BTCUSDT:tick"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"condition": _leaf()}, "name"),
        ({"name": "x"}, "condition"),
        ({"name": "x", "condition": _leaf(operator="=>")}, "condition.operator"),
        ({"name": "x", "condition": _leaf(metric="zscor")}, "condition.metric"),
        (
            {
                "name": "x",
                "condition": _leaf(target="BTCUSDT", metric="zscore", timeframe="1m", operator=">"),
            },
            "condition.metric",
        ),
        ({"name": "x", "condition": _leaf(threshold="high")}, "condition.threshold"),
        ({"name": "x", "condition": _leaf(threshold=float("nan"))}, "condition.threshold"),
        ({"name": "x", "condition": _leaf(hysteresis=-1)}, "condition.hysteresis"),
        ({"name": "x", "condition": _leaf(timeframe="1x")}, "condition.timeframe"),
        (
            {"name": "x", "condition": _leaf(metric="adf_pvalue", timeframe=None)},
            "condition.timeframe",
        ),
        ({"name": "x", "condition": _leaf(target="A/A")}, "condition.target"),
        ({"name": "x", "condition": {"op": "xor", "children": [_leaf()]}}, "condition.op"),
        ({"name": "x", "condition": {"op": "and", "children": []}}, "condition.children"),
        (
            {"name": "x", "condition": {"op": "and", "children": [_leaf(), _leaf(operator="!")]}},
            "condition.children[1].operator",
        ),
        ({"name": "x", "condition": _leaf(), "cooldown_seconds": -5}, "cooldown_seconds"),
        ({"name": "x", "condition": _leaf(), "enabled": "yes"}, "enabled"),
        (
            {"name": "x", "condition": _leaf(), "webhooks": [{"kind": "teams", "url": "http://a"}]},
            "webhooks[0].kind",
        ),
        (
            {"name": "x", "condition": _leaf(), "webhooks": [{"kind": "slack", "url": "ftp://a"}]},
            "webhooks[0].url",
        ),
    ],
)
def test_errors_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(AlertRuleError) as info:
        parse_rule(data)
    assert str(info.value).startswith(field + ":") or str(info.value).startswith(field)
    assert str(info.value).split(":")[0] == field


def test_misspelt_operator_suggests_the_right_one() -> None:
    with pytest.raises(AlertRuleError, match="did you mean 'crosses_above'"):
        parse_rule({"name": "x", "condition": _leaf(operator="crosses_abov")})


def test_not_an_object() -> None:
    with pytest.raises(AlertRuleError, match="rule: must be an object"):
        parse_rule([1, 2])
