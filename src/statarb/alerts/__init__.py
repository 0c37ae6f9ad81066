"""Alert rules (typed AND/OR trees), their edge-triggered evaluation and webhook delivery.

``rules`` and ``evaluator`` are pure; ``notify`` is the I/O edge (imported on demand).
"""

from statarb.alerts.evaluator import AlertEvaluator, Trigger
from statarb.alerts.rules import (
    Condition,
    Group,
    Rule,
    Webhook,
    metric_key,
    parse_condition,
    parse_rule,
    parse_webhook,
)

__all__ = [
    "AlertEvaluator",
    "Condition",
    "Group",
    "Rule",
    "Trigger",
    "Webhook",
    "metric_key",
    "parse_condition",
    "parse_rule",
    "parse_webhook",
]
