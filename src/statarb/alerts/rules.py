"""Alert rules: a typed condition tree (AND/OR groups of threshold conditions) and its parser.

Pure: no I/O, no clock. Rules travel as JSON dicts (API, CLI, store) and are parsed here into frozen
dataclasses; :func:`parse_rule` raises :class:`~statarb.errors.AlertRuleError` naming the field at
fault (``condition.children[1].operator``), and ``Rule.to_dict()`` gives back the same JSON shape.

A condition watches one *metric key* ``"<metric>:<target>:<timeframe>"``, e.g.
``"zscore:BTCUSDT/ETHUSDT:1m"`` or ``"price:BTCUSDT:tick"``: the engine publishes live values under
the same keys (see :func:`metric_key`).

Examples
--------
>>> rule = parse_rule({
...     "name": "wide spread",
...     "condition": {"op": "and", "children": [
...         {"metric": "zscore", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
...          "operator": ">=", "threshold": 2.0, "hysteresis": 0.5},
...         {"metric": "adf_pvalue", "target": "BTCUSDT/ETHUSDT", "timeframe": "1m",
...          "operator": "<", "threshold": 0.05}]},
...     "cooldown_seconds": 300})
>>> sorted(rule.metric_keys())
['adf_pvalue:BTCUSDT/ETHUSDT:1m', 'zscore:BTCUSDT/ETHUSDT:1m']
"""

from __future__ import annotations

import difflib
import math
import re
import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

from statarb.alerts.policy import (
    DEFAULT_SEVERITY,
    MAX_DEDUP_SECONDS,
    QuietHours,
    Severity,
    condition_signature,
    parse_dedup_key,
    parse_digest_minutes,
    parse_quiet_hours,
    parse_severity,
)
from statarb.alerts.telegram import TelegramChat, parse_telegram
from statarb.errors import AlertRuleError, InputError
from statarb.model import Timeframe

Operator = Literal[">", ">=", "<", "<=", "crosses_above", "crosses_below"]
GroupOp = Literal["and", "or"]
WebhookKind = Literal["slack", "discord", "custom"]

OPERATORS: tuple[str, ...] = get_args(Operator)
WEBHOOK_KINDS: tuple[str, ...] = get_args(WebhookKind)

#: metrics of one symbol the engine publishes (per tick with timeframe "tick", else per bar)
SYMBOL_METRICS: frozenset[str] = frozenset(
    {"price", "volume", "trades", "notional", "return", "volatility", "vwap"}
)
#: metrics of a pair "A/B" the engine publishes (live spread/zscore per tick, the rest per bar)
PAIR_METRICS: frozenset[str] = frozenset(
    {
        "spread",
        "zscore",
        "correlation",
        "hedge_ratio",
        "hedge_ratio_drift",
        "intercept",
        "adf_stat",
        "adf_pvalue",
        "eg_pvalue",
        "half_life",
        "volatility",
        # breakdown metrics of the pairs in the book (per bar of the pair's timeframe)
        "eg_pvalue_rolling",
        "cusum",
        "reversion_cusum",
        "excursion",
        "beta_drift",
        "half_life_ratio",
        "return_correlation",
        "health",
        # the paper trader of a book pair (per bar of the pair's timeframe; paper_fill is 1 on
        # each fill, 0 otherwise)
        "paper_pnl",
        "paper_unrealised",
        "paper_fill",
    }
)
TICK = "tick"
_SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")
_MAX_DEPTH = 8
_MAX_LEAVES = 64
_MAX_ID = 2**63 - 1
_MAX_META_DEPTH = 32
_URL_RE = re.compile(r"https?://[^\s/]+(/\S*)?")
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80


def metric_key(metric: str, target: str, timeframe: str | None = None) -> str:
    """The key under which the engine publishes ``metric`` of ``target`` at ``timeframe``.

    ``timeframe=None`` means the per-tick value (``"tick"``).
    """
    return f"{metric}:{target}:{timeframe or TICK}"


