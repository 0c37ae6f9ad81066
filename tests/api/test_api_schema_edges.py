"""Schemathesis over the whole schema with edge values: times across every range and scale,
large integers and extreme numbers. No generated request may get a server error (5xx).

Hooks of this schema instance replace generated query and path values:
- time parameters (``start``/``end``: their description names ISO-8601) get epoch numbers of
  every magnitude and unit (s, ms, µs, ns), negatives, floats such as ``1e30``, ``inf`` and
  ``nan``, ISO-8601 text over years 1..9999 with and without offsets, and ``start > end``;
- integer parameters (query and path), and the integers of JSON bodies, get values far beyond
  int64 and the edges of 32/53/64 bits;
- number parameters get ±1e308, subnormals, infinities and NaN.

``STATARB_SCHEMA_EDGE_EXAMPLES`` sets the examples per operation (default 6, a few seconds);
a larger run prints its case count.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

import schemathesis
from api_helpers import AUTH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("STATARB_SCHEMA_EDGE_EXAMPLES", "6"))

_UNITS = (1, 1_000, 1_000_000, 1_000_000_000)  # epoch s, ms, µs, ns
_EDGE_INTS = (0, -1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1,
              10**30, -(10**30))  # fmt: skip


def _iso() -> st.SearchStrategy[str]:
    zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=14)),
                             dt.timezone(dt.timedelta(hours=-12, minutes=-30))])  # fmt: skip
    aware = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                         timezones=zones)  # fmt: skip
    return st.one_of(
        aware.map(lambda d: d.isoformat().replace("+00:00", "Z")),
        st.datetimes().map(lambda d: d.isoformat()),  # naive: refused, never guessed
        st.dates().map(lambda d: d.isoformat()),
    )


def time_values() -> st.SearchStrategy[str]:
    """Time query values across the whole range, every unit and form."""
    scaled = st.builds(lambda s, u: str(s * u), st.integers(-(10**10), 10**11),
                       st.sampled_from(_UNITS))  # fmt: skip
    return st.one_of(
        scaled,
        st.integers(-(10**40), 10**40).map(str),
        st.sampled_from([str(v) for v in _EDGE_INTS]),
        st.floats().map(repr),  # 1e+30, inf, nan, -0.0, 5e-324
        st.sampled_from(["1e30", "-1e30", "1e308", "1e309", "1.5e18", "-0", "0.5", "true"]),
        _iso(),
    )


def big_ints() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(-(2**80), 2**80).map(str),
                     st.sampled_from([str(v) for v in _EDGE_INTS]))  # fmt: skip


def extreme_numbers() -> st.SearchStrategy[str]:
    return st.one_of(st.floats().map(repr),
                     st.sampled_from(["1e308", "-1e308", "1e309", "5e-324", "-0.0"]))  # fmt: skip


def _kind(param: dict[str, Any]) -> str | None:
    if "ISO-8601" in param.get("description", ""):
        return "time"
    schema = param.get("schema", {})
    types = {schema.get("type"), *(a.get("type") for a in schema.get("anyOf", []))}
    if "integer" in types:
        return "integer"
    if "number" in types:
        return "number"
    return None


_EDGES = {"time": time_values(), "integer": big_ints(), "number": extreme_numbers()}
_REVERSED_RANGE = st.tuples(st.integers(0, 4 * 10**15), st.integers(1, 10**15)).map(
    lambda t: {"start": str(t[0] + t[1]), "end": str(t[0])}
)


@functools.cache
def _draws(kinds: tuple[tuple[str, str], ...]) -> st.SearchStrategy[dict[str, str | None]]:
    """Per parameter: ``None`` (keep the generated value) or an edge value of its kind."""
    draws = st.fixed_dictionaries({n: st.one_of(st.just(None), _EDGES[k]) for n, k in kinds})
    if {"start", "end"} <= {n for n, _ in kinds}:
        return st.one_of(draws, _REVERSED_RANGE)
    return draws


def _edge_values(
    ctx: Any, values: dict[str, Any] | None, where: str, used: list[int]
) -> st.SearchStrategy[Any]:
    """``values`` with each time/integer/number parameter kept or replaced by an edge value
    (``used[0]`` counts the replacements drawn)."""
    params = [p.definition for p in getattr(ctx.operation, where)]
    kinds = tuple((p["name"], k) for p in params if (k := _kind(p)))
    if not kinds:
        return st.just(values)
    base = dict(values or {})

    def merge(new: dict[str, str | None]) -> dict[str, Any]:
        new = {n: v for n, v in new.items() if v is not None}
        used[0] += len(new)
        return {**base, **new}

    return _draws(kinds).map(merge)


def _int_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to the integers (not booleans) inside a JSON value."""
    if isinstance(value, dict):
        return [q for k, v in value.items() for q in _int_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [q for i, v in enumerate(value) for q in _int_leaves(v, (*path, i))]
    return [path] if isinstance(value, int) and not isinstance(value, bool) else []


def _replaced(value: Any, path: tuple[Any, ...], new: int) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    return [_replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]


@functools.cache
def _body_draws(n: int) -> st.SearchStrategy[list[int | None]]:
    big = st.one_of(st.integers(-(2**80), 2**80), st.sampled_from(_EDGE_INTS))
    return st.lists(st.one_of(st.just(None), big), min_size=n, max_size=n)


def _edge_body(body: Any, used: list[int]) -> st.SearchStrategy[Any]:
    """A JSON body with each of its integers kept or replaced by a large one."""
    leaves = _int_leaves(body)
    if not leaves:
        return st.just(body)
    draws = _body_draws(len(leaves))

    def apply(new: list[int | None]) -> Any:
        out = body
        for path, v in zip(leaves, new, strict=True):
            if v is not None:
                out = _replaced(out, path, v)
                used[0] += 1
        return out

    return draws.map(apply)


def edge_schema(url: str, used: list[int]) -> Any:
    """The schema at ``url`` with hooks drawing edge values (counted in ``used[0]``)."""
    schema = schemathesis.openapi.from_url(url + "/openapi.json")

    @schema.hook("flatmap_query")
    def flatmap_query(ctx: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        return _edge_values(ctx, query, "query", used)

    @schema.hook("flatmap_path_parameters")
    def flatmap_path(ctx: Any, path: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        return _edge_values(ctx, path, "path_parameters", used)

    @schema.hook("flatmap_body")
    def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
        return _edge_body(body, used)

    return schema


def test_no_server_errors_on_edge_values(live_url: str) -> None:
    used = [0]
    schema = edge_schema(live_url, used)
    failures: list[str] = []
    seen: dict[str, int] = {"cases": 0, "time": 0}
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 15

    def call(case: Any) -> None:
        seen["cases"] += 1
        seen["time"] += bool({"start", "end"} & set(case.query or {}))
        response = case.call(base_url=live_url, headers=AUTH, timeout=30)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query}: "
                            f"{response.status_code} {response.text[:200]}")  # fmt: skip

    for op in operations:

        def check(case: Any) -> None:  # a new function per operation: one settings each
            call(case)

        given(case=op.as_strategy())(
            settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))(check)
        )()  # fmt: skip
    print(f"schemathesis edge run: {seen['cases']} cases ({seen['time']} with a time "
          f"parameter, {used[0]} edge values drawn), {len(failures)} with a 5xx")  # fmt: skip
    assert used[0] >= seen["cases"] // 4  # the hooks were applied
    assert not failures, "\n".join(failures[:20])