@dataclass(frozen=True, slots=True)
class Condition:
    """``metric(target, timeframe) <operator> threshold``.

    Attributes
    ----------
    metric
        A live metric name (see :data:`SYMBOL_METRICS` and :data:`PAIR_METRICS`).
    target
        A symbol ``"BTCUSDT"`` or a pair ``"BTCUSDT/ETHUSDT"`` (upper case).
    operator
        ``>``, ``>=``, ``<``, ``<=``: true while the comparison holds; ``crosses_above``:
        true on the one update where ``previous < threshold <= current``; ``crosses_below``:
        ``previous > threshold >= current``.
    threshold
        The level compared against.
    timeframe
        Bar interval the metric is computed on, or ``None`` for the per-tick value.
    hysteresis
        Non-negative band: once true, the condition stays true until the value leaves the band
        on the other side (``<= threshold - hysteresis`` for ``>``/``>=``); a cross re-arms only
        after the value went back past ``threshold -/+ hysteresis``.
    """

    metric: str
    target: str
    operator: Operator
    threshold: float
    timeframe: str | None = None
    hysteresis: float = 0.0

    @property
    def key(self) -> str:
        """The metric key this condition reads."""
        return metric_key(self.metric, self.target, self.timeframe)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the shape :func:`parse_condition` reads)."""
        return {
            "metric": self.metric,
            "target": self.target,
            "timeframe": self.timeframe,
            "operator": self.operator,
            "threshold": self.threshold,
            "hysteresis": self.hysteresis,
        }

    def summary(self) -> str:
        """E.g. ``zscore(BTCUSDT/ETHUSDT, 1m) >= 2``."""
        return (
            f"{self.metric}({self.target}, {self.timeframe or TICK}) {self.operator} "
            f"{self.threshold:g}"
        )


@dataclass(frozen=True, slots=True)
class Group:
    """All (``and``) or any (``or``) of its children."""

    op: GroupOp
    children: tuple[Node, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"op": self.op, "children": [c.to_dict() for c in self.children]}

    def summary(self) -> str:
        """Children joined by the operator, in parentheses."""
        return "(" + f" {self.op.upper()} ".join(c.summary() for c in self.children) + ")"


Node: TypeAlias = Condition | Group


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a trigger goes: Slack, Discord or any HTTP endpoint (signed with ``secret``)."""

    kind: WebhookKind
    url: str
    secret: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the secret included: this is the stored form)."""
        return {"kind": self.kind, "url": self.url, "secret": self.secret}

    def public_dict(self, *, reveal_url: bool = False) -> dict[str, Any]:
        """Like :meth:`to_dict` with the secret masked, for display.

        The URL is masked too unless ``reveal_url``: Slack and Discord webhook URLs are the
        credential themselves.
        """
        from statarb.masking import mask_webhook_url

        url = self.url if reveal_url else mask_webhook_url(self.url)
        return {"kind": self.kind, "url": url, "secret": "***" if self.secret else None}


@dataclass(frozen=True, slots=True)
class Rule:
    """A named alert rule.

    Attributes
    ----------
    name
        Free text shown in notifications.
    condition
        A :class:`Condition` or a nested :class:`Group`.
    cooldown_seconds
        Minimum time between two triggers of this rule; a trigger suppressed by the cooldown is
        delivered at the first evaluation after it ends if the condition still holds.
    enabled
        Disabled rules are kept but never evaluated.
    webhooks
        Delivery targets besides the ``alerts`` WebSocket topic.
    id
        Store id, ``None`` before the rule is saved.
    severity
        ``info``, ``warning`` or ``critical``: shown in the history and in every message.
    dedup_seconds
        Triggers of rules sharing a dedup key within this window go out as one message naming
        every pair (0: each trigger is sent at once).
    dedup_key
        The group of the rule for deduplication; by default its condition without targets.
    quiet_hours
        A daily window during which notifications are held and sent as one summary at its end.
    digest_minutes
        Notifications go out as one message per this many minutes (0: no digest).
    telegram
        Telegram chats notified besides the webhooks.
    """

    name: str
    condition: Node
    cooldown_seconds: float = 0.0
    enabled: bool = True
    webhooks: tuple[Webhook, ...] = ()
    id: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = DEFAULT_SEVERITY
    dedup_seconds: float = 0.0
    dedup_key: str | None = None
    quiet_hours: QuietHours | None = None
    digest_minutes: int = 0
    telegram: tuple[TelegramChat, ...] = ()

    @property
    def group(self) -> str:
        """The dedup key in force: :attr:`dedup_key`, else the condition without targets."""
        return self.dedup_key or condition_signature(self.condition.to_dict())

    def targets(self) -> list[str]:
        """The symbols and pairs the rule watches, sorted."""
        return sorted({c.target for c in self.conditions()})

    def conditions(self) -> Iterator[Condition]:
        """Every leaf condition, depth first."""
        yield from _leaves(self.condition)

    def metric_keys(self) -> set[str]:
        """The metric keys the rule reads."""
        return {c.key for c in self.conditions()}

    def to_dict(self, *, public: bool = False, reveal_urls: bool = False) -> dict[str, Any]:
        """JSON-ready dict (the shape :func:`parse_rule` reads).

        ``public`` masks webhook secrets and URLs and Telegram chats (``reveal_urls`` keeps the
        URLs and the chats, for callers holding the API token).
        """
        out: dict[str, Any] = {
            "name": self.name,
            "condition": self.condition.to_dict(),
            "cooldown_seconds": self.cooldown_seconds,
            "enabled": self.enabled,
            "webhooks": [
                w.public_dict(reveal_url=reveal_urls) if public else w.to_dict()
                for w in self.webhooks
            ],
            "metadata": dict(self.metadata),
            "severity": self.severity,
            "dedup_seconds": self.dedup_seconds,
            "dedup_key": self.dedup_key,
            "quiet_hours": None if self.quiet_hours is None else self.quiet_hours.to_dict(),
            "digest_minutes": self.digest_minutes,
            "telegram": [
                t.public_dict(reveal=reveal_urls) if public else t.to_dict() for t in self.telegram
            ],
        }
        if self.id is not None:
            out["id"] = self.id
        return out

    def summary(self) -> str:
        """One line: name and condition."""
        return f"{self.name}: {self.condition.summary()}"


def _leaves(node: Node) -> Iterator[Condition]:
    if isinstance(node, Condition):
        yield node
    else:
        for child in node.children:
            yield from _leaves(child)


# -- parsing ---------------------------------------------------------------------------------
def _show(value: Any) -> str:
    """A short repr of a bad value for messages (safe for huge numbers and deep nesting)."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # an int of more than 4300 digits
        return f"<{type(value).__name__}>"


def _utf8(text: str, where: str) -> str:
    """``text`` if it can be stored (UTF-8 encodable: no lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise AlertRuleError(f"{where}: text is not valid Unicode (lone surrogate)") from None
    return text


def _need(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise AlertRuleError(f"{where}{key}: required field is missing")
    return data[key]


def _number(value: Any, where: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlertRuleError(f"{where}: must be a number, got {_show(value)}")
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        out = math.inf
    if not math.isfinite(out):
        raise AlertRuleError(f"{where}: must be finite, got {_show(value)}")
    if minimum is not None and out < minimum:
        raise AlertRuleError(f"{where}: must be >= {minimum:g}, got {_show(value)}")
    return out


def _choice(value: Any, options: tuple[str, ...] | frozenset[str], where: str) -> str:
    if not isinstance(value, str) or value not in options:
        text = value if isinstance(value, str) else ""
        near = difflib.get_close_matches(text, sorted(options), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise AlertRuleError(f"{where}: {_show(value)} is not one of {sorted(options)}{hint}")
    return value


def _target(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise AlertRuleError(f"{where}: must be a symbol or a pair 'A/B', got {_show(value)}")
    parts = [p.strip().upper() for p in value.split("/")] if value.isascii() else []
    if not 1 <= len(parts) <= 2 or not all(_SYMBOL_RE.fullmatch(p) for p in parts):
        raise AlertRuleError(f"{where}: {_show(value)} is not a symbol (BTCUSDT) or a pair (A/B)")
    if len(parts) == 2 and parts[0] == parts[1]:
        raise AlertRuleError(f"{where}: a pair needs two different symbols, got {_show(value)}")
    return "/".join(parts)


def _timeframe(value: Any, where: str) -> str | None:
    if value is None or value == TICK:
        return None
    if not isinstance(value, str):
        raise AlertRuleError(f"{where}: must be text such as '1m' or 'tick', got {_show(value)}")
    try:
        return Timeframe.parse(value).name
    except InputError as exc:
        raise AlertRuleError(f"{where}: {exc}") from exc


def parse_condition(data: Any, where: str = "condition") -> Node:
    """Parse a condition or a group from its JSON dict.

    Raises
    ------
    AlertRuleError
        The message starts with the path of the bad field, e.g. ``condition.children[0].metric``.
    """
    return _parse_node(data, where, depth=0)


def _parse_node(data: Any, where: str, depth: int) -> Node:
    if not isinstance(data, Mapping):
        raise AlertRuleError(f"{where}: must be an object, got {type(data).__name__}")
    if depth > _MAX_DEPTH:
        raise AlertRuleError(f"{where}: groups nest deeper than {_MAX_DEPTH} levels")
    if "children" in data or "op" in data:
        op = _choice(_need(data, "op", f"{where}."), ("and", "or"), f"{where}.op")
        children = _need(data, "children", f"{where}.")
        if not isinstance(children, list) or not children:
            raise AlertRuleError(f"{where}.children: must be a non-empty list")
        parsed = tuple(
            _parse_node(c, f"{where}.children[{i}]", depth + 1) for i, c in enumerate(children)
        )
        return Group(op, parsed)  # type: ignore[arg-type]
    return _parse_leaf(data, where)


def _parse_leaf(data: Mapping[str, Any], where: str) -> Condition:
    target = _target(_need(data, "target", f"{where}."), f"{where}.target")
    allowed = PAIR_METRICS if "/" in target else SYMBOL_METRICS
    metric = _choice(_need(data, "metric", f"{where}."), allowed, f"{where}.metric")
    operator = _choice(_need(data, "operator", f"{where}."), OPERATORS, f"{where}.operator")
    threshold = _number(_need(data, "threshold", f"{where}."), f"{where}.threshold")
    hyst = _number(data.get("hysteresis") or 0.0, f"{where}.hysteresis", minimum=0.0)
    tf = _timeframe(data.get("timeframe"), f"{where}.timeframe")
    if tf is None and metric not in {"price", "spread", "zscore"}:
        raise AlertRuleError(
            f"{where}.timeframe: metric {metric!r} is computed per bar; give a timeframe "
            "such as '1m' (only price, spread and zscore have per-tick values)"
        )
    return Condition(metric, target, operator, threshold, tf, hyst)  # type: ignore[arg-type]


def parse_webhook(data: Any, where: str = "webhooks[0]") -> Webhook:
    """Parse one webhook ``{"kind": "slack"|"discord"|"custom", "url": ..., "secret": ...}``."""
    if not isinstance(data, Mapping):
        raise AlertRuleError(f"{where}: must be an object, got {type(data).__name__}")
    kind = _choice(_need(data, "kind", f"{where}."), WEBHOOK_KINDS, f"{where}.kind")
    url = _need(data, "url", f"{where}.")
    if not isinstance(url, str) or not _URL_RE.fullmatch(url) or not url.isprintable():
        raise AlertRuleError(f"{where}.url: must be an http(s) URL, got {_show(url)}")
    secret = data.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise AlertRuleError(f"{where}.secret: must be a non-empty string or null")
    if secret is not None:
        _utf8(secret, f"{where}.secret")
    return Webhook(kind, url, secret)  # type: ignore[arg-type]


def parse_rule(data: Any) -> Rule:
    """Parse a rule from its JSON dict (as stored, posted to the API or given to the CLI).

    Raises
    ------
    AlertRuleError
        Naming the field at fault.
    """
    if not isinstance(data, Mapping):
        raise AlertRuleError(f"rule: must be an object, got {type(data).__name__}")
    name = _need(data, "name", "")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise AlertRuleError(
            f"name: must be a non-empty string of at most 200 chars, got {_show(name)}"
        )
    _utf8(name, "name")
    condition = parse_condition(_need(data, "condition", ""))
    leaves = sum(1 for _ in _leaves(condition))
    if leaves > _MAX_LEAVES:
        raise AlertRuleError(f"condition: {leaves} conditions, at most {_MAX_LEAVES} allowed")
    cooldown = _number(data.get("cooldown_seconds", 0.0), "cooldown_seconds", minimum=0.0)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise AlertRuleError(f"enabled: must be true or false, got {_show(enabled)}")
    hooks = data.get("webhooks") or []
    if not isinstance(hooks, list):
        raise AlertRuleError("webhooks: must be a list")
    webhooks = tuple(parse_webhook(h, f"webhooks[{i}]") for i, h in enumerate(hooks))
    rid = data.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int)
                            or not 1 <= rid <= _MAX_ID):  # fmt: skip
        raise AlertRuleError(f"id: must be an integer from 1 to 2**63-1, got {_show(rid)}")
    meta = data.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise AlertRuleError("metadata: must be an object")
    _check_json(meta, "metadata", 0)
    chats = data.get("telegram") or []
    if not isinstance(chats, list) or len(chats) > 20:
        raise AlertRuleError("telegram: must be a list of at most 20 chats")
    dedup = _number(data.get("dedup_seconds") or 0.0, "dedup_seconds", minimum=0.0)
    if dedup > MAX_DEDUP_SECONDS:
        raise AlertRuleError(f"dedup_seconds: must be at most {MAX_DEDUP_SECONDS:g}, got {dedup:g}")
    return Rule(
        name.strip(), condition, cooldown, enabled, webhooks, rid, dict(meta),
        severity=parse_severity(data.get("severity")),
        dedup_seconds=dedup,
        dedup_key=parse_dedup_key(data.get("dedup_key")),
        quiet_hours=parse_quiet_hours(data.get("quiet_hours")),
        digest_minutes=parse_digest_minutes(data.get("digest_minutes")),
        telegram=tuple(parse_telegram(t, f"telegram[{i}]") for i, t in enumerate(chats)),
    )  # fmt: skip


def _check_json(value: Any, where: str, depth: int) -> None:
    """Raise unless ``value`` is JSON the stores keep as it is (finite, 64-bit, str keys)."""
    if depth > _MAX_META_DEPTH:
        raise AlertRuleError(f"{where}: nested deeper than {_MAX_META_DEPTH} levels")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise AlertRuleError(f"{where}: keys must be strings, got {_show(k)}")
            _check_json(v, f"{where}.{_utf8(k, where)}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise AlertRuleError(f"{where}: must be a finite number, got {value!r}")
    elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        raise AlertRuleError(f"{where}: integer out of the 64-bit range")
    elif isinstance(value, str):
        _utf8(value, where)
    elif value is not None and not isinstance(value, int | float):
        raise AlertRuleError(f"{where}: {type(value).__name__} is not a JSON value")


__all__ = [
    "OPERATORS",
    "PAIR_METRICS",
    "SYMBOL_METRICS",
    "TICK",
    "WEBHOOK_KINDS",
    "Condition",
    "Group",
    "GroupOp",
    "Node",
    "Operator",
    "Rule",
    "Webhook",
    "WebhookKind",
    "metric_key",
    "parse_condition",
    "parse_rule",
    "parse_webhook",
]
